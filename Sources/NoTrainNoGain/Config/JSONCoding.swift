import Foundation

/// One JSON convention for every file a user reads — `metrics.jsonl`, `state.json`, `config.json`,
/// `report.json`, evaluation and benchmark output: snake_case keys (as the rest of the ML ecosystem
/// writes them), sorted, and non-finite numbers as the strings "NaN", "Infinity" and "-Infinity",
/// so a diverged loss or an unset cadence is written and read back instead of crashing the writer.
///
/// Swift property names must round-trip through snake_case: `rstSeconds` ↔ `rst_seconds`, but not
/// `mnliMM` (→ `mnli_mm` → `mnliMm`); write such names as `mnliMm`. Keys of `[String: …]` dictionaries
/// are written as they are.
public enum JSONCoding {
    static let nonFinite = (positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")

    public static func encoder(pretty: Bool = true) -> JSONEncoder {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        e.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: nonFinite.positiveInfinity, negativeInfinity: nonFinite.negativeInfinity,
            nan: nonFinite.nan)
        e.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys]
        return e
    }

    public static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.keyDecodingStrategy = .convertFromSnakeCase
        d.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: nonFinite.positiveInfinity, negativeInfinity: nonFinite.negativeInfinity,
            nan: nonFinite.nan)
        return d
    }

    /// JSON written by Python's `json` module, which writes a non-finite float as a bare `NaN`,
    /// `Infinity` or `-Infinity` (SNI task files hold such values, e.g. `"URL": [NaN]`): those tokens,
    /// outside strings, become `null`, so that a strict decoder reads the rest.
    public static func pythonLiteralsAsNull(_ data: Data) -> Data {
        let bytes = [UInt8](data)
        let literals: [[UInt8]] = [Array("NaN".utf8), Array("Infinity".utf8), Array("-Infinity".utf8)]
        guard bytes.contains(where: { $0 == UInt8(ascii: "N") || $0 == UInt8(ascii: "I") }) else { return data }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var inString = false, escaped = false, i = 0
        outer: while i < bytes.count {
            let b = bytes[i]
            if inString {
                if escaped {
                    escaped = false
                } else if b == UInt8(ascii: "\\") {
                    escaped = true
                } else if b == 0x22 {
                    inString = false
                }
            } else if b == 0x22 {
                inString = true
            } else {
                for literal in literals
                where bytes.count - i >= literal.count && bytes[i..<(i + literal.count)].elementsEqual(literal) {
                    out += Array("null".utf8)
                    i += literal.count
                    continue outer
                }
            }
            out.append(b)
            i += 1
        }
        return Data(out)
    }

    /// `value` as pretty JSON text.
    public static func text<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try encoder().encode(value), as: UTF8.self)
    }

    /// Writes `value` to `path` (atomically: a reader never sees half a file).
    public static func write<T: Encodable>(_ value: T, to path: String) throws {
        try encoder().encode(value).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// Reads a `T` from `path`; a missing or malformed file is an `InputError` naming it and `what` it
    /// should hold.
    public static func read<T: Decodable>(_ type: T.Type, from path: String, what: String) throws -> T {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError(path, "cannot read \(what) (missing or unreadable)")
        }
        do {
            return try decoder().decode(T.self, from: data)
        } catch {
            throw InputError(path, "not \(what) (\(JSONCoding.reason(error)))")
        }
    }

    /// The one-line gist of a decoding error: the key path and what was wrong there.
    public static func reason(_ error: Error) -> String {
        func path(_ keys: [CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error as? DecodingError {
        case .keyNotFound(let key, let c)?: return "missing '\(path(c.codingPath + [key]))'"
        case .typeMismatch(_, let c)?, .valueNotFound(_, let c)?: return "wrong type at '\(path(c.codingPath))'"
        case .dataCorrupted(let c)?:
            return c.codingPath.isEmpty ? "not valid JSON" : "invalid value at '\(path(c.codingPath))'"
        default: return "\(error)"
        }
    }
}

/// Any JSON value, for the open parts of typed records: a plug-in's settings, state and log fields,
/// each written by the plug-in's own `Codable` type (`JSONValue(encoding:)`) and read back with
/// `decode(_:)`. Objects are stored with their keys as written (already snake_case).
public enum JSONValue: Codable, Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// `value` encoded with the shared conventions (snake_case keys).
    public init<T: Encodable>(encoding value: T) throws {
        self = try JSONCoding.decoder().decode(JSONValue.self, from: JSONCoding.encoder(pretty: false).encode(value))
    }

    /// This value read as a `T` (the inverse of `init(encoding:)`).
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONCoding.decoder().decode(T.self, from: JSONCoding.encoder(pretty: false).encode(self))
    }

    /// The member `key` of an object.
    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    public var double: Double? {
        switch self {
        case .number(let x): x
        case .string(JSONCoding.nonFinite.nan): .nan
        case .string(JSONCoding.nonFinite.positiveInfinity): .infinity
        case .string(JSONCoding.nonFinite.negativeInfinity): -.infinity
        default: nil
        }
    }

    public var string: String? { if case .string(let s) = self { s } else { nil } }

    public var object: [String: JSONValue]? { if case .object(let o) = self { o } else { nil } }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let x = try? c.decode(Double.self) {
            self = .number(x)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([JSONValue].self) {
            self = .array(a)
        } else {
            // Decoded as a dictionary, not a keyed container, so its keys are not re-cased.
            self = .object(try c.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .number(let x): try c.encode(x)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }
}
