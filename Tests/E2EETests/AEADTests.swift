import Dispatch
import Testing
@testable import E2EE

@Suite("AEAD_v1 behaviour")
struct AEADTests {
    let k: MessageKey
    let ad = pattern(106, seed: 9)

    init() throws {
        k = try key(pattern(32, seed: 1))
    }

    @Test(arguments: [0, 1, 15, 16, 17, 100, 4096, 65536])
    func roundTrip(size: Int) throws {
        let pt = pattern(size, seed: 4)
        let sealed = try AEADv1.seal(pt, using: k, authenticating: ad)
        #expect(sealed.count == size + AEADv1.overhead)
        #expect(try AEADv1.open(sealed, using: k, authenticating: ad) == pt)
    }

    @Test func everyBitFlipIsRejected() throws {
        let pt = pattern(33, seed: 2)
        let sealed = try AEADv1.seal(pt, using: k, authenticating: ad)
        // Guard, ciphertext and tag: every bit of the sealed message.
        for bit in 0..<(sealed.count * 8) {
            var bad = sealed
            bad[bit / 8] ^= UInt8(1 << (bit % 8))
            #expect(throws: CryptoError.authenticationFailure, "sealed bit \(bit)") {
                try AEADv1.open(bad, using: k, authenticating: ad)
            }
        }
        for bit in 0..<(ad.count * 8) {
            var badAD = ad
            badAD[bit / 8] ^= UInt8(1 << (bit % 8))
            #expect(throws: CryptoError.authenticationFailure, "AD bit \(bit)") {
                try AEADv1.open(sealed, using: k, authenticating: badAD)
            }
        }
    }

    @Test func wrongKeyTruncationAndExtension() throws {
        let sealed = try AEADv1.seal(pattern(50, seed: 3), using: k, authenticating: ad)
        let other = try key(pattern(32, seed: 2))
        #expect(throws: CryptoError.authenticationFailure) { try AEADv1.open(sealed, using: other, authenticating: ad) }
        for n in [0, 1, 4, 19, sealed.count - 1] {
            #expect(throws: CryptoError.authenticationFailure, "truncated to \(n)") {
                try AEADv1.open(Array(sealed.prefix(n)), using: k, authenticating: ad)
            }
        }
        #expect(throws: CryptoError.authenticationFailure) {
            try AEADv1.open(sealed + [0], using: k, authenticating: ad)
        }
        #expect(throws: CryptoError.authenticationFailure) {
            try AEADv1.open(sealed, using: k, authenticating: ad.dropLast())
        }
    }

    @Test func guardsAreRandomAndFixedGuardsAreHonoured() throws {
        var guards = Set<[UInt8]>()
        for _ in 0..<200 {
            let sealed = try AEADv1.seal([1, 2, 3], using: k, authenticating: [])
            guards.insert(Array(sealed.prefix(4)))
        }
        // 200 draws from 2^32: a collision is a ~5e-6 event; many would mean a broken pool.
        #expect(guards.count >= 199)
        let fixed = try AEADv1.seal([1, 2, 3], using: k, authenticating: [], reuseGuard: [9, 8, 7, 6])
        #expect(Array(fixed.prefix(4)) == [9, 8, 7, 6])
        #expect(throws: CryptoError.invalidLength(expected: 4, got: 3)) {
            try AEADv1.seal([1], using: k, authenticating: [], reuseGuard: [1, 2, 3])
        }
    }

    @Test func keysMustBe32Bytes() {
        for n in [0, 16, 31, 33, 64] {
            #expect(throws: CryptoError.invalidLength(expected: 32, got: n)) {
                try MessageKey(rawRepresentation: [UInt8](repeating: 1, count: n))
            }
        }
    }
}

@Suite("AEAD_v1 batches")
struct AEADBatchTests {
    static let sizes = [0, 1, 15, 16, 17, 100, 4096, 65536]

    /// Items of every size, twice over, each with its own key, AD and guard.
    func makeItems() throws -> (plain: [[UInt8]], items: [AEADv1.BatchItem]) {
        var plain = [[UInt8]](), items = [AEADv1.BatchItem]()
        for (i, size) in (Self.sizes + Self.sizes).enumerated() {
            let pt = pattern(size, seed: UInt8(i))
            plain.append(pt)
            items.append(AEADv1.BatchItem(input: pt, key: try key(pattern(32, seed: UInt8(100 + i))),
                                          associatedData: pattern(i * 7, seed: UInt8(i)),
                                          reuseGuard: [UInt8(i), 1, 2, 3]))
        }
        return (plain, items)
    }

    /// Five items on four workers: chunks of two leave the last worker nothing,
    /// which once made an empty range with its bounds reversed (a trap).
    @Test func moreWorkersThanChunks() throws {
        let (plain, all) = try makeItems()
        let items = Array(all.prefix(5))
        let sealed = AEADv1.sealBatch(items, parallelism: .threads(4))
        #expect(sealed.failureCount == 0)
        let opened = AEADv1.openBatch(items.indices.map {
            AEADv1.BatchItem(input: (try? Array(sealed[$0].get())) ?? [], key: items[$0].key,
                             associatedData: items[$0].associatedData)
        }, parallelism: .threads(4))
        #expect((0..<5).map { try? Array(opened[$0].get()) } == Array(plain.prefix(5)))
        var g = try makeGroup(2)
        let backlog = try (0..<5).map { try g[0].encrypt([UInt8($0)]) }
        let results = g[1].decryptBacklog(backlog, from: member(0), parallelism: .threads(4))
        #expect(results.map { try? $0.get() } == (0..<5).map { [UInt8($0)] })
    }

    @Test(arguments: [AEADv1.Parallelism.serial, .automatic, .threads(3)])
    func sealBatchEqualsSingleSeal(parallelism: AEADv1.Parallelism) throws {
        let (plain, items) = try makeItems()
        let batch = AEADv1.sealBatch(items, parallelism: parallelism)
        #expect(batch.count == items.count)
        #expect(batch.failureCount == 0)
        for (i, item) in items.enumerated() {
            let single = try AEADv1.seal(plain[i], using: item.key, authenticating: item.associatedData,
                                         reuseGuard: item.reuseGuard)
            #expect(try Array(batch[i].get()) == single, "item \(i)")
        }
    }

    @Test(arguments: [AEADv1.Parallelism.serial, .automatic, .threads(2), .threads(64)])
    func openBatchEqualsSingleOpenWithCorruptItems(parallelism: AEADv1.Parallelism) throws {
        let (plain, items) = try makeItems()
        var sealed = [AEADv1.BatchItem]()
        for (i, item) in items.enumerated() {
            var s = try AEADv1.seal(item.input, using: item.key, authenticating: item.associatedData)
            var k = item.key
            // Every third item is corrupted a different way.
            switch i % 9 {
            case 0: s[s.count / 2] ^= 0x40
            case 3: k = try key(pattern(32, seed: 250))
            case 6: s.removeLast()
            default: break
            }
            sealed.append(AEADv1.BatchItem(input: s, key: k, associatedData: item.associatedData))
        }
        let batch = AEADv1.openBatch(sealed, parallelism: parallelism)
        #expect(batch.failureCount == (0..<items.count).filter { $0 % 3 == 0 }.count)
        for (i, item) in sealed.enumerated() {
            let single = Result { () throws(CryptoError) in
                try AEADv1.open(item.input, using: item.key, authenticating: item.associatedData)
            }
            switch (batch[i], single) {
            case (.success(let b), .success(let s)):
                #expect(Array(b) == s, "item \(i)")
                #expect(s == plain[i], "item \(i)")
            case (.failure(let b), .failure(let s)):
                #expect(b == s)
                #expect(i % 3 == 0, "item \(i) should have opened")
            default:
                Issue.record("batch and single disagree on item \(i)")
            }
        }
    }

    /// Empty plaintexts opened on many threads at once: the standard library's
    /// shared empty array must never be written (scripts/tsan.sh runs this;
    /// `Array(unsafeUninitializedCapacity: 0)` made ThreadSanitizer report a race).
    @Test func emptyPlaintextsOpenOnManyThreads() throws {
        let k = try key(pattern(32, seed: 9))
        let sealed = try AEADv1.seal([], using: k, authenticating: [1, 2, 3])
        let opened = Locked(0)
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<200 {
                guard let p = try? AEADv1.open(sealed, using: k, authenticating: [1, 2, 3]), p.isEmpty else { continue }
                opened.withLock { $0 += 1 }
            }
        }
        #expect(opened.withLock { $0 } == 8 * 200)
        #expect(throws: CryptoError.authenticationFailure) { try AEADv1.open(sealed, using: k, authenticating: [1, 2]) }
    }

    @Test func emptyBatch() {
        #expect(AEADv1.openBatch([]).isEmpty)
        #expect(AEADv1.sealBatch([]).isEmpty)
    }

    /// 2000 messages cross the automatic threshold, so workers really split
    /// the batch: serial and parallel both give, item by item, what the
    /// single-message path gives (the plaintext, or its error), with two
    /// failures in the middle.
    @Test func largeParallelBatchMatchesSerial() throws {
        var items = [AEADv1.BatchItem](), plain = [[UInt8]]()
        for i in 0..<2000 {
            let k = try key(pattern(32, seed: UInt8(i % 251)))
            let p = pattern(100, seed: UInt8(i % 13)) + [UInt8(i & 0xff), UInt8(i >> 8)]
            var s = try AEADv1.seal(p, using: k, authenticating: [UInt8(i % 256)])
            if i == 1500 { s.reverse() }
            if i == 777 { s[10] ^= 1 }
            plain.append(p)
            items.append(AEADv1.BatchItem(input: s, key: k, associatedData: [UInt8(i % 256)]))
        }
        let serial = AEADv1.openBatch(items, parallelism: .serial)
        let parallel = AEADv1.openBatch(items, parallelism: .automatic)
        #expect(serial.failureCount == 2 && parallel.failureCount == 2)
        for (i, item) in items.enumerated() {
            let single = Result { () throws(CryptoError) in
                try AEADv1.open(item.input, using: item.key, authenticating: item.associatedData)
            }
            for (name, batch) in [("serial", serial), ("parallel", parallel)] {
                switch (batch[i], single) {
                case (.success(let b), .success(let s)):
                    #expect(Array(b) == s && s == plain[i], "\(name) item \(i)")
                case (.failure(let b), .failure(let s)):
                    #expect(b == s && (i == 1500 || i == 777), "\(name) item \(i)")
                default:
                    Issue.record("\(name) batch and single disagree on item \(i)")
                }
            }
        }
    }
}
