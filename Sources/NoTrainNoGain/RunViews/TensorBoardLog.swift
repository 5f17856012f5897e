import Foundation

/// TensorBoard's view of a run: `<run>/tb/events.out.tfevents.*`, written from the same events as
/// `metrics.jsonl`, line by line (`MetricsLog` hands each event to both), so a killed run keeps its
/// curves. Every scalar is written twice: under its tag with the optimiser step as the step, and
/// under `rst/<tag>` with the RST consumed, in milliseconds, as the step, so that runs of different
/// methods line up on the budget axis as the paper plots them. The run's config is a text summary.
///
/// The format is written directly (`TFRecord` framing, hand-encoded `Event` protos: the three
/// messages needed do not justify a protobuf dependency and its generated code). Messages and field
/// numbers are TensorBoard's `compat/proto/event.proto`, `summary.proto` and `tensor.proto`.
public final class TensorBoardLog {
    /// The run's sub-folder that holds the event files.
    public static let folderName = "tb"
    /// The event file being written.
    public let path: String
    private let handle: FileHandle
    private let configPath: String

    /// Starts a new event file in `directory` and writes `history` into it first: the log's events up
    /// to the checkpoint a run resumes from (the log drops later ones, and so does TensorBoard's view:
    /// earlier event files are replaced, so no step appears twice). `configPath` is the run's
    /// `config.json`, shown as the text summary with the start event.
    public init(directory: String, configPath: String, history: [MetricsLog.Entry]) throws {
        self.configPath = configPath
        let fm = FileManager.default
        do {
            try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw InputError(directory, "cannot create the TensorBoard folder (\(error.localizedDescription))")
        }
        let now = Date().timeIntervalSince1970
        var bytes = TFRecord.frame(TensorBoardLog.fileVersion(wallTime: history.first?.time ?? now))
        for entry in history {
            bytes += TensorBoardLog.records(entry.event, time: entry.time ?? now, configPath: configPath)
        }
        // Written aside, then the earlier files go and this one takes a `tfevents` name: a crash in
        // between loses only what the next resume rebuilds from metrics.jsonl.
        let pending = directory + "/.pending-events"
        guard fm.createFile(atPath: pending, contents: Data(bytes)) else {
            throw InputError(pending, "cannot write the TensorBoard event file (is the folder writable?)")
        }
        for name in (try? fm.contentsOfDirectory(atPath: directory)) ?? [] where name.contains("tfevents") {
            try? fm.removeItem(atPath: directory + "/" + name)
        }
        path =
            directory
            + "/events.out.tfevents.\(Int(now)).\(RunLock.hostName).\(ProcessInfo.processInfo.processIdentifier).0"
        try fm.moveItem(atPath: pending, toPath: path)
        guard let h = FileHandle(forWritingAtPath: path) else {
            throw InputError(path, "cannot open the TensorBoard event file for writing")
        }
        handle = h
        handle.seekToEndOfFile()
    }

    deinit { try? handle.close() }

    /// Appends `event`'s records (unbuffered: they are on disk when this returns, as the log line is).
    public func write(_ event: RunEvent, time: Double) {
        let records = TensorBoardLog.records(event, time: time, configPath: configPath)
        if !records.isEmpty { handle.write(Data(records)) }
    }

    /// The scalars an event contributes, by tag; every figure of a log line that is a curve.
    public static func scalars(_ event: RunEvent) -> [(tag: String, value: Double)] {
        switch event {
        case .train(let t):
            var s: [(String, Double)] = [
                ("train/loss", t.loss), ("train/lr", t.lr), ("train/grad_norm", t.gradNorm),
                ("train/tokens_per_second", t.tokensPerSecond), ("train/tokens", Double(t.tokens)),
                ("train/active_blocks", t.activeBlocks), ("budget/rst_seconds", t.rstSeconds),
                ("budget/progress", t.progress),
            ]
            for (kind, entry) in t.ledger.entries.sorted(by: { $0.key < $1.key }) {
                s.append(("ledger/\(kind.rawValue)_rst_seconds", entry.charged.seconds))
            }
            for (plugin, fields) in t.plugins.sorted(by: { $0.key < $1.key }) {
                s += numbers(fields.object ?? [:], prefix: plugin)
            }
            return s
        case .validation(let v): return [("validation/loss", v.loss), ("validation/accuracy", v.accuracy)]
        case .method(let m): return numbers(m.fields, prefix: m.name)
        case .nonFinite(let n): return [("nonfinite/consecutive_dropped_steps", Double(n.consecutive))]
        case .start, .checkpoint, .end: return []
        }
    }

    /// The number (and true/false) fields of a plug-in's record as `<prefix>/<field>` scalars.
    static func numbers(_ fields: [String: JSONValue], prefix: String) -> [(tag: String, value: Double)] {
        fields.sorted { $0.key < $1.key }.compactMap { key, value in
            switch value {
            case .number(let v): ("\(prefix)/\(key)", v)
            case .bool(let b): ("\(prefix)/\(key)", b ? 1 : 0)
            default: nil
            }
        }
    }

    /// The framed records of one event: its scalars at the optimiser step and at the RST step, or
    /// for the start event, the run's description as text.
    static func records(_ event: RunEvent, time: Double, configPath: String) -> [UInt8] {
        if case .start(let start) = event {
            let config = (try? String(contentsOfFile: configPath, encoding: .utf8)) ?? "(config.json not found)"
            return TFRecord.frame(text(wallTime: time, step: 0, tag: "config", markdown: describe(start, config)))
        }
        let values = scalars(event)
        guard !values.isEmpty, let rst = event.rstSeconds else { return [] }
        let rstStep = Int64((rst * 1000).rounded())
        return TFRecord.frame(scalarEvent(wallTime: time, step: Int64(event.step), values))
            + TFRecord.frame(scalarEvent(wallTime: time, step: rstStep, values.map { ("rst/" + $0.tag, $0.value) }))
    }

    /// The text summary: what the run is, then its full config.
    static func describe(_ s: RunEvent.Start, _ config: String) -> String {
        let methods = s.methods.isEmpty ? "none (baseline)" : s.methods.map(\.name).joined(separator: ", ")
        let rows = [
            ("model", "\(s.model), \(s.parameters) parameters"), ("optimizer", s.optimizer.name),
            ("methods", methods), ("budget", "\(s.budgetRstSeconds) RST seconds"), ("cost model", s.costModel),
            ("tokenizer", s.tokenizer), ("rows", "\(s.trainRows) training, \(s.validationRows) validation"),
            ("reproduce", s.reproduce.rawValue),
        ]
        return "| | |\n|---|---|\n" + rows.map { "| \($0.0) | \($0.1) |" }.joined(separator: "\n")
            + "\n\n```json\n\(config)\n```\n"
    }

    // MARK: Event messages (tensorboard/compat/proto)

    /// `Event{wall_time = 1, file_version = 3}`: the first record of every event file.
    static func fileVersion(wallTime: Double) -> [UInt8] {
        var e = ProtoMessage()
        e.double(1, wallTime)
        e.string(3, "brain.Event:2")
        return e.bytes
    }

    /// `Event{wall_time = 1, step = 2, summary = 5 {value = 1 {tag = 1, simple_value = 2}…}}`.
    static func scalarEvent(wallTime: Double, step: Int64, _ values: [(tag: String, value: Double)]) -> [UInt8] {
        var summary = ProtoMessage()
        for (tag, value) in values {
            var v = ProtoMessage()
            v.string(1, tag)
            v.float(2, Float(value))
            summary.message(1, v)
        }
        return event(wallTime: wallTime, step: step, summary: summary)
    }

    /// A text-plugin summary: `Value{tag = 1, metadata = 9 {plugin_data = 1 {plugin_name = 1: "text"}},
    /// tensor = 8 {dtype = 1: DT_STRING (7), tensor_shape = 2: scalar, string_val = 8}}`.
    static func text(wallTime: Double, step: Int64, tag: String, markdown: String) -> [UInt8] {
        var pluginData = ProtoMessage(), metadata = ProtoMessage(), tensor = ProtoMessage(), value = ProtoMessage()
        pluginData.string(1, "text")
        metadata.message(1, pluginData)
        tensor.int64(1, 7)
        tensor.message(2, ProtoMessage())
        tensor.string(8, markdown)
        value.string(1, tag)
        value.message(9, metadata)
        value.message(8, tensor)
        var summary = ProtoMessage()
        summary.message(1, value)
        return event(wallTime: wallTime, step: step, summary: summary)
    }

    static func event(wallTime: Double, step: Int64, summary: ProtoMessage) -> [UInt8] {
        var e = ProtoMessage()
        e.double(1, wallTime)
        e.int64(2, step)
        e.message(5, summary)
        return e.bytes
    }
}
