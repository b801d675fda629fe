#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import E2EE

/// `--policy CMD`: the content policy as an external command. For each
/// application plaintext (outgoing before encryption, incoming after
/// decryption) `/bin/sh -c CMD` runs with the plaintext on stdin and
/// `E2EE_POLICY_DIRECTION` (`outgoing` or `incoming`), `E2EE_POLICY_PEERS`
/// (comma-separated names) and, for a group message, `E2EE_POLICY_GROUP` (its
/// id) in its environment. Exit 0 allows; exit 1 rejects (outgoing) or holds
/// (incoming) with stdout's first line as the reason. Anything else (another
/// status, a signal, a command that cannot start) fails closed: outgoing is
/// rejected and incoming held, with a reason that says the policy failed.
/// The command's stderr is discarded.
final class CommandPolicy: ContentPolicy {
    let command: String

    init(command: String) {
        self.command = command
    }

    func review(outgoing plaintext: [UInt8], context: ContentContext) -> OutgoingVerdict {
        switch run(plaintext, direction: "outgoing", context) {
        case .allow: return .allow
        case .deny(let reason): return .reject(reason: reason)
        }
    }

    func review(incoming plaintext: [UInt8], context: ContentContext) -> IncomingVerdict {
        switch run(plaintext, direction: "incoming", context) {
        case .allow: return .allow
        case .deny(let reason): return .hold(reason: reason)
        }
    }

    private enum Decision {
        case allow
        case deny(String)
    }

    private func run(_ plaintext: [UInt8], direction: String, _ context: ContentContext) -> Decision {
        var environment = ["E2EE_POLICY_DIRECTION=\(direction)",
                           "E2EE_POLICY_PEERS=\(context.peers.map(\.userID).joined(separator: ","))"]
        if let group = context.group { environment.append("E2EE_POLICY_GROUP=\(GroupID.text(group))") }
        guard let (status, output) = Self.spawn(["/bin/sh", "-c", command], environment: environment, input: plaintext) else {
            return .deny("policy command could not run")
        }
        let firstLine = String(decoding: output, as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init)
        switch status {
        case 0: return .allow
        case 1: return .deny(firstLine ?? "refused by the policy command")
        default: return .deny("policy command failed (status \(status))")
        }
    }

    /// Runs `argv` with `input` on stdin and returns its exit status (128 + n
    /// for signal n) and its stdout (at most 64 KiB kept). Stdin is written
    /// and stdout read together, so neither side can block the other.
    private static func spawn(_ argv: [String], environment: [String], input: [UInt8]) -> (Int32, [UInt8])? {
        var toChild: [Int32] = [-1, -1], fromChild: [Int32] = [-1, -1]
        guard pipe(&toChild) == 0 else { return nil }
        guard pipe(&fromChild) == 0 else {
            close(toChild[0]); close(toChild[1])
            return nil
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, toChild[0], 0)
        posix_spawn_file_actions_adddup2(&actions, fromChild[1], 1)
        // Its stderr is not ours: the tool's errors stay one line (the status says it failed).
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        for fd in toChild + fromChild { posix_spawn_file_actions_addclose(&actions, fd) }

        var inherited = [String]()
        var e = environ
        while let entry = e.pointee {
            let text = String(cString: entry)
            if !text.hasPrefix("E2EE_POLICY_") { inherited.append(text) }
            e += 1
        }
        var cArgv: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        var cEnv: [UnsafeMutablePointer<CChar>?] = (inherited + environment).map { strdup($0) } + [nil]
        defer { for p in cArgv + cEnv { free(p) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, "/bin/sh", &actions, nil, &cArgv, &cEnv)
        close(toChild[0])
        close(fromChild[1])
        guard spawned == 0 else {
            close(toChild[1]); close(fromChild[0])
            return nil
        }
        let output = pump(input, into: toChild[1], from: fromChild[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exited = status & 0x7f == 0
        return (exited ? (status >> 8) & 0xff : 128 + status & 0x7f, output)
    }

    /// Writes `input` to `writeFD` and reads `readFD` to its end, with poll;
    /// closes both. A child that exits without reading its input is fine
    /// (EPIPE ends the writing: SIGPIPE is ignored in main.swift).
    private static func pump(_ input: [UInt8], into writeFD: Int32, from readFD: Int32) -> [UInt8] {
        var output = [UInt8]()
        var written = 0
        var writing = true
        if input.isEmpty { close(writeFD); writing = false }
        _ = fcntl(writeFD, F_SETFL, fcntl(writeFD, F_GETFL) | O_NONBLOCK)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            var fds = [pollfd(fd: readFD, events: Int16(POLLIN), revents: 0)]
            if writing { fds.append(pollfd(fd: writeFD, events: Int16(POLLOUT), revents: 0)) }
            guard poll(&fds, nfds_t(fds.count), -1) >= 0 || errno == EINTR else { break }
            if writing, fds[1].revents != 0 {
                let n = input.withUnsafeBytes { write(writeFD, $0.baseAddress! + written, input.count - written) }
                if n > 0 { written += n }
                if written == input.count || (n < 0 && errno != EAGAIN && errno != EINTR) || fds[1].revents & Int16(POLLERR | POLLHUP) != 0 {
                    close(writeFD)
                    writing = false
                }
            }
            if fds[0].revents != 0 {
                let n = read(readFD, &buffer, buffer.count)
                if n > 0 {
                    if output.count < 64 * 1024 { output += buffer[..<n] }
                } else if n == 0 || (errno != EAGAIN && errno != EINTR) {
                    break
                }
            }
        }
        if writing { close(writeFD) }
        close(readFD)
        return output
    }
}

/// The line `decrypt` writes instead of a plaintext the content policy held
/// (the message is received and kept, marked held, in the inbox).
func heldLine(_ reason: String, from peer: PeerName) -> String {
    let oneLine = reason.split(whereSeparator: \.isNewline).joined(separator: " ")
    return "held by policy: \(oneLine) (from \(peer.value))\n"
}
