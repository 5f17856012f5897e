import Foundation

/// The run's JSONL log of `RunEvent`s, one per line.
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
                guard let event = try? RunEvent(jsonLine: Data(line)), event.step <= keep else { continue }
                if case .end = event { continue }
                kept.append(line)
                kept.append(UInt8(ascii: "\n"))
            }
            try kept.write(to: URL(fileURLWithPath: path), options: .atomic)
        } else if !fm.createFile(atPath: path, contents: Data()) {
            throw InputError(path, "cannot create the log (is the folder writable?)")
        }
        guard let h = FileHandle(forWritingAtPath: path) else {
            throw InputError(path, "cannot open the log for writing")
        }
        handle = h
        handle.seekToEndOfFile()
    }

    deinit { try? handle.close() }

    public func write(_ event: RunEvent) throws {
        var line = try event.jsonLine()
        line.append(UInt8(ascii: "\n"))
        handle.write(line)
    }

    /// Every event of a log file; lines that are not events (a line cut short by a crash) are skipped.
    public static func read(_ path: String) throws -> [RunEvent] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError(path, "cannot read the log")
        }
        return data.split(separator: UInt8(ascii: "\n")).compactMap { try? RunEvent(jsonLine: Data($0)) }
    }
}
