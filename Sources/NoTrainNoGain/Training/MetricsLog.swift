import Foundation

/// The run's JSONL log of `RunEvent`s, one per line, each stamped with the time it was written
/// (`time`, Unix seconds). With a TensorBoard folder, every event also goes to the run's event file
/// (`TensorBoardLog`), so both views hold the same figures.
public final class MetricsLog {
    /// A line of the log: the event and when it was written (nil in logs of earlier versions).
    public struct Entry {
        public var event: RunEvent
        public var time: Double?
    }

    public let path: String
    private let handle: FileHandle
    private let tensorBoard: TensorBoardLog?

    /// Opens (creating) the log. When resuming from step `keepThroughStep`, later lines — written
    /// after the checkpoint by the interrupted run — are dropped so the log reads as one run, and the
    /// TensorBoard view in `tensorBoard` (a folder) is rebuilt from the lines kept.
    public init(path: String, keepThroughStep: Int?, tensorBoard: String? = nil) throws {
        self.path = path
        let fm = FileManager.default
        var kept: [Entry] = []
        if let keep = keepThroughStep, let data = fm.contents(atPath: path) {
            var keptLines = Data()
            for line in data.split(separator: UInt8(ascii: "\n")) {
                guard let entry = MetricsLog.entry(Data(line)), entry.event.step <= keep else { continue }
                if case .end = entry.event { continue }
                kept.append(entry)
                keptLines.append(line)
                keptLines.append(UInt8(ascii: "\n"))
            }
            try keptLines.write(to: URL(fileURLWithPath: path), options: .atomic)
        } else if !fm.createFile(atPath: path, contents: Data()) {
            throw InputError(path, "cannot create the log (is the folder writable?)")
        }
        guard let h = FileHandle(forWritingAtPath: path) else {
            throw InputError(path, "cannot open the log for writing")
        }
        handle = h
        handle.seekToEndOfFile()
        self.tensorBoard = try tensorBoard.map {
            let run = URL(fileURLWithPath: path).deletingLastPathComponent().path
            return try TensorBoardLog(directory: $0, configPath: run + "/config.json", history: kept)
        }
    }

    deinit { try? handle.close() }

    public func write(_ event: RunEvent) throws {
        let time = Date().timeIntervalSince1970
        var line = try event.jsonLine(time: time)
        line.append(UInt8(ascii: "\n"))
        handle.write(line)
        tensorBoard?.write(event, time: time)
    }

    /// Every event of a log file; lines that are not events (a line cut short by a crash) are skipped.
    public static func read(_ path: String) throws -> [RunEvent] { try entries(path).map(\.event) }

    /// Every line of a log file that is an event, with its time.
    public static func entries(_ path: String) throws -> [Entry] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError(path, "cannot read the log")
        }
        return data.split(separator: UInt8(ascii: "\n")).compactMap { entry(Data($0)) }
    }

    /// A line read once: the event and its `time`.
    static func entry(_ line: Data) -> Entry? {
        guard let value = try? JSONCoding.decoder().decode(JSONValue.self, from: line),
            let event = try? RunEvent(json: value)
        else { return nil }
        return Entry(event: event, time: value.object?["time"]?.double)
    }
}
