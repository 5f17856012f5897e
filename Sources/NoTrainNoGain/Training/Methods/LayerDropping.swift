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
/// them, so the block is skipped (`skip`). A draw that drops every block runs none and is charged
/// the table's zero-block cost (`all_dropped: none`); the original codes treat an empty list of
/// active layers as "all layers" (`scriptable_bert.py`, `t5/t5/models/t5.py`), so there such a draw
/// runs and is charged the full model (`all_dropped: full-model`, `reproduce: original-code`).
public final class LayerDropping: TrainingMethod {
    /// What a draw that drops every block runs.
    public enum AllDropped: String, Codable, Sendable, CaseIterable {
        case noBlocks = "none"
        case fullModel = "full-model"
    }

    /// `layer_drop: {theta_bar, gamma, per_step, dropped_blocks, all_dropped}`.
    public struct Settings: MethodSettings {
        public static let name = "layer-dropping"
        public static let section = "layer_drop"
        public var thetaBar = 0.5
        public var gamma: Double
        public var perStep: Bool
        public var droppedBlocks: MissingGradientPolicy
        public var allDropped: AllDropped

        /// The paper's settings in `context` (T5: γ_f 20, one draw per step, dropped blocks skipped).
        public init(for context: RecipeContext) {
            let t5 = context.model.kind == T5Config.name
            gamma = t5 ? 20 : 100
            perStep = t5
            droppedBlocks = t5 ? .skip : .zeroGradientIfStateExists
            allDropped = context.reproduce == .originalCode ? .fullModel : .noBlocks
        }

        public static func read(_ s: ConfigSection, for context: RecipeContext) throws -> Settings {
            var c = Settings(for: context)
            c.thetaBar = try s.double("theta_bar", default: c.thetaBar, range: 0...1)
            c.gamma = try s.double("gamma", default: c.gamma, range: 0...1e6)
            c.perStep = try s.bool("per_step", default: c.perStep)
            c.droppedBlocks = try s.choice("dropped_blocks", default: c.droppedBlocks)
            c.allDropped = try s.choice("all_dropped", default: c.allDropped)
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
            LayerDropping(
                minimumTheta: thetaBar, gamma: gamma, perStep: perStep, droppedBlocks: droppedBlocks,
                allDropped: allDropped)
        }
    }

    public let name = Settings.name
    public let minimumTheta: Double
    public let gamma: Double
    public let perStep: Bool
    public let droppedBlocks: MissingGradientPolicy
    public let allDropped: AllDropped

    public init(
        minimumTheta: Double = 0.5, gamma: Double = 100, perStep: Bool = false,
        droppedBlocks: MissingGradientPolicy = .zeroGradientIfStateExists, allDropped: AllDropped = .noBlocks
    ) {
        self.minimumTheta = minimumTheta
        self.gamma = gamma
        self.perStep = perStep
        self.droppedBlocks = droppedBlocks
        self.allDropped = allDropped
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
        let kept = all.filter { i in g.uniformDouble() >= dropProbability(block: i, of: all.count, progress: progress) }
        return kept.isEmpty && allDropped == .fullModel ? all : kept
    }
}
