import Foundation
import Logging
import Synchronization

/// One JSON object per line on stderr: `ts`, `level`, `label`, `msg`, and the
/// metadata as strings (`--log-format json`). The relay's metadata holds
/// addresses, counts and ids only, never a body or a key.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    /// Lines from several threads never interleave.
    private static let output = Mutex<Void>(())

    public init(label: String) {
        self.label = label
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields = metadata
        if let provided = metadataProvider?.get() { fields.merge(provided) { $1 } }
        if let given = event.metadata { fields.merge(given) { $1 } }
        var object: [String: String] = [:]
        for (key, value) in fields { object[key] = "\(value)" }
        object["ts"] = Date.now.formatted(.iso8601)
        object["level"] = event.level.rawValue
        object["label"] = label
        object["msg"] = "\(event.message)"
        guard var line = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
        line.append(UInt8(ascii: "\n"))
        Self.output.withLock { _ in try? FileHandle.standardError.write(contentsOf: line) }
    }
}
