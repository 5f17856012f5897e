import Engine

/// Everything besides weights and optimiser moments that a checkpoint must hold for `--resume`
/// to continue exactly as an uninterrupted run would: counters, the RST budget and ledger, the
/// position in the data, per-parameter optimiser steps, the validation history and the plug-ins'
/// own state. Written as the checkpoint's `state.json`.
public struct TrainingState: Codable, Equatable, Sendable {
    /// The layout of `state.json` (2: snake_case keys, plug-in state under `plugins`).
    public static let currentFormat = 2
    public var format = TrainingState.currentFormat
    public var step = 0
    /// Micro-batches drawn so far (seeds the corruption of the next one).
    public var microBatches = 0
    /// Training rows read so far (the next row is `DataSplit.trainingRow(at: dataPosition)`).
    public var dataPosition = 0
    public var budget: Budget
    public var ledger = Ledger()
    public var parameterSteps: [Int] = []
    public var tokensSeen = 0
    /// Step, RST seconds, validation loss and token accuracy after each validation.
    public var validations: [ValidationPoint] = []
    /// Progress fractions of the next validation and checkpoint (∞: no cadence).
    public var nextValidation: Double = .infinity
    public var nextCheckpoint: Double = .infinity
    /// Wall-clock seconds spent training (for throughput; never used by a schedule).
    public var wallSeconds = 0.0
    public var costModelSource = ""
    /// Steps in a row whose update was dropped for a non-finite loss or gradient (skip-step policy).
    public var consecutiveSkips = 0
    /// The optimiser's and the methods' own state (`RunPlugin`), by plug-in name.
    public var plugins: [String: JSONValue] = [:]
    /// The SHA-256 of every other file of the checkpoint this state is in, by file name.
    public var checksums: [String: String] = [:]

    public struct ValidationPoint: Codable, Equatable, Sendable {
        public var step: Int
        public var rstSeconds: Double
        public var loss: Double
        /// Token accuracy on the validation rows.
        public var accuracy: Double
    }

    public init(budget: Budget) { self.budget = budget }

    /// Records `cost` of `kind` in the ledger and takes it from the budget (unless `free`).
    public mutating func charge(_ kind: Ledger.Kind, _ cost: RST, free: Bool = false) {
        budget.consume(ledger.charge(kind, cost, free: free))
    }
}
