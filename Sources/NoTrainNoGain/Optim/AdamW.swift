import Engine

/// AdamW (Loshchilov & Hutter) with PyTorch's update and bias correction per parameter:
///
///     p ← p·(1 − lr·wd);   m ← β₁m + (1 − β₁)g;   v ← β₂v + (1 − β₂)g²;
///     p ← p − lr · (m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε)
///
/// The paper's BERT settings (cramming's `train/optim/adam.yaml`): lr 1e-3, β = (0.9, 0.98),
/// ε = 1e-12, weight decay 0.01 except on biases and norm weights.
public class AdamW: ArenaOptimizer {
    /// `optimizer: {name: adamw}`: ε beyond the shared keys.
    public struct Settings: EpsilonSettings {
        public static let name = "adamw"
        public var epsilon: Float = 1e-12

        public init(for context: RecipeContext) {}

        public static func common(for context: RecipeContext) -> OptimizerCommon {
            OptimizerCommon(beta1: 0.9, beta2: 0.98, weightDecay: 0.01)
        }

        public func make(_ arena: ParameterArena, _ c: OptimizerCommon, batchTokens: Int) -> ArenaOptimizer {
            AdamW(arena, Hyperparameters(beta1: c.beta1, beta2: c.beta2, epsilon: epsilon, weightDecay: c.weightDecay))
        }
    }

    public struct Hyperparameters: Codable, Equatable, Sendable {
        public var beta1: Float = 0.9
        public var beta2: Float = 0.98
        public var epsilon: Float = 1e-12
        public var weightDecay: Float = 0.01
        /// ε added to √v before the bias correction, as Hugging Face's `transformers.AdamW` (and
        /// nanoT5's AdamWScale) place it: m̂ / (√v̂ + ε/√(1 − β₂ᵗ)) in PyTorch's form.
        public var huggingFaceEpsilon = false

        public init(
            beta1: Float = 0.9, beta2: Float = 0.98, epsilon: Float = 1e-12, weightDecay: Float = 0.01,
            huggingFaceEpsilon: Bool = false
        ) {
            self.beta1 = beta1
            self.beta2 = beta2
            self.epsilon = epsilon
            self.weightDecay = weightDecay
            self.huggingFaceEpsilon = huggingFaceEpsilon
        }

        enum CodingKeys: String, CodingKey { case beta1, beta2, epsilon, weightDecay, huggingFaceEpsilon }

        /// Reports written before `huggingFaceEpsilon` existed read as PyTorch's placement.
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.init(
                beta1: try c.decode(Float.self, forKey: .beta1), beta2: try c.decode(Float.self, forKey: .beta2),
                epsilon: try c.decode(Float.self, forKey: .epsilon),
                weightDecay: try c.decode(Float.self, forKey: .weightDecay),
                huggingFaceEpsilon: try c.decodeIfPresent(Bool.self, forKey: .huggingFaceEpsilon) ?? false)
        }
    }

    public var hyperparameters: Hyperparameters
    public var firstMoment: Tensor { state[0].buffer }
    public var secondMoment: Tensor { state[1].buffer }

    public convenience init(_ arena: ParameterArena, _ hyperparameters: Hyperparameters = Hyperparameters()) {
        self.init(arena, hyperparameters, name: Settings.name)
    }

    init(_ arena: ParameterArena, _ hyperparameters: Hyperparameters, name: String) {
        self.hyperparameters = hyperparameters
        super.init(arena: arena, name: name, statePrefixes: ["exp_avg", "exp_avg_sq"])
    }

    /// The ε of PyTorch's form m̂/(√v̂ + ε) at step t.
    func epsilon(step t: Float) -> Float {
        let h = hyperparameters
        return h.huggingFaceEpsilon ? h.epsilon / (1 - pow(h.beta2, t)).squareRoot() : h.epsilon
    }

    override func update(_ range: Range<Int>, step: Int, learningRate: Float, decays: Bool) {
        let h = hyperparameters, t = Float(step)
        arena.values.backend.adamW(
            view(arena.values, range), gradient: view(arena.gradients, range),
            firstMoment: view(firstMoment, range), secondMoment: view(secondMoment, range),
            AdamWStep(
                learningRate: learningRate, beta1: h.beta1, beta2: h.beta2, epsilon: epsilon(step: t),
                weightDecay: decays ? h.weightDecay : 0,
                biasCorrection1: 1 - pow(h.beta1, t), biasCorrection2: 1 - pow(h.beta2, t)))
    }
}

#if canImport(Glibc)
    import Glibc
#endif
