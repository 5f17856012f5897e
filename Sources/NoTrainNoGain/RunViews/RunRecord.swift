import Foundation

/// A run folder read back for viewing (`ntng runs`, `ntng plot`): its name, its typed log and
/// whether it is still training.
public struct RunRecord {
    public enum Status: String, Codable, Sendable {
        /// A process holds the run's lock.
        case running
        /// The log has its end line.
        case finished
        /// Neither: stopped before its budget was used (`--resume` continues it).
        case interrupted
    }

    public let directory: String
    /// The config's `name`, or the folder's name.
    public let name: String
    public let events: [RunEvent]
    public let status: Status

    public init(directory: String) throws {
        let log = directory + "/metrics.jsonl"
        guard FileManager.default.fileExists(atPath: log) else {
            throw InputError(directory, "is not a run folder (it has no metrics.jsonl)")
        }
        self.directory = directory
        events = try MetricsLog.read(log)
        guard events.start != nil else { throw InputError(log, "has no start line; is it a run's log?") }
        let config = FileManager.default.contents(atPath: directory + "/config.json").flatMap {
            try? JSONCoding.decoder().decode(JSONValue.self, from: $0)
        }
        name = config?.object?["name"]?.string ?? URL(fileURLWithPath: directory).lastPathComponent
        status = RunLock.isHeld(run: directory) ? .running : events.end != nil ? .finished : .interrupted
    }

    /// The run folders in `folder` and below (folders with a `metrics.jsonl`), sorted by path.
    public static func find(under folder: String) throws -> [String] {
        let fm = FileManager.default
        var isFolder: ObjCBool = false
        guard fm.fileExists(atPath: folder, isDirectory: &isFolder) else { throw InputError(folder, "no such folder") }
        guard isFolder.boolValue else { throw InputError(folder, "is a file, not a folder of runs") }
        if fm.fileExists(atPath: folder + "/metrics.jsonl") { return [folder] }
        guard let walker = fm.enumerator(atPath: folder) else { return [] }
        var runs: [String] = []
        while let path = walker.nextObject() as? String {
            guard (path as NSString).lastPathComponent == "metrics.jsonl" else { continue }
            runs.append(folder + "/" + (path as NSString).deletingLastPathComponent)
        }
        return runs.sorted()
    }

    /// "adamw, layer-stacking": the optimiser, then the methods.
    public var recipe: String {
        guard let start = events.start else { return "?" }
        return ([start.optimizer.name] + start.methods.map(\.name)).joined(separator: ", ")
    }

    /// RST used: the end line's, or the last figure logged.
    public var usedRstSeconds: Double {
        if let end = events.end { return end.rstSeconds }
        return events.lazy.compactMap(\.rstSeconds).max() ?? 0
    }

    /// The last validation loss (the final one of a finished run).
    public var lastValidationLoss: Double? { events.end?.finalValidationLoss ?? events.validations.last?.loss }

    /// One line of `ntng runs`.
    public var overview: Overview {
        let start = events.start
        return Overview(
            run: directory, name: name, model: start?.model ?? "?", optimizer: start?.optimizer.name ?? "?",
            methods: start?.methods.map(\.name) ?? [], budgetRstSeconds: start?.budgetRstSeconds ?? 0,
            usedRstSeconds: usedRstSeconds, steps: events.last?.step ?? 0, validationLoss: lastValidationLoss,
            status: status)
    }

    public struct Overview: Codable, Sendable {
        public var run: String
        public var name: String
        public var model: String
        public var optimizer: String
        public var methods: [String]
        public var budgetRstSeconds: Double
        public var usedRstSeconds: Double
        public var steps: Int
        public var validationLoss: Double?
        public var status: Status
    }

    // MARK: Curves

    /// What `ntng plot` can draw from a log.
    public enum Metric: String, CaseIterable, Sendable {
        case validationLoss = "validation_loss", validationAccuracy = "validation_accuracy", trainLoss = "train_loss"
        case learningRate = "lr", gradNorm = "grad_norm", tokensPerSecond = "tokens_per_second"

        public var label: String {
            switch self {
            case .validationLoss: "validation loss"
            case .validationAccuracy: "validation token accuracy"
            case .trainLoss: "training loss"
            case .learningRate: "learning rate"
            case .gradNorm: "gradient norm"
            case .tokensPerSecond: "tokens/s"
            }
        }
    }

    /// The x axis: RST consumed (seconds), optimiser steps, or training tokens.
    public enum Axis: String, CaseIterable, Sendable {
        case rst, step, tokens

        public var label: String {
            switch self {
            case .rst: "RST consumed (s)"
            case .step: "optimiser step"
            case .tokens: "training tokens"
            }
        }
    }

    /// `metric` against `axis`, one point per logged value.
    public func curve(_ metric: Metric, x axis: Axis) -> [(x: Double, y: Double)] {
        let points: [(step: Int, rst: Double, y: Double)] =
            switch metric {
            case .validationLoss, .validationAccuracy:
                events.validations.map { ($0.step, $0.rstSeconds, metric == .validationLoss ? $0.loss : $0.accuracy) }
            case .trainLoss: events.trainLines.map { ($0.step, $0.rstSeconds, $0.loss) }
            case .learningRate: events.trainLines.map { ($0.step, $0.rstSeconds, $0.lr) }
            case .gradNorm: events.trainLines.map { ($0.step, $0.rstSeconds, $0.gradNorm) }
            case .tokensPerSecond: events.trainLines.map { ($0.step, $0.rstSeconds, $0.tokensPerSecond) }
            }
        let tokens = events.trainLines.map { (step: Double($0.step), tokens: Double($0.tokens)) }
        return points.map { p in
            switch axis {
            case .rst: (p.rst, p.y)
            case .step: (Double(p.step), p.y)
            case .tokens: (RunRecord.interpolate([(0, 0)] + tokens, at: Double(p.step)), p.y)
            }
        }
    }

    /// Tokens at a step between two logged lines (validations fall between them), linear between
    /// the neighbours and at the last rate beyond the last.
    public static func interpolate(_ known: [(step: Double, tokens: Double)], at step: Double) -> Double {
        guard let upper = known.firstIndex(where: { $0.step >= step }) else {
            guard known.count >= 2 else { return known.last?.tokens ?? 0 }
            let a = known[known.count - 2], b = known[known.count - 1]
            return b.tokens + (step - b.step) * (b.tokens - a.tokens) / max(b.step - a.step, 1)
        }
        guard upper > 0, known[upper].step > step else { return known[upper].tokens }
        let a = known[upper - 1], b = known[upper]
        return a.tokens + (step - a.step) * (b.tokens - a.tokens) / (b.step - a.step)
    }

    /// The runs' curves side by side, as an SVG line chart; legend entries "name (recipe)".
    public static func plot(_ runs: [RunRecord], metric: Metric, x axis: Axis) -> String {
        let series = runs.map { SVGPlot.Series(name: "\($0.name) (\($0.recipe))", points: $0.curve(metric, x: axis)) }
        return SVGPlot(
            title: metric.label.prefix(1).uppercased() + metric.label.dropFirst(), xLabel: axis.label,
            yLabel: metric.label
        ).lines(series)
    }
}
