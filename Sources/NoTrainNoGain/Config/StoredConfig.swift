import Foundation

extension PretrainingConfig {
    /// Where this config differs from the `config.json` a run stored at `path`, one line per setting
    /// ("training.learning_rate: 0.0007 (stored) vs 0.0004 (now)"); empty when they agree. The run
    /// directory itself is not compared (a run may be read from wherever it lies now).
    public func differences(fromStoredAt path: String) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError(path, "cannot read the stored run config")
        }
        guard let stored = try? JSONCoding.decoder().decode(JSONValue.self, from: data) else {
            throw InputError(path, "the stored run config is not valid JSON; restore it or delete that run")
        }
        var lines: [String] = []
        StoredConfigDiff.compare(
            stored, try JSONValue(encoding: self), path: "", ignoring: ["run_directory"], into: &lines)
        return lines
    }
}

/// A key-by-key comparison of two JSON documents.
enum StoredConfigDiff {
    static func compare(
        _ stored: JSONValue?, _ now: JSONValue?, path: String, ignoring: Set<String>, into lines: inout [String]
    ) {
        if let a = stored?.object, let b = now?.object {
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
    static func text(_ value: JSONValue?) -> String {
        guard let value, let data = try? JSONCoding.encoder(pretty: false).encode(value) else { return "absent" }
        return String(decoding: data, as: UTF8.self)
    }
}
