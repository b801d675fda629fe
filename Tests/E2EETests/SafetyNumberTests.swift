import Testing
@testable import E2EE

// Known answers from scripts/gen_safety_vectors.py (an independent hashlib
// implementation), plus libsignal's own published fingerprint vector.

@Suite("Safety numbers")
struct SafetyNumberTests {
    struct File: Decodable {
        struct V: Decodable {
            let name, local_key, local_id, remote_key, remote_id, digits, local_half, remote_half: String
        }
        struct Libsignal: Decodable {
            let local_key_encoded, local_id, remote_key_encoded, remote_id, digits: String
        }
        let vectors: [V]
        let libsignal: Libsignal
    }

    static func identity(_ seed: UInt8) throws -> IdentityKey.PublicKey {
        try IdentityKey.PrivateKey(seed: pattern(32, seed: seed)).publicKey
    }

    static func isDigits(_ s: String) -> Bool {
        s.utf8.allSatisfy { (0x30...0x39).contains($0) }
    }

    @Test func vectorsFromBothSides() throws {
        let file = try loadVectors("safety_numbers.json", as: File.self)
        #expect(file.vectors.count >= 4)
        for v in file.vectors {
            let lk = try IdentityKey.PublicKey(rawRepresentation: hex(v.local_key))
            let rk = try IdentityKey.PublicKey(rawRepresentation: hex(v.remote_key))
            let (lid, rid) = (hex(v.local_id), hex(v.remote_id))

            let ours = SafetyNumber(localIdentity: lk, localStableID: lid, remoteIdentity: rk, remoteStableID: rid)
            let theirs = SafetyNumber(localIdentity: rk, localStableID: rid, remoteIdentity: lk, remoteStableID: lid)
            #expect(ours.digits == v.digits, "\(v.name)")
            #expect(theirs.digits == v.digits, "\(v.name), remote side")
            #expect(ours == theirs, "\(v.name)")

            let lh = SafetyNumber.displayHalf(SafetyNumber.fingerprint(encodedKey: lk.encoded, stableID: lid))
            let rh = SafetyNumber.displayHalf(SafetyNumber.fingerprint(encodedKey: rk.encoded, stableID: rid))
            #expect(lh == v.local_half, "\(v.name)")
            #expect(rh == v.remote_half, "\(v.name)")
        }
    }

    /// libsignal rust/protocol/src/fingerprint.rs `fingerprint_test_v1`: pins the
    /// byte layout and the count of 5200 hashes (the first one included).
    @Test func libsignalPublishedVector() throws {
        let v = try loadVectors("safety_numbers.json", as: File.self).libsignal
        let local = SafetyNumber.displayHalf(
            SafetyNumber.fingerprint(encodedKey: hex(v.local_key_encoded), stableID: hex(v.local_id)))
        let remote = SafetyNumber.displayHalf(
            SafetyNumber.fingerprint(encodedKey: hex(v.remote_key_encoded), stableID: hex(v.remote_id)))
        #expect(SafetyNumber(half: local, otherHalf: remote).digits == v.digits)
        #expect(SafetyNumber(half: remote, otherHalf: local).digits == v.digits)

        // One hash more or fewer gives something else.
        for n in [SafetyNumber.iterations - 1, SafetyNumber.iterations + 1] {
            let off = SafetyNumber.displayHalf(
                SafetyNumber.fingerprint(encodedKey: hex(v.local_key_encoded), stableID: hex(v.local_id), iterations: n))
            #expect(off != local, "\(n) iterations")
        }
    }

    @Test func sameFromBothSidesAndWellFormed() throws {
        let a = try Self.identity(1), b = try Self.identity(2)
        let aID = Array("@alice:example.org".utf8), bID = Array("@bob:example.org".utf8)
        let fromA = SafetyNumber(localIdentity: a, localStableID: aID, remoteIdentity: b, remoteStableID: bID)
        let fromB = SafetyNumber(localIdentity: b, localStableID: bID, remoteIdentity: a, remoteStableID: aID)
        #expect(fromA == fromB)
        #expect(fromA.digits == fromB.digits)
        #expect(fromA.description == fromB.description)

        #expect(fromA.digits.utf8.count == 60)
        #expect(Self.isDigits(fromA.digits))
        let groups = fromA.displayGroups
        #expect(groups.count == 12)
        #expect(groups.allSatisfy { $0.utf8.count == 5 && Self.isDigits($0) })
        #expect(groups.joined() == fromA.digits)
        #expect(fromA.description == groups.joined(separator: " "))
        #expect(fromA.description.utf8.count == 71)
    }

    @Test func oneKeyBitChangesTheNumber() throws {
        let a = try Self.identity(3), b = try Self.identity(4)
        let id = Array("user".utf8), other = Array("peer".utf8)
        let base = SafetyNumber(localIdentity: a, localStableID: id, remoteIdentity: b, remoteStableID: other)
        let raw = a.rawRepresentation

        // A flipped bit that is still a valid identity key.
        var validFlips = 0
        for bit in 0..<(raw.count * 8) where validFlips < 3 {
            var flipped = raw
            flipped[bit / 8] ^= 1 << UInt8(bit % 8)
            guard let key = try? IdentityKey.PublicKey(rawRepresentation: flipped) else { continue }
            validFlips += 1
            let changed = SafetyNumber(localIdentity: key, localStableID: id, remoteIdentity: b, remoteStableID: other)
            #expect(changed != base, "bit \(bit)")
        }
        #expect(validFlips > 0, "no single-bit neighbour of the key is a valid point")

        // Any bit, whether or not the result would pass validation, on either side.
        for bit in [0, 7, 128, 255] {
            var flipped = raw
            flipped[bit / 8] ^= 1 << UInt8(bit % 8)
            let key = IdentityKey.PublicKey(trusted: flipped)
            #expect(SafetyNumber(localIdentity: key, localStableID: id, remoteIdentity: b, remoteStableID: other) != base,
                    "local bit \(bit)")
            #expect(SafetyNumber(localIdentity: b, localStableID: other, remoteIdentity: key, remoteStableID: id) != base,
                    "remote bit \(bit)")
        }
    }

    @Test func oneIDByteChangesTheNumber() throws {
        let a = try Self.identity(5), b = try Self.identity(6)
        let id = Array("+14152222222".utf8), other = Array("+14153333333".utf8)
        let base = SafetyNumber(localIdentity: a, localStableID: id, remoteIdentity: b, remoteStableID: other)
        let otherHalf = SafetyNumber.displayHalf(SafetyNumber.fingerprint(encodedKey: b.encoded, stableID: other))

        var variants = [[UInt8]]()
        for i in [0, id.count / 2, id.count - 1] {
            var changed = id
            changed[i] ^= 0x01
            variants.append(changed)
        }
        variants.append(id + [0])             // one byte longer
        variants.append(Array(id.dropLast())) // one byte shorter
        for changed in variants {
            let n = SafetyNumber(localIdentity: a, localStableID: changed, remoteIdentity: b, remoteStableID: other)
            #expect(n != base, "\(hexString(changed))")
            // Only the changed party's half moves.
            #expect(n.digits.contains(otherHalf))
        }

        // Swapping which ID goes with which key is a different number too.
        #expect(SafetyNumber(localIdentity: a, localStableID: other, remoteIdentity: b, remoteStableID: id) != base)
        // An empty ID differs from a single zero byte.
        #expect(SafetyNumber(localIdentity: a, localStableID: [], remoteIdentity: b, remoteStableID: other)
                != SafetyNumber(localIdentity: a, localStableID: [0], remoteIdentity: b, remoteStableID: other))
    }

    @Test func halfDigitsAreZeroPaddedBigEndianModulo() {
        // 0x00_0000_0000 → 00000; 0xFF_FFFF_FFFF = 1099511627775 → 27775;
        // 0x00_0001_86A0 = 100000 → 00000; 0x00_0001_869F = 99999 → 99999;
        // 0x00_0000_0007 → 00007; 0x01_0000_0000 = 4294967296 → 67296.
        let bytes: [UInt8] = [0, 0, 0, 0, 0,
                              0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                              0, 0, 0x01, 0x86, 0xA0,
                              0, 0, 0x01, 0x86, 0x9F,
                              0, 0, 0, 0, 7,
                              0x01, 0, 0, 0, 0] + [UInt8](repeating: 0xAA, count: 34)
        #expect(SafetyNumber.displayHalf(bytes) == "000002777500000999990000767296")
    }
}
