import Engine

/// AdamWScale, nanoT5's optimiser for T5 (`t5/t5/utils/copied.py`): Hugging Face's AdamW form with
/// bias correction folded into the step size, and the step scaled by the parameter's RMS:
///
///     α_t = lr · √(1 − β₂ᵗ) / (1 − β₁ᵗ) · max(10⁻³, RMS(p));   p ← p − α_t · m / (√v + ε)
///
/// β = (0.9, 0.999), ε = 1e-6, no weight decay; base lr 2e-2. This equals PyTorch's form
/// m̂/(√v̂ + ε′) with ε′ = ε/√(1 − β₂ᵗ) (`huggingFaceEpsilon`), which is how it runs on the shared
/// AdamW kernel.
public final class AdamWScale: AdamW {
    /// `optimizer: {name: adamw-scale}`: ε beyond the shared keys; the RMS-scaled step is always on.
    public struct Settings: EpsilonSettings {
        public static let name = "adamw-scale"
        public var epsilon: Float = 1e-6

        public init(for context: RecipeContext) {}

        public static func common(for context: RecipeContext) -> OptimizerCommon {
            OptimizerCommon(beta1: 0.9, beta2: 0.999, weightDecay: 0, rmsScaledLr: true)
        }

        public func make(_ arena: ParameterArena, _ c: OptimizerCommon, batchTokens: Int) -> ArenaOptimizer {
            AdamWScale(arena, beta1: c.beta1, beta2: c.beta2, epsilon: epsilon, weightDecay: c.weightDecay)
        }
    }

    public init(
        _ arena: ParameterArena, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-6, weightDecay: Float = 0
    ) {
        super.init(
            arena,
            Hyperparameters(
                beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay, huggingFaceEpsilon: true),
            name: Settings.name)
        rmsScaledLearningRate = true
    }
}
