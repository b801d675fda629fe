/// The little JSON the command-line tool writes (`inspect`, `group info`):
/// objects with sorted keys, two-space indentation, `"key": value`.
package indirect enum JSON {
    case string(String)
    case number(Int)
    case null
    case bool(Bool)
    case array([JSON])
    case object([String: JSON])

    /// `bytes` as a string of lowercase hex.
    package static func hex(_ bytes: [UInt8]) -> JSON {
        .string(Hex.encode(bytes))
    }

    package func rendered(indent: String = "") -> String {
        switch self {
        case .string(let s): return Self.quoted(s)
        case .number(let n): return String(n)
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .array(let items):
            guard !items.isEmpty else { return "[]" }
            let inner = indent + "  "
            return "[\n" + items.map { inner + $0.rendered(indent: inner) }.joined(separator: ",\n") + "\n\(indent)]"
        case .object(let fields):
            guard !fields.isEmpty else { return "{}" }
            let inner = indent + "  "
            let lines = fields.keys.sorted().map { key in
                "\(inner)\(Self.quoted(key)): \(fields[key]!.rendered(indent: inner))"
            }
            return "{\n" + lines.joined(separator: ",\n") + "\n\(indent)}"
        }
    }

    /// `s` as a JSON string literal, quotes included: `"` and `\` escaped,
    /// `\n`, `\r` and `\t` by name, every other control character as `\u00XX`;
    /// everything else as it is. (The bench's JSON document uses it too.)
    package static func quoted(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20: out += "\\u00" + (u.value < 0x10 ? "0" : "") + String(u.value, radix: 16)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}
