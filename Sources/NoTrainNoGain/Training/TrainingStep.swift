import Engine

/// One optimiser step, the part every training loop shares (pre-training and fine-tuning alike):
/// forward and backward of each micro-batch with the loss divided by the number of micro-batches
/// (gradients accumulate in the parameter arena), then global-norm clipping (if `clip` > 0), the
/// optimiser update at the learning rate given *after* the micro-batches (schedules read the
/// budget, which the micro-batches advance), and clearing the gradients. A non-finite loss or
/// gradient norm drops the update (the parameters and the optimiser state stay as they were) and is
/// reported in the outcome; what then happens is the caller's policy.
///
/// With several processes (`communicator`), each runs the micro-batches it owns, and the gradients
/// and losses are summed over the processes before the clip and the update: every process then
/// holds the step a single process would have taken (up to the order of the float additions).
public struct TrainingStep {
    public let arena: ParameterArena
    public let optimizer: ArenaOptimizer
    public let clip: Double
    public let communicator: any Communicator

    public init(
        arena: ParameterArena, optimizer: ArenaOptimizer, clip: Double, communicator: any Communicator = SingleProcess()
    ) {
        self.arena = arena
        self.optimizer = optimizer
        self.clip = clip
        self.communicator = communicator
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

    /// `loss(b)` builds the differentiable loss of micro-batch `b` (called for this process's own).
    public func run<Batch>(_ microBatches: [Batch], loss: (Batch) -> Tensor, learningRate: () -> Double) -> Outcome {
        var losses = [Double](repeating: 0, count: microBatches.count)
        for (k, batch) in microBatches.enumerated() where communicator.owns(k) {
            let l = loss(batch)
            l.scaled(by: 1 / Float(microBatches.count)).backward()
            losses[k] = Double(l.item())
        }
        communicator.sum(&losses)
        communicator.sumGradients(arena)
        var nonFinite = losses.firstIndex { !$0.isFinite }.map {
            NonFinite(quantity: "training loss", microBatch: $0, value: losses[$0])
        }
        let sum = losses.reduce(0, +)
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
