import Engine

/// AdamW (Loshchilov & Hutter) with PyTorch's update (spec §1a: β = (0.9, 0.98), ε = 1e-12,
/// weight decay 0.01 except on norm weights and biases), with bias correction per parameter.
public class AdamW: ArenaOptimizer {
    public struct Hyperparameters: Codable, Equatable, Sendable {
        public var beta1: Float = 0.9
        public var beta2: Float = 0.98
        public var epsilon: Float = 1e-12
        public var weightDecay: Float = 0.01
        public init(beta1: Float = 0.9, beta2: Float = 0.98, epsilon: Float = 1e-12, weightDecay: Float = 0.01) {
            self.beta1 = beta1
            self.beta2 = beta2
            self.epsilon = epsilon
            self.weightDecay = weightDecay
        }
    }

    public var hyperparameters: Hyperparameters
    public var firstMoment: Tensor { state[0].buffer }
    public var secondMoment: Tensor { state[1].buffer }

    public convenience init(_ arena: ParameterArena, _ hyperparameters: Hyperparameters = Hyperparameters()) {
        self.init(arena, hyperparameters, name: "adamw")
    }

    init(_ arena: ParameterArena, _ hyperparameters: Hyperparameters, name: String) {
        self.hyperparameters = hyperparameters
        super.init(arena: arena, name: name, statePrefixes: ["exp_avg", "exp_avg_sq"])
    }

    /// The ε of PyTorch's form m̂/(√v̂ + ε) at step t (subclasses that place ε elsewhere rescale it).
    func epsilon(step t: Float) -> Float { hyperparameters.epsilon }

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
