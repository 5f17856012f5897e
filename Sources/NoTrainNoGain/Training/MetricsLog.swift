import Foundation

/// The run's JSONL log: one JSON object per line with an `event` ("train", "validation",
/// "checkpoint", "end"), the optimiser `step`, the RST used and the event's figures.
public final class MetricsLog {
    public let path: String
    private let handle: FileHandle

    /// Opens (creating) the log. When resuming from step `keepThroughStep`, later lines — written
    /// after the checkpoint by the interrupted run — are dropped so the log reads as one run.
    public init(path: String, keepThroughStep: Int?) throws {
        self.path = path
        let fm = FileManager.default
        if let keep = keepThroughStep, let data = fm.contents(atPath: path) {
            var kept = Data()
            for line in data.split(separator: UInt8(ascii: "\n")) {
                guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                    let step = object["step"] as? Int, step <= keep
                else { continue }
                if (object["event"] as? String) == "end" { continue }
                kept.append(line)
                kept.append(UInt8(ascii: "\n"))
            }
            try kept.write(to: URL(fileURLWithPath: path), options: .atomic)
        } else {
            fm.createFile(atPath: path, contents: Data())
        }
        guard let h = FileHandle(forWritingAtPath: path) else {
            throw ConfigError("\(path): cannot open the log for writing")
        }
        handle = h
        handle.seekToEndOfFile()
    }

    deinit { try? handle.close() }

    public func write(_ event: String, _ fields: [String: Any]) {
        var object = fields
        object["event"] = event
        guard var line = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
        line.append(UInt8(ascii: "\n"))
        handle.write(line)
    }

    /// All entries of a log file (for reports and tests).
    public static func read(_ path: String) throws -> [[String: Any]] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError("\(path): cannot read the log")
        }
        return data.split(separator: UInt8(ascii: "\n")).compactMap {
            try? JSONSerialization.jsonObject(with: Data($0)) as? [String: Any]
        }
    }
}
