import Engine

/// Sophia-G (Liu et al. 2023; spec §6): a clipped, diagonally preconditioned sign step.
///
///     p ← p·(1 − lr·wd);   m ← β₁m + (1 − β₁)g;   p ← p − lr·sign(m)·min(|m| / (ρ·bs·h + ε), 1)
///
/// with h an EMA of ĝ⊙ĝ, ĝ the gradient of the loss against labels sampled from the model's own
/// softmax (the Gauss-Newton-Bartlett estimator), refreshed every k steps starting before the
/// first step: h ← β₂h + (1 − β₂)ĝ⊙ĝ (`updateCurvature`, after the trainer's sampled-label pass).
/// β = (0.965, 0.99), k = 10, ε = 1e-15. BERT: ρ 0.01, lr 4e-4, wd 0.015, bs = 196,608 tokens.
public final class Sophia: ArenaOptimizer {
    public var beta1: Float
    public var beta2: Float
    public var rho: Float
    /// bs: the batch size in tokens that scales the Hessian.
    public var batchTokens: Float
    public var weightDecay: Float
    public var epsilon: Float = 1e-15
    /// k: steps between Hessian updates.
    public var hessianInterval: Int
    public var momentum: Tensor { state[0].buffer }
    public var hessian: Tensor { state[1].buffer }
    /// Hessian updates done so far.
    public private(set) var curvatureUpdates = 0

    public init(
        _ arena: ParameterArena, beta1: Float = 0.965, beta2: Float = 0.99, rho: Float = 0.01,
        batchTokens: Float, weightDecay: Float = 0.015, hessianInterval: Int = 10
    ) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.rho = rho
        self.batchTokens = batchTokens
        self.weightDecay = weightDecay
        self.hessianInterval = hessianInterval
        super.init(arena: arena, name: "sophia", statePrefixes: ["exp_avg", "hessian"])
    }

    /// Every k steps, the first before step 0.
    public override func wantsCurvatureUpdate(beforeStep step: Int) -> Bool { step % hessianInterval == 0 }

    /// h ← β₂h + (1 − β₂)ĝ⊙ĝ for every parameter the sampled-label pass gave a gradient.
    public func updateCurvature() {
        for (range, has) in arena.runs({ arena.parameters[$0].tensor.hasGrad }) where has {
            arena.values.backend.squaredEMA(view(hessian, range), gradient: view(arena.gradients, range), beta: beta2)
        }
        curvatureUpdates += 1
    }

    /// Restores the count of Hessian updates (checkpoints).
    public func restoreCurvatureUpdates(_ n: Int) { curvatureUpdates = n }

    override func update(_ range: Range<Int>, step: Int, learningRate: Float, decays: Bool) {
        arena.values.backend.sophia(
            view(arena.values, range), gradient: view(arena.gradients, range),
            momentum: view(momentum, range), hessian: view(hessian, range),
            SophiaStep(
                learningRate: learningRate, beta1: beta1, rhoTimesBatch: rho * batchTokens,
                epsilon: epsilon, weightDecay: decays ? weightDecay : 0))
    }
}
