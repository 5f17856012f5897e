import Foundation

/// One line of a run's `metrics.jsonl`, typed: written by the run, read back by experiments, reports
/// and tests. Each line is a JSON object with an `event` ("start", "train", "validation",
/// "checkpoint", "end", or a method's own, e.g. "stacking"), the optimiser `step` and the event's
/// figures, in snake_case; the log adds the `time` it was written (`MetricsLog`).
public enum RunEvent: Equatable, Sendable {
    case start(Start)
    case train(Train)
    case validation(Validation)
    case checkpoint(CheckpointWritten)
    case method(MethodEvent)
    case nonFinite(NonFiniteStep)
    case end(End)

    /// A plug-in (optimiser or method) as the run uses it: its name and settings.
    public struct PluginRecord: Codable, Equatable, Sendable {
        public var name: String
        public var settings: JSONValue
    }

    /// What the run is: model, data, budget, cost table, optimiser and methods.
    public struct Start: Codable, Equatable, Sendable {
        public var step = 0
        /// Whose behaviour the run's defaults follow (`reproduce:`).
        public var reproduce: Reproduce
        public var parameters: Int
        public var model: String
        public var rowLength: Int
        public var trainRows: Int
        public var validationRows: Int
        public var costModel: String
        public var tokenizer: String
        public var budgetRstSeconds: Double
        public var optimizer: PluginRecord
        /// The policy for parameters without a gradient after the methods set theirs (layer dropping).
        public var optimizerMissingGradient: MissingGradientPolicy
        public var methods: [PluginRecord]
        public var irreducibleLossModel: Bool
    }

    /// Every `log_every` optimiser steps (and the last).
    public struct Train: Codable, Equatable, Sendable {
        public var step: Int
        /// Mean training loss over the step's micro-batches.
        public var loss: Double
        public var lr: Double
        public var gradNorm: Double
        public var rstSeconds: Double
        /// consumed RST / budget.
        public var progress: Double
        public var tokens: Int
        public var tokensPerSecond: Double
        public var wallSeconds: Double
        /// Blocks run per micro-batch, averaged over the step.
        public var activeBlocks: Double
        public var ledger: Ledger
        /// The optimiser's and the methods' own fields, by plug-in name (`kept_fraction` of batch
        /// selection, `curvature_updates` of Sophia).
        public var plugins: [String: JSONValue]
    }

    public struct Validation: Codable, Equatable, Sendable {
        public var step: Int
        public var loss: Double
        /// Predicted tokens that are the label.
        public var accuracy: Double
        public var rstSeconds: Double
        public var progress: Double
    }

    public struct CheckpointWritten: Codable, Equatable, Sendable {
        public var step: Int
        public var rstSeconds: Double
        /// "cadence", "stop" (`--stop-after-steps`) or "end".
        public var reason: String
    }

    /// An event a method reports (a stacking event), with its own fields.
    public struct MethodEvent: Equatable, Sendable {
        public var name: String
        public var step: Int
        public var rstSeconds: Double
        public var fields: [String: JSONValue]

        /// The fields read as `T`.
        public func decode<T: Decodable>(_ type: T.Type) throws -> T { try JSONValue.object(fields).decode(T.self) }
    }

    /// A step whose update was dropped: the quantity that was not finite and what the run did.
    public struct NonFiniteStep: Codable, Equatable, Sendable {
        public var step: Int
        public var rstSeconds: Double
        /// "training loss" or "gradient norm".
        public var quantity: String
        /// The micro-batch of the step (0-based) whose loss it was.
        public var microBatch: Int?
        public var value: Double
        /// "abort" or "skip-step".
        public var action: NonFinitePolicy
        /// Dropped steps in a row, this one included.
        public var consecutive: Int
    }

    /// The budget is used: the final figures.
    public struct End: Codable, Equatable, Sendable {
        public var step: Int
        public var rstSeconds: Double
        public var tokens: Int
        public var finalValidationLoss: Double
        public var finalValidationAccuracy: Double
        public var wallSeconds: Double
        public var ledger: Ledger
    }

    /// The `event` field.
    public var name: String {
        switch self {
        case .start: "start"
        case .train: "train"
        case .validation: "validation"
        case .checkpoint: "checkpoint"
        case .method(let m): m.name
        case .nonFinite: "nonfinite"
        case .end: "end"
        }
    }

    public var step: Int {
        switch self {
        case .start(let e): e.step
        case .train(let e): e.step
        case .validation(let e): e.step
        case .checkpoint(let e): e.step
        case .method(let e): e.step
        case .nonFinite(let e): e.step
        case .end(let e): e.step
        }
    }

    /// RST consumed when the event happened (nil for the start, before any).
    public var rstSeconds: Double? {
        switch self {
        case .start: nil
        case .train(let e): e.rstSeconds
        case .validation(let e): e.rstSeconds
        case .checkpoint(let e): e.rstSeconds
        case .method(let e): e.rstSeconds
        case .nonFinite(let e): e.rstSeconds
        case .end(let e): e.rstSeconds
        }
    }

    /// The event as one line of JSON (without the newline), stamped with `time` (Unix seconds) if given.
    public func jsonLine(time: Double? = nil) throws -> Data {
        var object: [String: JSONValue]
        switch self {
        case .start(let e): object = try JSONValue(encoding: e).object ?? [:]
        case .train(let e): object = try JSONValue(encoding: e).object ?? [:]
        case .validation(let e): object = try JSONValue(encoding: e).object ?? [:]
        case .checkpoint(let e): object = try JSONValue(encoding: e).object ?? [:]
        case .nonFinite(let e): object = try JSONValue(encoding: e).object ?? [:]
        case .end(let e): object = try JSONValue(encoding: e).object ?? [:]
        case .method(let e):
            object = e.fields
            object["step"] = .number(Double(e.step))
            object["rst_seconds"] = .number(e.rstSeconds)
        }
        object["event"] = .string(name)
        object["time"] = time.map { .number($0) }
        return try JSONCoding.encoder(pretty: false).encode(JSONValue.object(object))
    }

    /// Reads one line of a log.
    public init(jsonLine line: Data) throws {
        try self.init(json: try JSONCoding.decoder().decode(JSONValue.self, from: line))
    }

    /// Reads one line of a log, already parsed.
    init(json value: JSONValue) throws {
        guard var object = value.object, let name = object["event"]?.string else {
            throw InputError("not a run event (no 'event' field)")
        }
        switch name {
        case "start": self = .start(try value.decode(Start.self))
        case "train": self = .train(try value.decode(Train.self))
        case "validation": self = .validation(try value.decode(Validation.self))
        case "checkpoint": self = .checkpoint(try value.decode(CheckpointWritten.self))
        case "nonfinite": self = .nonFinite(try value.decode(NonFiniteStep.self))
        case "end": self = .end(try value.decode(End.self))
        default:
            guard let step = object["step"]?.double, let rst = object["rst_seconds"]?.double else {
                throw InputError("event '\(name)' has no step or rst_seconds")
            }
            for key in ["event", "step", "rst_seconds", "time"] { object[key] = nil }
            self = .method(MethodEvent(name: name, step: Int(step), rstSeconds: rst, fields: object))
        }
    }
}

extension Array where Element == RunEvent {
    public var start: RunEvent.Start? { lazy.compactMap { if case .start(let e) = $0 { e } else { nil } }.first }
    public var trainLines: [RunEvent.Train] { compactMap { if case .train(let e) = $0 { e } else { nil } } }
    public var validations: [RunEvent.Validation] { compactMap { if case .validation(let e) = $0 { e } else { nil } } }
    public var end: RunEvent.End? { lazy.compactMap { if case .end(let e) = $0 { e } else { nil } }.last }
    /// The events method plug-ins reported under `name` ("stacking").
    public func methodEvents(_ name: String) -> [RunEvent.MethodEvent] {
        compactMap { if case .method(let e) = $0, e.name == name { e } else { nil } }
    }
}
