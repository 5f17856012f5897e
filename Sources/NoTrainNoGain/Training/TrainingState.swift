import Engine

/// Everything besides weights and optimiser moments that a checkpoint must hold for `--resume`
/// to continue exactly as an uninterrupted run would: counters, the RST budget and ledger, the
/// position in the data, per-parameter optimiser steps and the validation history.
public struct TrainingState: Codable, Equatable, Sendable {
    public var step = 0
    /// Micro-batches drawn so far (seeds the MLM masks of the next one).
    public var microBatches = 0
    /// Training rows read so far (the next row is `DataSplit.trainingRow(at: dataPosition)`).
    public var dataPosition = 0
    public var budget: Budget
    public var ledger = Ledger()
    public var parameterSteps: [Int] = []
    /// Sophia's Hessian updates so far.
    public var curvatureUpdates = 0
    /// Layer stacking's active block count (nil without stacking).
    public var stackedBlocks: Int?
    /// Sequences scored and kept by batch selection.
    public var selectionSeen = 0
    public var selectionKept = 0
    public var tokensSeen = 0
    /// Step, RST seconds, validation loss and token accuracy after each validation.
    public var validations: [ValidationPoint] = []
    /// Progress fractions of the next validation and checkpoint.
    public var nextValidation: Double = .infinity
    public var nextCheckpoint: Double = .infinity
    /// Wall-clock seconds spent training (for throughput; never used by a schedule).
    public var wallSeconds = 0.0
    public var costModelSource = ""

    public struct ValidationPoint: Codable, Equatable, Sendable {
        public var step: Int
        public var rstSeconds: Double
        public var loss: Double
        /// Token accuracy on the validation rows (absent in checkpoints of older versions).
        public var accuracy: Double?
    }

    public init(budget: Budget) { self.budget = budget }
}
