import E2EE
import E2EERelayClient
import E2EEStore
import Foundation
import RelayProtocol

/// A device's directory: `storage.key` (mode 0600), `store.sqlite` (sealed
/// records, fsync on every commit) and `relay.conf` (`server=`, `user=`,
/// `device=`). The process holds an exclusive lock on it while it runs.
struct ClientDirectory {
    let path: String
    var keyPath: String { "\(path)/storage.key" }
    var databasePath: String { "\(path)/store.sqlite" }
    var configurationPath: String { "\(path)/relay.conf" }

    /// Locks the directory; with `creating`, makes it (mode 0700) first.
    init(path: String, creating: Bool = false) throws {
        self.path = path
        if creating, mkdir(path, 0o700) != 0, errno != EEXIST {
            throw ClientCommand.Failure("\(path): \(String(cString: strerror(errno)))")
        }
        try lock()
    }

    /// The device's client, creating the store, account and configuration
    /// when the directory has none; an existing store must be of `address`.
    /// `ca`: a PEM file of the CA an `https` relay's certificate must chain to.
    func openOrCreate(address: RelayAddress, server: String, ca: String? = nil) throws -> RelayClient {
        if FileManager.default.fileExists(atPath: keyPath) {
            let configured = try configuration()
            guard configured.address == address else {
                throw ClientCommand.Failure("\(path) holds the store of \(configured.address), not \(address)")
            }
        } else {
            let key = StorageKey()
            try writeNew(keyPath, key.withUnsafeBytes { Array($0) }, mode: 0o600)
            let store = try SQLiteStore(path: databasePath, key: key, synchronous: .full)
            try SessionManager.createAccount(store: store)
        }
        try writeConfiguration(address: address, server: server)
        return try open(server: server, ca: ca)
    }

    /// The device's client; `server` overrides the configured one.
    func open(server: String?, ca: String? = nil) throws -> RelayClient {
        let configured = try configuration()
        guard let raw = FileManager.default.contents(atPath: keyPath) else {
            throw ClientCommand.Failure("no store at \(path) (run 'e2ee-relay register --store \(path) …')")
        }
        let key = try StorageKey(rawRepresentation: Array(raw))
        let store = try SQLiteStore(path: databasePath, key: key, synchronous: .full)
        let manager = try SessionManager(store: store, localAddress: configured.address.protocolAddress)
        guard let url = URL(string: server ?? configured.server) else { throw ClientCommand.Failure("bad server URL") }
        return try RelayClient(server: url, manager: manager, tls: ca.map { try RelayTLS.trusting(caFile: $0) })
    }

    private func configuration() throws -> (address: RelayAddress, server: String) {
        guard let data = FileManager.default.contents(atPath: configurationPath) else {
            throw ClientCommand.Failure("no \(configurationPath) (run 'e2ee-relay register --store \(path) …')")
        }
        var values = [String: String]()
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            values[String(line[..<eq])] = String(line[line.index(after: eq)...])
        }
        guard let server = values["server"], let user = values["user"], let device = values["device"].flatMap({ UInt32($0) }),
              let address = try? RelayAddress(userID: user, deviceID: device)
        else { throw ClientCommand.Failure("\(configurationPath) is malformed") }
        return (address, server)
    }

    private func writeConfiguration(address: RelayAddress, server: String) throws {
        let text = "server=\(server)\nuser=\(address.userID)\ndevice=\(address.deviceID)\n"
        let staged = configurationPath + ".new"
        unlink(staged)
        try writeNew(staged, Array(text.utf8), mode: 0o600)
        guard rename(staged, configurationPath) == 0 else { throw ClientCommand.Failure("\(configurationPath): \(String(cString: strerror(errno)))") }
    }

    /// Creates `file` (which must not exist) with `bytes`, synced.
    private func writeNew(_ file: String, _ bytes: [UInt8], mode: mode_t) throws {
        let fd = Foundation.open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw ClientCommand.Failure("\(file): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(fd) == 0 else { throw ClientCommand.Failure("\(file): \(String(cString: strerror(errno)))") }
    }

    /// An exclusive lock on the directory for the rest of the process (two
    /// commands on one store would race its sessions).
    private func lock() throws {
        let fd = Foundation.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw ClientCommand.Failure("\(path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw ClientCommand.Failure("\(path) is in use by another command")
        }
        // Held until exit: the descriptor is deliberately not closed.
    }
}
