import Engine

/// Lion (Chen et al. 2023; the original code's `lion_pytorch.py` and `t5/t5/utils/lion.py`):
/// decoupled weight decay, a step of the sign of the interpolated momentum, then the momentum
/// update with β₂:
///
///     p ← p·(1 − lr·wd);   p ← p − lr·sign(β₁m + (1 − β₁)g);   m ← β₂m + (1 − β₂)g
///
/// β = (0.9, 0.99). BERT: lr 7e-4, wd 0.1 (paper, App. C.5). T5: lr 7.5e-4, wd 0, RMS-scaled
/// learning rate.
public final class Lion: ArenaOptimizer {
    /// `optimizer: {name: lion}`: nothing beyond the shared keys.
    public struct Settings: OptimizerSettings {
        public static let name = "lion"

        public init(for context: RecipeContext) {}

        /// BERT 7e-4 (paper, App. C.5); T5 7.5e-4 (`t5/README.md`).
        public static func learningRate(for model: ModelConfig) -> Double? {
            model.kind == T5Config.name ? 7.5e-4 : 7e-4
        }

        /// T5: no weight decay, RMS-scaled lr.
        public static func common(for context: RecipeContext) -> OptimizerCommon {
            let t5 = context.model.kind == T5Config.name
            return OptimizerCommon(beta1: 0.9, beta2: 0.99, weightDecay: t5 ? 0 : 0.1, rmsScaledLr: t5)
        }

        public mutating func read(_ o: ConfigSection) throws {}

        public func make(_ arena: ParameterArena, _ c: OptimizerCommon, batchTokens: Int) -> ArenaOptimizer {
            Lion(arena, beta1: c.beta1, beta2: c.beta2, weightDecay: c.weightDecay)
        }
    }

    public var beta1: Float
    public var beta2: Float
    public var weightDecay: Float
    public var momentum: Tensor { state[0].buffer }

    public init(_ arena: ParameterArena, beta1: Float = 0.9, beta2: Float = 0.99, weightDecay: Float = 0.1) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.weightDecay = weightDecay
        super.init(arena: arena, name: Settings.name, statePrefixes: ["exp_avg"])
    }

    override func update(_ range: Range<Int>, step: Int, learningRate: Float, decays: Bool) {
        arena.values.backend.lion(
            view(arena.values, range), gradient: view(arena.gradients, range), momentum: view(momentum, range),
            LionStep(
                learningRate: learningRate, beta1: beta1, beta2: beta2,
                weightDecay: decays ? weightDecay : 0))
    }
}
