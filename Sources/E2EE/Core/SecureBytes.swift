internal import CE2EE
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Byte storage for secrets: wiped when the last copy is released, compared
/// in constant time, never printed.
///
/// Every private, root, chain and message key of the library lives in one of
/// these. Copies share storage until one is mutated (copy on write), so a key
/// passed around is never duplicated in memory behind the caller's back.
// @unchecked: the storage is never mutated once shared (copy on write), and
// ManagedBuffer, which keeps header and bytes in one allocation, cannot be Sendable.
public struct SecureBytes: @unchecked Sendable {
    /// Header (the byte count) and bytes in one allocation; wiped in `deinit`.
    @usableFromInline
    final class Storage: ManagedBuffer<Int, UInt8> {
        // Immutable once shared: mutation goes through `withUnsafeMutableBytes`,
        // which copies first unless the storage is uniquely referenced.

        static func make(count: Int) -> Storage {
            unsafeDowncast(Storage.create(minimumCapacity: Swift.max(count, 1)) { _ in count }, to: Storage.self)
        }

        /// The bytes. Tail-allocated in this object, so valid while it is alive.
        var pointer: UnsafeMutableRawPointer {
            withUnsafeMutablePointerToElements { UnsafeMutableRawPointer($0) }
        }

        var count: Int { header }

        deinit {
            withUnsafeMutablePointers { count, bytes in e2ee_memzero(bytes, count.pointee) }
        }
    }

    @usableFromInline
    var storage: Storage

    /// `count` fresh bytes from libsodium's CSPRNG.
    public init(randomCount count: Int) {
        precondition(count >= 0, "negative byte count")
        storage = Storage.make(count: count)
        e2ee_random_bytes(storage.pointer, count)
    }

    /// A copy of `bytes`. The caller stays responsible for wiping its own copy.
    public init<Bytes: ContiguousBytes>(_ bytes: Bytes) {
        storage = bytes.withUnsafeBytes { raw in
            let s = Storage.make(count: raw.count)
            if let base = raw.baseAddress, raw.count > 0 {
                s.pointer.copyMemory(from: base, byteCount: raw.count)
            }
            return s
        }
    }

    /// `count` bytes written by `body`, which receives uninitialised memory.
    /// If `body` throws, the memory is wiped and released.
    init<E: Error>(count: Int, initializingWith body: (UnsafeMutableRawBufferPointer) throws(E) -> Void) throws(E) {
        let s = Storage.make(count: count)
        try body(UnsafeMutableRawBufferPointer(start: s.pointer, count: count))
        storage = s
    }

    /// The number of bytes held.
    public var count: Int { storage.count }

    /// Wipes a plain byte array that held a secret (a serialised record, a
    /// passphrase) with the C core's zeroiser, which the compiler cannot drop,
    /// and leaves it empty. Wipes the array's own storage: call it where no
    /// other copy shares that storage, or the copy is what gets wiped.
    public static func wipe(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { p in
            if let base = p.baseAddress { e2ee_memzero(base, p.count) }
        }
        bytes.removeAll()
    }

    /// Read access to the secret bytes; do not let the pointer escape.
    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(start: storage.pointer, count: storage.count))
    }

    /// Write access; copies first if the storage is shared.
    mutating func withUnsafeMutableBytes<R, E: Error>(_ body: (UnsafeMutableRawBufferPointer) throws(E) -> R) throws(E) -> R {
        if !isKnownUniquelyReferenced(&storage) {
            let copy = Storage.make(count: storage.count)
            copy.pointer.copyMemory(from: storage.pointer, byteCount: storage.count)
            storage = copy
        }
        return try body(UnsafeMutableRawBufferPointer(start: storage.pointer, count: storage.count))
    }

    /// The pointer of the storage, valid while `self` is alive and unmutated.
    var baseAddress: UnsafeRawPointer { UnsafeRawPointer(storage.pointer) }

    /// A copy of the bytes as an array, for serialisation and tests only:
    /// the array is not wiped on release.
    var unsafeArrayCopy: [UInt8] {
        withUnsafeBytes { Array($0) }
    }
}

extension SecureBytes: Equatable {
    /// Constant-time in the contents (time depends on the lengths only).
    public static func == (lhs: SecureBytes, rhs: SecureBytes) -> Bool {
        guard lhs.count == rhs.count else { return false }
        return e2ee_memequal(lhs.storage.pointer, rhs.storage.pointer, lhs.count) == 0
    }
}

extension SecureBytes: CustomStringConvertible, CustomDebugStringConvertible {
    /// The byte count only: the contents never print.
    public var description: String { "SecureBytes(\(count) bytes)" }
    /// The same as ``description``: the contents never print.
    public var debugDescription: String { description }
}

/// Constant-time equality of two byte strings of public or secret data.
/// Returns false for different lengths (the lengths themselves are not hidden).
public func constantTimeEquals<A: ContiguousBytes, B: ContiguousBytes>(_ a: A, _ b: B) -> Bool {
    a.withUnsafeBytes { ra in
        b.withUnsafeBytes { rb in
            guard ra.count == rb.count else { return false }
            guard let pa = ra.baseAddress, let pb = rb.baseAddress else { return true }
            return e2ee_memequal(pa, pb, ra.count) == 0
        }
    }
}

extension SecureBytes {
    /// A copy of a 32-byte key, rejecting any other length.
    init<Bytes: ContiguousBytes>(checkedKey raw: Bytes) throws(CryptoError) {
        let n = raw.withUnsafeBytes { $0.count }
        guard n == 32 else { throw .invalidLength(expected: 32, got: n) }
        self.init(raw)
    }
}

extension Array where Element == UInt8 {
    /// `count` bytes written by `body`, as `init(unsafeUninitializedCapacity:)`
    /// but never touching the standard library's shared empty-array storage:
    /// for a count of 0 that initialiser stores a zero count into the global
    /// empty array, a harmless write that ThreadSanitizer reports as a race
    /// when two threads make empty arrays at once (an empty plaintext opened on
    /// two threads). `body` always gets a valid base address.
    @inline(__always)
    init(writing count: Int, _ body: (UnsafeMutableBufferPointer<UInt8>) -> Void) {
        guard count > 0 else {
            var scratch: UInt8 = 0
            withUnsafeMutablePointer(to: &scratch) { body(UnsafeMutableBufferPointer(start: $0, count: 0)) }
            self = []
            return
        }
        self.init(unsafeUninitializedCapacity: count) { buf, initialized in
            body(buf)
            initialized = count
        }
    }
}
