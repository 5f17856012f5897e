import Foundation
import Yams

/// A YAML mapping being read, strictly: every key must be known, every value of the right type and
/// range; a problem is an `InputError` naming the file and the key (e.g.
/// `bert.yaml: training.budget: must be positive (got -5m)`); `finish()` reports keys nobody asked for.
public final class ConfigSection {
    let source: String
    let path: String
    private let values: [String: Any]
    private var used: Set<String> = []
    /// Full key paths set by command-line overrides (their relative paths are relative to the
    /// current directory, not to the config file).
    let overridden: Set<String>
    /// The config file's folder: relative paths written in the file are relative to it.
    let baseDirectory: String

    init(_ values: [String: Any], path: String, source: String, overridden: Set<String>, baseDirectory: String) {
        self.values = values
        self.path = path
        self.source = source
        self.overridden = overridden
        self.baseDirectory = baseDirectory
    }

    /// A section without keys: readers return their defaults.
    public static var empty: ConfigSection {
        ConfigSection([:], path: "", source: "defaults", overridden: [], baseDirectory: ".")
    }

    /// The same values, read afresh (to ask which keys another reader would use).
    func copy() -> ConfigSection {
        ConfigSection(values, path: path, source: source, overridden: overridden, baseDirectory: baseDirectory)
    }

    /// Whether key `name` of this section came from a command-line override.
    public func isOverridden(_ name: String) -> Bool { overridden.contains(key(name)) }

    /// Reads a YAML file (`what` names it in errors); relative paths inside it are relative to its folder.
    public static func load(
        path: String, overrides: [String] = [], what: String = "config file"
    ) throws
        -> ConfigSection
    {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError(path, "cannot read the \(what) (missing or unreadable)")
        }
        return try parse(
            yaml: String(decoding: data, as: UTF8.self), source: path,
            baseDirectory: URL(fileURLWithPath: path).deletingLastPathComponent().path, overrides: overrides)
    }

    /// Parses YAML text (after `overrides` such as "training.budget=10m" are applied).
    public static func parse(
        yaml: String, source: String, baseDirectory: String = ".", overrides: [String] = []
    ) throws -> ConfigSection {
        let loaded: Any?
        do {
            loaded = try YAMLValues.load(yaml)
        } catch let error as InputError {
            throw InputError(source, error.problem)
        } catch {
            throw InputError(source, "not valid YAML (\(String(describing: error).split(separator: "\n").first ?? ""))")
        }
        guard var root = (loaded ?? [String: Any]()) as? [String: Any] else {
            throw InputError(source, "the top level must be a mapping of keys to values")
        }
        var overridden: Set<String> = []
        for o in overrides {
            guard let eq = o.firstIndex(of: "="), eq != o.startIndex else {
                throw InputError("override '\(o)': expected key.path=value")
            }
            let keys = o[..<eq].split(separator: ".").map(String.init)
            let raw = String(o[o.index(after: eq)...])
            let value: Any = (try? YAMLValues.load(raw)).flatMap { $0 } ?? raw
            try ConfigSection.set(&root, keys, value, override: o)
            overridden.insert(keys.joined(separator: "."))
        }
        return ConfigSection(root, path: "", source: source, overridden: overridden, baseDirectory: baseDirectory)
    }

    private static func set(_ dict: inout [String: Any], _ keys: [String], _ value: Any, override: String) throws {
        guard let first = keys.first else { return }
        if keys.count == 1 { dict[first] = value; return }
        var child = dict[first] as? [String: Any] ?? [:]
        if dict[first] != nil && !(dict[first] is [String: Any]) {
            throw InputError("override '\(override)': '\(first)' is not a section")
        }
        try set(&child, Array(keys.dropFirst()), value, override: override)
        dict[first] = child
    }

    func key(_ name: String) -> String { path.isEmpty ? name : "\(path).\(name)" }
    func fail(_ name: String, _ problem: String) -> InputError { InputError(source, "\(key(name)): \(problem)") }

    public func has(_ name: String) -> Bool { values[name] != nil && !(values[name] is NSNull) }

    private func raw(_ name: String) -> Any? {
        used.insert(name)
        guard let v = values[name], !(v is NSNull) else { return nil }
        return v
    }

    /// A mapping as plain values (for free-form override blocks).
    public func rawMapping(_ name: String) throws -> [String: Any] {
        guard let v = raw(name) else { return [:] }
        guard let d = v as? [String: Any] else { throw fail(name, "must be a mapping") }
        return d
    }

    public func section(_ name: String) throws -> ConfigSection {
        let values = try raw(name).map { v in
            guard let d = v as? [String: Any] else { throw fail(name, "must be a section of keys") }
            return d
        }
        return ConfigSection(
            values ?? [:], path: key(name), source: source, overridden: overridden, baseDirectory: baseDirectory)
    }

    public func int(_ name: String, default d: Int, range: ClosedRange<Int> = Int.min...Int.max) throws -> Int {
        guard let v = raw(name) else { return d }
        guard let i = v as? Int else { throw fail(name, "must be an integer (got \(v))") }
        guard range.contains(i) else {
            throw fail(name, "must be in \(range.lowerBound)…\(range.upperBound) (got \(i))")
        }
        return i
    }

    public func double(
        _ name: String, default d: Double, range: ClosedRange<Double> = -Double.infinity...Double.infinity
    ) throws -> Double {
        guard let v = raw(name) else { return d }
        let x: Double
        if let i = v as? Int {
            x = Double(i)
        } else if let f = v as? Double {
            x = f
        } else if let s = v as? String, let f = Double(s) {
            x = f
        } else {
            throw fail(name, "must be a number (got \(v))")
        }
        guard range.contains(x), x.isFinite else {
            throw fail(name, "must be in \(range.lowerBound)…\(range.upperBound) (got \(x))")
        }
        return x
    }

    public func bool(_ name: String, default d: Bool) throws -> Bool {
        guard let v = raw(name) else { return d }
        guard let b = v as? Bool else { throw fail(name, "must be true or false (got \(v))") }
        return b
    }

    public func string(_ name: String, default d: String?) throws -> String? {
        guard let v = raw(name) else { return d }
        if let s = v as? String { return s }
        if v is Int || v is Double { return "\(v)" }
        throw fail(name, "must be a string (got \(v))")
    }

    public func choice(_ name: String, default d: String, from options: [String]) throws -> String {
        let s = try string(name, default: d) ?? d
        guard options.contains(s) else {
            throw fail(name, "must be one of \(options.joined(separator: ", ")) (got '\(s)')")
        }
        return s
    }

    /// One of an enumeration's cases, by its raw value.
    public func choice<E: RawRepresentable & CaseIterable>(_ name: String, default d: E) throws -> E
    where E.RawValue == String {
        let s = try choice(name, default: d.rawValue, from: E.allCases.map(\.rawValue))
        return E.allCases.first { $0.rawValue == s }!
    }

    /// A file or folder path: relative paths written in the config file are relative to its folder,
    /// those given with `--set` to the current directory.
    public func path(_ name: String) throws -> String? {
        try string(name, default: nil).map { resolve($0, key: name) }
    }

    /// A path or list of paths (see `path`).
    public func paths(_ name: String) throws -> [String] {
        try strings(name, default: []).map { resolve($0, key: name) }
    }

    func resolve(_ p: String, key name: String) -> String {
        p.hasPrefix("/") || isOverridden(name) ? p : baseDirectory + "/" + p
    }

    /// The plug-in that key `name` chooses among `choices` (a model kind, an optimiser, a batch-selection
    /// method), which then reads the rest of this section; a key that only another choice reads is
    /// reported as belonging to it ("optimizer.rho: only applies to optimizer sophia (this config uses
    /// adamw)", `label` being "optimizer"). Read every other key of the section before.
    public func plugin<T>(
        _ name: String, label: String, default d: String,
        _ choices: [(name: String, read: (ConfigSection) throws -> T)]
    ) throws -> T {
        let chosen = try choice(name, default: d, from: choices.map(\.name))
        let value = try choices.first { $0.name == chosen }!.read(self)
        let others = choices.filter { $0.name != chosen }
        try finish(alternatives: others.map { c in (c.name, { _ = try c.read($0) }) }, label: label, chosen: chosen)
        return value
    }

    /// A string or a list of strings.
    public func strings(_ name: String, default d: [String]) throws -> [String] {
        guard let v = raw(name) else { return d }
        if let s = v as? String { return [s] }
        guard let list = v as? [Any], let strings = list as? [String] else {
            throw fail(name, "must be a string or a list of strings")
        }
        return strings
    }

    /// A list of numbers.
    public func doubles(_ name: String, default d: [Double], range: ClosedRange<Double>) throws -> [Double] {
        guard let v = raw(name) else { return d }
        guard let list = v as? [Any] else { throw fail(name, "must be a list of numbers") }
        return try list.map { item in
            let x: Double
            if let i = item as? Int {
                x = Double(i)
            } else if let f = item as? Double {
                x = f
            } else {
                throw fail(name, "must be a list of numbers (got \(item))")
            }
            guard range.contains(x) else {
                throw fail(name, "values must be in \(range.lowerBound)…\(range.upperBound) (got \(x))")
            }
            return x
        }
    }

    /// An RST duration such as "24h", "90m", "30s".
    public func duration(_ name: String, default d: RST?) throws -> RST? {
        guard let v = raw(name) else { return d }
        let text = "\(v)"
        guard let r = RST(parsing: text) else {
            throw fail(name, "must be a duration such as 24h, 90m or 30s (got '\(text)')")
        }
        guard r.seconds > 0 else { throw fail(name, "must be positive (got \(text))") }
        return r
    }

    /// Fails on keys that were never read; a key that one of `alternatives` (the plug-ins not
    /// chosen by `label`, e.g. other optimisers) would read is named as theirs.
    public func finish(
        alternatives: [(name: String, read: (ConfigSection) throws -> Void)], label: String, chosen: String
    ) throws {
        for name in Set(values.keys).subtracting(used).sorted() {
            let owners = alternatives.filter { alternative in
                let probe = copy()
                try? alternative.read(probe)
                return probe.used.contains(name)
            }
            if !owners.isEmpty {
                throw fail(
                    name,
                    "only applies to \(label) \(owners.map(\.name).joined(separator: " or ")) "
                        + "(this config uses \(chosen))")
            }
        }
        try finish()
    }

    /// Fails on keys that were never read (typos, options that do not exist).
    public func finish() throws {
        let unknown = Set(values.keys).subtracting(used).sorted()
        if let first = unknown.first {
            let known = used.sorted().joined(separator: ", ")
            throw InputError(source, "\(key(first)): unknown key (known here: \(known))")
        }
    }
}

/// YAML text as plain values (`[String: Any]`, `[Any]`, `String`, `Int`, `Double`, `Bool`, `NSNull`),
/// built from Yams' node tree by our own rules: Yams' own construction traps on some inputs (a
/// mapping key that is not a scalar, a sexagesimal integer that overflows), and a config file must
/// never crash the program that reads it.
enum YAMLValues {
    static func load(_ text: String) throws -> Any? {
        try Yams.compose(yaml: text).map(value)
    }

    static func value(_ node: Node) throws -> Any {
        switch node {
        case .scalar(let scalar): return value(scalar.string, tag: node.tag.description)
        case .sequence(let sequence): return try sequence.map(value)
        case .mapping(let mapping):
            var out: [String: Any] = [:]
            for (key, element) in mapping {
                guard case .scalar(let k) = key else {
                    throw InputError("a mapping key must be a plain value (line \(key.mark?.line ?? 0))")
                }
                out[k.string] = try value(element)
            }
            return out
        }
    }

    /// A scalar by the tag the YAML 1.1 resolver gave it; a number that does not fit stays text.
    static func value(_ text: String, tag: String) -> Any {
        switch tag {
        case "tag:yaml.org,2002:null": return NSNull()
        case "tag:yaml.org,2002:bool": return ["true", "yes", "on", "y"].contains(text.lowercased())
        case "tag:yaml.org,2002:int":
            let digits = text.replacingOccurrences(of: "_", with: "")
            let sign = digits.hasPrefix("-") ? -1 : 1
            let unsigned = digits.hasPrefix("-") || digits.hasPrefix("+") ? String(digits.dropFirst()) : digits
            let parsed =
                unsigned.hasPrefix("0x")
                ? Int(unsigned.dropFirst(2), radix: 16)
                : unsigned.hasPrefix("0o")
                    ? Int(unsigned.dropFirst(2), radix: 8)
                    : unsigned.hasPrefix("0b") ? Int(unsigned.dropFirst(2), radix: 2) : Int(unsigned, radix: 10)
            return parsed.map { $0 * sign } ?? text
        case "tag:yaml.org,2002:float":
            switch text.lowercased() {
            case ".inf", "+.inf": return Double.infinity
            case "-.inf": return -Double.infinity
            case ".nan": return Double.nan
            default: return Double(text.replacingOccurrences(of: "_", with: "")) ?? text
            }
        default: return text
        }
    }
}
