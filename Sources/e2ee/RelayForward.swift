#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `e2ee relay register|send|sync|remove-device …`: the relay's client lives
/// in the relay package (relay/), which this package does not depend on, so
/// the command runs `e2ee-relay` with the same arguments, in this process's
/// place: $E2EE_RELAY_BIN, else the one beside this executable, else the PATH.
enum RelayForward {
    static let commands: Set<String> = ["register", "send", "sync", "remove-device"]

    static func run(_ arguments: [String]) throws(CLIError) -> Never {
        guard let command = arguments.first, commands.contains(command) || command == "--help" || command == "-h" else {
            throw .usage("relay needs one of: \(commands.sorted().joined(separator: ", "))")
        }
        var candidates = [String]()
        if let bin = getenv("E2EE_RELAY_BIN").map({ String(cString: $0) }), !bin.isEmpty { candidates.append(bin) }
        if let beside = besideSelf() { candidates.append(beside) }
        for path in candidates where access(path, X_OK) == 0 { exec(path, arguments, search: false) }
        exec("e2ee-relay", arguments, search: true)
        throw .failed("e2ee-relay not found: build it (swift build --package-path relay), put it on the PATH or set E2EE_RELAY_BIN")
    }

    private static func besideSelf() -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        let path = String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let slash = path.lastIndex(of: "/") else { return nil }
        return String(path[..<slash]) + "/e2ee-relay"
    }

    /// Replaces this process; returns only if the exec failed.
    private static func exec(_ path: String, _ arguments: [String], search: Bool) {
        var argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) }
        argv.append(nil)
        if search { execvp(path, &argv) } else { execv(path, &argv) }
        for pointer in argv { free(pointer) }
    }
}
