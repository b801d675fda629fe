// Two processes sharing one SQLite store, as an app and its notification
// extension do: both receive from one peer (dave, alternate messages of one
// chain) and both hand out and consume one-time prekeys (new peers starting
// sessions). Run by Tests/cli/hammer.sh:
//
//   store-hammer setup  DIR N     Bob's store, dave's session, dave's N + 1 messages
//   store-hammer run    DIR W N   worker W (0 or 1): its half of dave's N messages, N / 2 new peers
//   store-hammer verify DIR N     nothing lost, nothing received twice, no prekey handed out twice
//
// Without one exclusive transaction per load-modify-commit, the workers'
// commits overwrite each other: a session rolls back (a message decrypts a
// second time, or a later one fails) and a used prekey comes back.
import E2EE
import E2EEStore
#if canImport(Glibc)
import Glibc
#endif

let bob = ProtocolAddress(userID: "bob", deviceID: 1)
let dave = ProtocolAddress(userID: "dave", deviceID: 1)
let storageKey = try! StorageKey(rawRepresentation: [UInt8](repeating: 7, count: 32))   // a test store

func fail(_ message: String) -> Never {
    let line = Array("store-hammer: \(message)\n".utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    exit(1)
}

func open(_ dir: String) -> SessionManager {
    do {
        let store = try SQLiteStore(path: "\(dir)/store.sqlite", key: storageKey)
        return try SessionManager(store: store, localAddress: bob)
    } catch { fail("open: \(error)") }
}

func daveText(_ i: Int) -> [UInt8] { Array("dave \(i)".utf8) }

/// Messages as `u32 length || bytes`, one file.
func writeMessages(_ messages: [[UInt8]], to path: String) {
    var out = [UInt8]()
    for m in messages { out += [UInt8(m.count >> 24), UInt8(m.count >> 16 & 0xff), UInt8(m.count >> 8 & 0xff), UInt8(m.count & 0xff)] + m }
    guard let f = fopen(path, "wb"), fwrite(out, 1, out.count, f) == out.count, fclose(f) == 0 else { fail("write \(path)") }
}

func readMessages(_ path: String) -> [[UInt8]] {
    guard let f = fopen(path, "rb") else { fail("read \(path)") }
    defer { fclose(f) }
    var all = [UInt8](), buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = fread(&buffer, 1, buffer.count, f)
        if n == 0 { break }
        all += buffer[0..<n]
    }
    var out = [[UInt8]](), i = 0
    while i + 4 <= all.count {
        let n = Int(all[i]) << 24 | Int(all[i + 1]) << 16 | Int(all[i + 2]) << 8 | Int(all[i + 3])
        out.append(Array(all[(i + 4)..<(i + 4 + n)]))
        i += 4 + n
    }
    return out
}

func appendLine(_ line: String, to path: String) {
    guard let f = fopen(path, "a") else { fail("append \(path)") }
    fputs(line + "\n", f)
    fclose(f)
}

func readLines(_ path: String) -> [String] {
    guard let f = fopen(path, "r") else { return [] }
    defer { fclose(f) }
    var lines = [String](), buffer = [CChar](repeating: 0, count: 256)
    while fgets(&buffer, 256, f) != nil {
        let bytes = buffer.prefix { $0 != 0 && $0 != 0x0A }.map { UInt8(bitPattern: $0) }
        lines.append(String(decoding: bytes, as: UTF8.self))
    }
    return lines
}

/// Whether receiving `message` again is refused as a duplicate (and nothing else).
func isDuplicate(_ me: SessionManager, _ message: [UInt8]) -> Bool {
    do {
        _ = try me.receive(message, from: dave)
        return false
    } catch {
        if case .decrypt(.duplicate) = error { return true }
        return false
    }
}

let args = CommandLine.arguments
guard args.count >= 4 else { fail("usage: store-hammer setup|run|verify DIR [W] N") }
let dir = args[2]

do {
    switch args[1] {
    case "setup":
        let n = Int(args[3])!
        let store = try SQLiteStore(path: "\(dir)/store.sqlite", key: storageKey)
        try SessionManager.createAccount(store: store)
        let me = try SessionManager(store: store, localAddress: bob)
        let daveStore = MemoryStore()
        try SessionManager.createAccount(store: daveStore)
        let daveManager = try SessionManager(store: daveStore, localAddress: dave)
        try daveManager.startSession(with: bob, bundle: me.publishBundle())
        try me.receive(daveManager.encrypt(Array("hello".utf8), to: bob), from: dave)
        writeMessages(try (0...n).map { try daveManager.encrypt(daveText($0), to: bob) }, to: "\(dir)/dave.msgs")
    case "run":
        let worker = Int(args[3])!, n = Int(args[4])!
        let me = open(dir)
        let messages = readMessages("\(dir)/dave.msgs")
        for i in stride(from: worker, to: n, by: 2) {
            // dave's half: alternate messages of one chain, from two processes.
            let got = try me.receive(messages[i], from: dave)
            guard got == .message(daveText(i)) else { fail("worker \(worker): dave \(i) gave \(got)") }
            // A new peer: a one-time prekey handed out, then consumed by its first message.
            let bundle = try me.publishBundle()
            guard let opk = bundle.oneTimePreKey?.id.rawValue else { fail("worker \(worker): no one-time prekey left") }
            appendLine("\(opk)", to: "\(dir)/published.\(worker)")
            let peer = ProtocolAddress(userID: "peer-\(worker)-\(i)", deviceID: 1)
            var session = try Session.initiate(identity: IdentityKey.PrivateKey(), bundle: bundle)
            let text = Array("from \(peer)".utf8)
            guard try me.receive(session.encrypt(text), from: peer) == .message(text) else { fail("peer \(peer)") }
        }
    case "verify":
        let n = Int(args[3])!
        let me = open(dir)
        let messages = readMessages("\(dir)/dave.msgs")
        // No session rolled back: every message dave sent is received once, and his next one decrypts.
        for i in 0..<n where !isDuplicate(me, messages[i]) {
            fail("dave \(i) was not a duplicate: a session rolled back")
        }
        guard try me.receive(messages[n], from: dave) == .message(daveText(n)) else { fail("dave's next message") }
        let inbox = try me.store.inboundMessages(after: 0, limit: 100_000)
        let fromDave = inbox.filter { $0.sender == dave }.map(\.plaintext)
        guard fromDave.count == n + 2, Set(fromDave.map { String(decoding: $0, as: UTF8.self) }).count == n + 2 else {
            fail("dave's inbox rows: \(fromDave.count), wanted \(n + 2), each once")
        }
        guard inbox.filter({ $0.sender.userID.hasPrefix("peer-") }).count == n else { fail("peer rows: wanted \(n)") }
        // No prekey handed out twice, and none that was used came back.
        let published = readLines("\(dir)/published.0") + readLines("\(dir)/published.1")
        guard published.count == n, Set(published).count == n else {
            fail("\(published.count) one-time prekeys handed out, \(Set(published).count) distinct, wanted \(n)")
        }
        let account = try me.store.loadAccount()!
        let remaining = Set(account.oneTimePreKeys.map { String($0.id.rawValue) })
        guard remaining.isDisjoint(with: published) else { fail("a used one-time prekey came back") }
        print("store-hammer: \(n) messages from dave and \(n) new sessions over two processes, nothing lost or repeated")
    default:
        fail("unknown mode \(args[1])")
    }
} catch {
    fail("\(args[1]): \(error)")
}
