import E2EE
import E2EERelayClient
import E2EEStore
import Foundation
import RelayProtocol
import RelayServer
import Synchronization

/// `e2ee-relay register|send|sync|remove-device`: a device's side, over a
/// store directory (`storage.key`, `store.sqlite` as the `e2ee` tool keeps
/// them, plus `relay.conf` with the server and the device's address).
enum ClientCommand {
    static let usage = """
        usage: e2ee-relay register --store DIR --server URL --user NAME [--device N] [--approved-by DIR] [--ca PEM]
               e2ee-relay send     --store DIR --to USER [--message TEXT] [--server URL] [--ca PEM]
               e2ee-relay sync     --store DIR [--idle SECONDS] [--server URL] [--ca PEM]
               e2ee-relay remove-device --store DIR --device N [--server URL] [--ca PEM]
          --ca PEM     an https:// relay's certificate must chain to a CA in this file (else the system's roots)
          register     creates the store if missing, registers the device and publishes its prekeys;
                       a user's further device is approved by a registered one (--approved-by its store)
          send         encrypts for every device of USER (and this user's other devices) and sends;
                       the message is TEXT, else stdin
          sync         receives until nothing came for SECONDS (default 2): one line per message,
                       "SENDER: TEXT" (group messages "SENDER in GROUP: TEXT"), each committed before its ack
        """

    /// Failures exit 1 with this text on stderr; usage errors exit 2.
    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    static let names: Set<String> = ["register", "send", "sync", "remove-device"]

    /// Runs a client command; returns the exit status.
    static func run(_ arguments: [String]) async -> Int32 {
        let name = arguments[0]
        let allowed: [String: Set<String>] = [
            "register": ["--store", "--server", "--user", "--device", "--approved-by", "--ca"],
            "send": ["--store", "--to", "--message", "--server", "--ca"],
            "sync": ["--store", "--idle", "--server", "--ca"],
            "remove-device": ["--store", "--device", "--server", "--ca"],
        ]
        let values: [String: String]
        do {
            guard let parsed = try RelayCommand.options(arguments.dropFirst(), allowed: allowed[name] ?? []) else {
                print(usage)
                return 0
            }
            values = parsed
            guard values["--store"] != nil else { throw RelayArgumentError.missingOption("--store") }
        } catch {
            FileHandle.standardError.write(Data("e2ee-relay: \(error)\n\(usage)\n".utf8))
            return 2
        }
        do {
            switch name {
            case "register": try await register(values)
            case "send": try await send(values)
            case "sync": try await sync(values)
            default: try await removeDevice(values)
            }
            return 0
        } catch let error as RelayArgumentError {
            FileHandle.standardError.write(Data("e2ee-relay: \(error)\n\(usage)\n".utf8))
            return 2
        } catch {
            FileHandle.standardError.write(Data("e2ee-relay \(name) failed: \(error)\n".utf8))
            return 1
        }
    }

    static func register(_ values: [String: String]) async throws {
        guard let server = values["--server"] else { throw RelayArgumentError.missingOption("--server") }
        guard let user = values["--user"] else { throw RelayArgumentError.missingOption("--user") }
        let deviceText = values["--device"] ?? "1"
        guard let device = UInt32(deviceText), device > 0 else {
            throw RelayArgumentError.badValue(option: "--device", value: deviceText)
        }
        guard URL(string: server)?.scheme != nil else { throw RelayArgumentError.badValue(option: "--server", value: server) }
        let address: RelayAddress
        do { address = try RelayAddress(userID: user, deviceID: device) } catch {
            throw RelayArgumentError.badValue(option: "--user", value: user)
        }
        let directory = try ClientDirectory(path: values["--store"]!, creating: true)
        let client = try directory.openOrCreate(address: address, server: server, ca: values["--ca"])
        var approver: RelayClient?
        if let other = values["--approved-by"] {
            approver = try ClientDirectory(path: other).open(server: nil, ca: values["--ca"])
        }
        try await client.register(approvedBy: approver)
        FileHandle.standardError.write(Data("registered \(address) on \(server)\n".utf8))
    }

    static func send(_ values: [String: String]) async throws {
        guard let to = values["--to"] else { throw RelayArgumentError.missingOption("--to") }
        do { try RelayAddress.checkUserID(to) } catch { throw RelayArgumentError.badValue(option: "--to", value: to) }
        let client = try ClientDirectory(path: values["--store"]!).open(server: values["--server"], ca: values["--ca"])
        let message = values["--message"].map { Array($0.utf8) } ?? Array(FileHandle.standardInput.readDataToEndOfFile())
        let result = try await client.send(message, to: to)
        FileHandle.standardError.write(Data("sent to \(result.serverIDs.count) device(s) of \(to)\n".utf8))
    }

    static func sync(_ values: [String: String]) async throws {
        let idleText = values["--idle"] ?? "2"
        guard let idle = Double(idleText), idle > 0, idle <= 3600 else {
            throw RelayArgumentError.badValue(option: "--idle", value: idleText)
        }
        let client = try ClientDirectory(path: values["--store"]!).open(server: values["--server"], ca: values["--ca"])
        let problems = Problems()
        try await client.receive(until: .idle(.milliseconds(Int(idle * 1000)))) { delivery in
            switch delivery.outcome {
            case .received(.message(let plaintext)):
                let from = delivery.group.map { "\(delivery.sender) in \($0)" } ?? "\(delivery.sender)"
                print("\(from): \(String(decoding: plaintext, as: UTF8.self))")
            case .received(.groupUpdate(let group, let change)):
                FileHandle.standardError.write(Data("group \(group) updated by \(delivery.sender): \(change)\n".utf8))
            case .received(.senderKey(let group, let from)):
                FileHandle.standardError.write(Data("sender key of \(from) for group \(group)\n".utf8))
            case .received(.held(_, let reason)):
                // Held by a content policy: not shown as a message (this CLI sets no policy).
                FileHandle.standardError.write(Data("message \(delivery.serverID) from \(delivery.sender) held: \(reason)\n".utf8))
            case .duplicate:
                break
            case .rejected(let error), .deferred(let error):
                problems.add()
                FileHandle.standardError.write(Data("message \(delivery.serverID) from \(delivery.sender) not applied: \(error)\n".utf8))
            }
        }
        // Keep the directory's pools full now that sessions may have used keys.
        try await client.refillPreKeys()
        if problems.count > 0 { throw Failure("\(problems.count) message(s) not applied") }
    }

    static func removeDevice(_ values: [String: String]) async throws {
        let deviceText = values["--device"] ?? ""
        guard let device = UInt32(deviceText), device > 0 else {
            throw RelayArgumentError.badValue(option: "--device", value: deviceText)
        }
        try await ClientDirectory(path: values["--store"]!).open(server: values["--server"], ca: values["--ca"]).removeDevice(device)
    }

    final class Problems: Sendable {
        private let counter = Mutex(0)
        var count: Int { counter.withLock { $0 } }
        func add() { counter.withLock { $0 += 1 } }
    }
}
