import Engine

/// One optimiser step, the part every training loop shares (pre-training and fine-tuning alike):
/// forward and backward of each micro-batch with the loss divided by the number of micro-batches
/// (gradients accumulate in the parameter arena), then global-norm clipping (if `clip` > 0), the
/// optimiser update at the learning rate given *after* the micro-batches (schedules read the
/// budget, which the micro-batches advance), and clearing the gradients.
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
    }

    /// `loss(b)` builds the differentiable loss of micro-batch `b`.
    public func run<Batch>(_ microBatches: [Batch], loss: (Batch) -> Tensor, learningRate: () -> Double) -> Outcome {
        var sum = 0.0
        for batch in microBatches {
            let l = loss(batch)
            l.scaled(by: 1 / Float(microBatches.count)).backward()
            sum += Double(l.item())
        }
        let lr = learningRate()
        let norm = clip > 0 ? clipGradientNorm(arena.tensors, maxNorm: Float(clip)) : gradientNorm(arena.tensors)
        optimizer.step(learningRate: Float(lr))
        arena.zeroGrad()
        return Outcome(meanLoss: sum / Double(max(microBatches.count, 1)), gradientNorm: norm, learningRate: lr)
    }
}
