import Engine

/// One optimiser step, the part every training loop shares (pre-training and fine-tuning alike):
/// forward and backward of each micro-batch with the loss divided by the number of micro-batches
/// (gradients accumulate in the parameter arena), then global-norm clipping (if `clip` > 0), the
/// optimiser update at the learning rate given *after* the micro-batches (schedules read the
/// budget, which the micro-batches advance), and clearing the gradients. A non-finite loss or
/// gradient norm drops the update (the parameters and the optimiser state stay as they were) and is
/// reported in the outcome; what then happens is the caller's policy.
public struct TrainingStep {
    public let arena: ParameterArena
    public let optimizer: ArenaOptimizer
    public let clip: Double

    public init(arena: ParameterArena, optimizer: ArenaOptimizer, clip: Double) {
        self.arena = arena
        self.optimizer = optimizer
        self.clip = clip
    }

    public struct Outcome {
        public var meanLoss: Double
        public var gradientNorm: Float
        public var learningRate: Double
        /// Why the update was dropped, if it was.
        public var nonFinite: NonFinite?
    }

    /// A non-finite quantity that stopped a step's update.
    public struct NonFinite: Codable, Equatable, Sendable {
        /// "training loss" (of micro-batch `microBatch`) or "gradient norm".
        public var quantity: String
        /// The micro-batch (0-based, within the step) whose loss it was.
        public var microBatch: Int?
        public var value: Double
    }

    /// `loss(b)` builds the differentiable loss of micro-batch `b`.
    public func run<Batch>(_ microBatches: [Batch], loss: (Batch) -> Tensor, learningRate: () -> Double) -> Outcome {
        var sum = 0.0
        var nonFinite: NonFinite?
        for (k, batch) in microBatches.enumerated() {
            let l = loss(batch)
            l.scaled(by: 1 / Float(microBatches.count)).backward()
            let value = Double(l.item())
            if !value.isFinite && nonFinite == nil {
                nonFinite = NonFinite(quantity: "training loss", microBatch: k, value: value)
            }
            sum += value
        }
        let lr = learningRate()
        let norm = clip > 0 ? clipGradientNorm(arena.tensors, maxNorm: Float(clip)) : gradientNorm(arena.tensors)
        if nonFinite == nil && !norm.isFinite {
            nonFinite = NonFinite(quantity: "gradient norm", microBatch: nil, value: Double(norm))
        }
        if nonFinite == nil { optimizer.step(learningRate: Float(lr)) }
        arena.zeroGrad()
        return Outcome(
            meanLoss: sum / Double(max(microBatches.count, 1)), gradientNorm: norm, learningRate: lr,
            nonFinite: nonFinite)
    }
}
