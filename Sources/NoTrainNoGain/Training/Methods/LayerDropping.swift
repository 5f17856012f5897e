import Engine

#if canImport(Glibc)
    import Glibc
#endif

/// Progressive layer dropping (Zhang & He, as the original code runs it: `bert/efficient_training/
/// layer_drop.py`, `t5/t5/models/progressive.py`). The keep probability follows the RST clock,
///
///     θ(t) = (1 − θ̄)·exp(−γ_f·t/T) + θ̄        (θ̄ = 0.5; γ_f = 100 for BERT, 20 for T5)
///
/// and block i (1…L) is dropped with probability p_i = (i/L)·(1 − θ(t)), independently, drawn
/// afresh for every training micro-batch from a generator seeded by its index. A dropped block is
/// the identity on the residual stream (no 1/p rescaling of kept blocks); validation runs every
/// block; each micro-batch is charged for the blocks that ran. Expected active blocks at the end:
/// L − (1 − θ̄)(L + 1)/2. BERT draws per micro-batch; T5 draws once per optimiser step
/// (`per_step`) at the budget progress where the step starts, so all its micro-batches share one
/// set (the same set for the encoder and the decoder). How the optimiser treats a dropped block
/// follows each original code base (`dropped_blocks`): BERT's torch 1.13 `zero_grad()` zeroes
/// gradients, so momentum and weight decay still move a dropped block (`zero-gradient`); T5 frees
/// them, so the block is skipped (`skip`).
public final class LayerDropping: TrainingMethod {
    /// `layer_drop: {theta_bar, gamma, per_step, dropped_blocks}`.
    public struct Settings: MethodSettings {
        public static let name = "layer-dropping"
        public static let section = "layer_drop"
        public var thetaBar = 0.5
        public var gamma: Double
        public var perStep: Bool
        public var droppedBlocks: MissingGradientPolicy

        /// The paper's settings for `model` (T5: γ_f 20, one draw per step, dropped blocks skipped).
        public init(for model: ModelConfig) {
            let t5 = model.kind == T5Config.name
            gamma = t5 ? 20 : 100
            perStep = t5
            droppedBlocks = t5 ? .skip : .zeroGradientIfStateExists
        }

        public static func read(_ s: ConfigSection, for model: ModelConfig) throws -> Settings {
            var c = Settings(for: model)
            c.thetaBar = try s.double("theta_bar", default: c.thetaBar, range: 0...1)
            c.gamma = try s.double("gamma", default: c.gamma, range: 0...1e6)
            c.perStep = try s.bool("per_step", default: c.perStep)
            c.droppedBlocks = try s.choice("dropped_blocks", default: c.droppedBlocks)
            return c
        }

        /// T5 with its AdamWScale: base lr 1e-2 instead of 2e-2 (`t5/README.md`, paper App. C.2). The
        /// paper tuned no other optimiser with dropping; those keep their own value.
        public func learningRate(for model: ModelConfig, optimizer: String) -> Double? {
            model.kind == T5Config.name && optimizer == model.recipe.optimizer ? 1e-2 : nil
        }

        /// Dropping sets the optimiser's policy for parameters without a gradient (`prepare`), so an
        /// explicit `optimizer.missing_gradient` that disagrees is an error, not silently replaced.
        public func check(optimizer: OptimizerConfig, section: ConfigSection) throws {
            guard section.has("missing_gradient"), optimizer.common.missingGradient != droppedBlocks else { return }
            throw InputError(
                section.source,
                "optimizer.missing_gradient (\(optimizer.common.missingGradient.rawValue)) conflicts with "
                    + "layer_drop.dropped_blocks (\(droppedBlocks.rawValue)): with layer dropping the optimiser "
                    + "treats dropped blocks as layer_drop.dropped_blocks says; set that key, not "
                    + "optimizer.missing_gradient")
        }

        public func make(_ setup: MethodSetup) throws -> any TrainingMethod {
            LayerDropping(minimumTheta: thetaBar, gamma: gamma, perStep: perStep, droppedBlocks: droppedBlocks)
        }
    }

    public let name = Settings.name
    public let minimumTheta: Double
    public let gamma: Double
    public let perStep: Bool
    public let droppedBlocks: MissingGradientPolicy

    public init(
        minimumTheta: Double = 0.5, gamma: Double = 100, perStep: Bool = false,
        droppedBlocks: MissingGradientPolicy = .zeroGradientIfStateExists
    ) {
        self.minimumTheta = minimumTheta
        self.gamma = gamma
        self.perStep = perStep
        self.droppedBlocks = droppedBlocks
    }

    /// θ at budget progress t/T.
    public func keepProbability(progress: Double) -> Double {
        (1 - minimumTheta) * exp(-gamma * progress) + minimumTheta
    }

    /// p_i for block index i (0-based) of L.
    public func dropProbability(block i: Int, of count: Int, progress: Double) -> Double {
        Double(i + 1) / Double(count) * (1 - keepProbability(progress: progress))
    }

    /// With `perStep`, the uniform draws of the current step and the progress they are compared at
    /// (the step's start), fixed for all of its micro-batches.
    private var stepDraw: (step: Int, progress: Double)?

    public func prepare(optimizer: ArenaOptimizer) { optimizer.missingGradient = droppedBlocks }

    public func willStep(_ context: MethodContext) {
        if perStep { stepDraw = (context.step, context.progress) }
    }

    public func blocks(forMicroBatch index: Int, chosen: [Int]?, context: MethodContext) -> [Int]? {
        let all = chosen ?? Array(0..<context.model.blockCount)
        let (draw, progress) =
            perStep
            ? (stepDraw?.step ?? context.step, stepDraw?.progress ?? context.progress) : (index, context.progress)
        var g = SeedStream.layerDrop.generator(context.seed, draw)
        return all.filter { i in g.uniformDouble() >= dropProbability(block: i, of: all.count, progress: progress) }
    }
}
