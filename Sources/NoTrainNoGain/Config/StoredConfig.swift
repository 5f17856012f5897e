import Foundation

extension PretrainingConfig {
    /// Where this config differs from the `config.json` a run stored at `path`, one line per setting
    /// ("training.learningRate: 0.0007 (stored) vs 0.0004 (now)"); empty when they agree. The run
    /// directory itself is not compared (a run may be read from wherever it lies now).
    public func differences(fromStoredAt path: String) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError("\(path): cannot read the stored run config")
        }
        guard let stored = try? JSONSerialization.jsonObject(with: data) else {
            throw ConfigError("\(path): the stored run config is not valid JSON; restore it or delete that run")
        }
        let now = try JSONSerialization.jsonObject(with: JSONEncoder().encode(self))
        var lines: [String] = []
        StoredConfigDiff.compare(stored, now, path: "", ignoring: ["runDirectory"], into: &lines)
        return lines
    }
}

/// A key-by-key comparison of two JSON documents.
enum StoredConfigDiff {
    static func compare(_ stored: Any?, _ now: Any?, path: String, ignoring: Set<String>, into lines: inout [String]) {
        if let a = stored as? [String: Any], let b = now as? [String: Any] {
            for key in Set(a.keys).union(b.keys).sorted() {
                let keyPath = path.isEmpty ? key : "\(path).\(key)"
                if !ignoring.contains(keyPath) {
                    compare(a[key], b[key], path: keyPath, ignoring: ignoring, into: &lines)
                }
            }
            return
        }
        let (a, b) = (text(stored), text(now))
        if a != b { lines.append("\(path): \(a) (stored) vs \(b) (now)") }
    }

    /// A value as compact JSON ("absent" when missing).
    static func text(_ value: Any?) -> String {
        guard let value else { return "absent" }
        guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed])
        else { return "\(value)" }
        return String(decoding: data, as: UTF8.self)
    }
}
