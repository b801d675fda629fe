#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import E2EE

/// Raw file-descriptor I/O: binary-safe, retrying on EINTR and short transfers.
enum IO {
    static func errorText(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }

    static func readAll(fd: Int32) throws(CLIError) -> [UInt8] {
        var out = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .failed("read: \(errorText())")
            }
            if n == 0 { return out }
            out += chunk[0..<n]
        }
    }

    /// A small secret file (a passphrase, a key) read into wiped storage:
    /// one buffer, wiped after the copy, never grown. Nil if it does not exist.
    static func readSecretFile(_ path: String, max: Int = 4096) throws(CLIError) -> SecureBytes? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw .failed("\(path): \(errorText())")
        }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: max + 1)
        defer { SecureBytes.wipe(&buffer) }
        var total = 0
        while total <= max {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + total, $0.count - total) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .failed("\(path): read: \(errorText())")
            }
            if n == 0 { break }
            total += n
        }
        guard total <= max else { throw .failed("\(path): longer than \(max) bytes") }
        return buffer.withUnsafeBytes { SecureBytes(UnsafeRawBufferPointer(rebasing: $0[0..<total])) }
    }

    static func writeAll(fd: Int32, _ bytes: [UInt8]) throws(CLIError) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .failed("write: \(errorText())")
            }
            offset += n
        }
    }

    /// The whole file, or nil if it does not exist.
    static func readFile(_ path: String) throws(CLIError) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw .failed("\(path): \(errorText())")
        }
        defer { close(fd) }
        do { return try readAll(fd: fd) } catch { throw .failed("\(path): \(error.message)") }
    }

    /// The names in `dir` (no dot files), sorted.
    static func listDirectory(_ dir: String) throws(CLIError) -> [String] {
        guard let d = opendir(dir) else { throw .failed("\(dir): \(errorText())") }
        defer { closedir(d) }
        var names = [String]()
        while let entry = readdir(d) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if !name.hasPrefix(".") { names.append(name) }
        }
        return names.sorted()
    }

    /// Creates `path` and its missing parents (mode 0700); fails unless it is a directory then.
    static func makeDirectories(_ path: String) throws(CLIError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for part in path.split(separator: "/") {
            prefix += part
            if mkdir(prefix, 0o700) != 0, errno != EEXIST { throw .failed("\(prefix): \(errorText())") }
            prefix += "/"
        }
        var st = stat()
        guard stat(path, &st) == 0 else { throw .failed("\(path): \(errorText())") }
        guard st.st_mode & S_IFMT == S_IFDIR else { throw .failed("\(path): \(errorText(ENOTDIR))") }
    }

    static func printError(_ text: String) {
        try? writeAll(fd: 2, Array((text + "\n").utf8))
    }

    static func printOut(_ text: String) {
        try? writeAll(fd: 1, Array((text + "\n").utf8))
    }
}

extension CLIError {
    var message: String {
        switch self {
        case .usage(let m), .failed(let m): return m
        }
    }
}

/// Where a command reads its input: `--in FILE`, or stdin when absent or `-`.
struct Input {
    let path: String?

    func read() throws(CLIError) -> [UInt8] {
        guard let path, path != "-" else { return try IO.readAll(fd: 0) }
        guard let bytes = try IO.readFile(path) else { throw .failed("\(path): no such file") }
        return bytes
    }
}

/// Where a command writes its result: `--out FILE`, or stdout when absent or `-`.
/// Output is staged first (a synced temporary file), so that a command can fail
/// before it commits anything to the store.
struct Output {
    let path: String?

    /// Creates the missing directories above the output (mode 0700), then fails
    /// unless it can be created: its directory is writable (a file) or it opens
    /// for writing (a device). Called before a command commits, so that a bad
    /// `--out` leaves the store unchanged.
    func prepare() throws(CLIError) {
        guard let path, path != "-" else { return }
        var st = stat()
        if stat(path, &st) == 0, st.st_mode & S_IFMT != S_IFREG {
            guard access(path, W_OK) == 0 else { throw .failed("\(path): \(IO.errorText())") }
            return
        }
        let directory = splitPath(path).directory
        try IO.makeDirectories(directory)
        guard access(directory, W_OK | X_OK) == 0 else { throw .failed("\(path): \(IO.errorText())") }
    }

    func stage(_ bytes: [UInt8]) throws(CLIError) -> StagedOutput {
        guard let path, path != "-" else { return .stdout(bytes) }
        try prepare()
        var st = stat()
        if stat(path, &st) == 0, st.st_mode & S_IFMT != S_IFREG {
            // A device, FIFO or the like (/dev/null, /dev/stdout): write in place, never rename over it.
            return .special(path, bytes)
        }
        return .file(try StagedFile(bytes, at: path, mode: 0o600))
    }
}

enum StagedOutput {
    case stdout([UInt8])
    case special(String, [UInt8])
    case file(StagedFile)

    func commit() throws(CLIError) {
        switch self {
        case .stdout(let bytes):
            try IO.writeAll(fd: 1, bytes)
        case .special(let path, let bytes):
            let fd = open(path, O_WRONLY | O_CLOEXEC)
            guard fd >= 0 else { throw .failed("\(path): \(IO.errorText())") }
            defer { close(fd) }
            try IO.writeAll(fd: fd, bytes)
        case .file(let f):
            try f.commit()
        }
    }

    func discard() {
        if case .file(let f) = self { f.discard() }
    }
}

/// The first half of an atomic replace: the new contents, fsynced, in a
/// temporary file next to the target. ``commit()`` renames it over the target
/// and fsyncs the directory; ``discard()`` removes it.
struct StagedFile {
    let tempPath: String
    let path: String
    let directory: String

    init(_ bytes: [UInt8], at path: String, mode: mode_t = 0o600) throws(CLIError) {
        let (dir, name) = splitPath(path)
        guard !name.isEmpty else { throw .failed("\(path): not a file name") }
        var template = Array("\(dir)/.\(name).tmp.XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }   // created 0600
        guard fd >= 0 else { throw .failed("\(path): cannot create temporary file: \(IO.errorText())") }
        let temp = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        var failure: String?
        do { try IO.writeAll(fd: fd, bytes) } catch { failure = error.message }
        if failure == nil, fchmod(fd, mode) != 0 || fsync(fd) != 0 { failure = IO.errorText() }
        if close(fd) != 0, failure == nil { failure = IO.errorText() }
        if let failure {
            unlink(temp)
            throw .failed("\(path): \(failure)")
        }
        tempPath = temp
        self.path = path
        directory = dir
    }

    func commit() throws(CLIError) {
        guard rename(tempPath, path) == 0 else {
            let reason = IO.errorText()
            unlink(tempPath)
            throw .failed("\(path): \(reason)")
        }
        try syncDirectory(directory)
    }

    func discard() { unlink(tempPath) }
}

/// `("dir", "name")` for `dir/name`; `"."` when there is no slash.
func splitPath(_ path: String) -> (directory: String, name: String) {
    guard let slash = path.lastIndex(of: "/") else { return (".", path) }
    let dir = String(path[..<slash])
    return (dir.isEmpty ? "/" : dir, String(path[path.index(after: slash)...]))
}

func syncDirectory(_ dir: String) throws(CLIError) {
    let fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard fd >= 0 else { throw .failed("\(dir): \(IO.errorText())") }
    defer { close(fd) }
    guard fsync(fd) == 0 else { throw .failed("\(dir): fsync: \(IO.errorText())") }
}
