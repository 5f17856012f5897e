import Engine

/// Sophia-G (Liu et al. 2023; the original code's `sophiag.py`, `bert/pretrain_bert_sophia.py`,
/// `t5/t5/utils/sophia.py`): a clipped, diagonally preconditioned sign step.
///
///     p ← p·(1 − lr·wd);   m ← β₁m + (1 − β₁)g;   p ← p − lr·sign(m)·min(|m| / (ρ·bs·h + ε), 1)
///
/// with h an EMA of ĝ⊙ĝ, ĝ the gradient of the loss against labels sampled from the model's own
/// softmax (the Gauss-Newton-Bartlett estimator), refreshed every k steps starting before the
/// first step: h ← β₂h + (1 − β₂)ĝ⊙ĝ (`SophiaCurvaturePass.swift`). β = (0.965, 0.99), k = 10,
/// ε = 1e-15. BERT: ρ 0.01, lr 4e-4, wd 0.015, bs = 196,608 tokens (paper, App. C.6). T5: ρ 0.01,
/// lr 1e-3, wd 0, RMS-scaled lr, bs = 5120 tokens, each Hessian update from the next batch.
public final class Sophia: ArenaOptimizer {
    /// `optimizer: {name: sophia}`: ρ and the Hessian estimate's settings.
    public struct Settings: OptimizerSettings {
        public static let name = "sophia"

        /// Which labels the sampled-label pass draws.
        public enum HessianLabels: String, Codable, Sendable, CaseIterable {
            /// Labels drawn from the model's vocabulary softmax at the predicted positions (intended).
            case vocabulary
            /// The original BERT code's quirk: the encoder's final hidden states [B·S, d] are taken as
            /// logits, so labels are drawn over d "classes" and the head gets no curvature estimate.
            case hiddenStates = "hidden-states"
        }

        public var rho: Float = 0.01
        /// k: optimiser steps between Hessian updates.
        public var hessianInterval = 10
        /// Fresh micro-batches (not trained on) per Hessian update: by default half a training batch's
        /// micro-batches, rounded up (BERT: the paper's 6 of 12), so the Hessian passes cost the same
        /// share of the budget at any accumulation; T5: a whole batch (nanoT5's 2 of 2).
        public var hessianMicroBatches = 6
        /// bs in tokens; nil = the training batch (batch_size × sequence_length).
        public var hessianBatchTokens: Int?
        public var hessianLabels = HessianLabels.vocabulary
        /// Which gradient of the Hessian micro-batches the estimate squares.
        public var hessianGradient = HessianGradient.mean
        /// Refresh the estimate before step 0 (then every k steps); without, the first refresh comes
        /// before step k, as nanoT5's loop does it (after its 10th step), and the first k steps run
        /// on h = 0, i.e. clipped to sign steps.
        public var hessianAtStart = true
        /// Charge nothing for the Hessian passes (the paper's "free" ablation).
        public var freeHessian = false
        /// Clip the sampled-label gradient to `training.gradient_clip` before the update (nanoT5 does).
        public var clipHessianGradient = false

        /// What the sampled-label gradients of the micro-batches become.
        public enum HessianGradient: String, Codable, Sendable, CaseIterable {
            /// Their mean (intended).
            case mean
            /// The original BERT code's quirk: `optimizer.zero_grad` at the top of every Hessian
            /// micro-batch (`bert/pretrain_bert_sophia.py`) leaves the last one's gradient alone,
            /// undivided; every micro-batch is still drawn and charged.
            case lastMicroBatch = "last-micro-batch"
        }

        public init() {}

        /// T5 (nanoT5): bs 5120 tokens and one batch of micro-batches per Hessian update, clipped.
        /// `reproduce: original-code`: BERT's estimate from the last micro-batch over hidden-state
        /// labels; T5's first refresh after k steps.
        public init(for context: RecipeContext) {
            hessianMicroBatches = (context.accumulation + 1) / 2
            if context.originalCode(of: CrammedBERTConfig.name) {
                hessianLabels = .hiddenStates
                hessianGradient = .lastMicroBatch
            }
            guard context.model.kind == T5Config.name else { return }
            hessianBatchTokens = 5120
            hessianMicroBatches = context.accumulation
            clipHessianGradient = true
            hessianAtStart = !context.originalCode(of: T5Config.name)
        }

        /// BERT 4e-4 (paper, App. C.6); T5 1e-3 (`t5/README.md`).
        public static func learningRate(for model: ModelConfig) -> Double? {
            model.kind == T5Config.name ? 1e-3 : 4e-4
        }

        /// T5 (nanoT5): no weight decay, RMS-scaled lr.
        public static func common(for context: RecipeContext) -> OptimizerCommon {
            context.model.kind == T5Config.name
                ? OptimizerCommon(beta1: 0.965, beta2: 0.99, weightDecay: 0, rmsScaledLr: true)
                : OptimizerCommon(beta1: 0.965, beta2: 0.99, weightDecay: 0.015)
        }

        public mutating func read(_ o: ConfigSection) throws {
            rho = Float(try o.double("rho", default: Double(rho), range: 1e-9...1e6))
            hessianInterval = try o.int("hessian_interval", default: hessianInterval, range: 1...1_000_000)
            hessianMicroBatches = try o.int(
                "hessian_micro_batches", default: hessianMicroBatches, range: 1...1_000_000)
            if o.has("hessian_batch_tokens") {
                hessianBatchTokens = try o.int("hessian_batch_tokens", default: 1, range: 1...Int.max)
            }
            hessianLabels = try o.choice("hessian_labels", default: hessianLabels)
            hessianGradient = try o.choice("hessian_gradient", default: hessianGradient)
            hessianAtStart = try o.bool("hessian_at_start", default: hessianAtStart)
            freeHessian = try o.bool("free_hessian", default: freeHessian)
            clipHessianGradient = try o.bool("clip_hessian_gradient", default: clipHessianGradient)
        }

        public func make(_ arena: ParameterArena, _ c: OptimizerCommon, batchTokens: Int) -> ArenaOptimizer {
            Sophia(
                arena, beta1: c.beta1, beta2: c.beta2, rho: rho, batchTokens: Float(hessianBatchTokens ?? batchTokens),
                weightDecay: c.weightDecay, hessianInterval: hessianInterval, curvature: self)
        }
    }

    public var beta1: Float
    public var beta2: Float
    public var rho: Float
    /// bs: the batch size in tokens that scales the Hessian.
    public var batchTokens: Float
    public var weightDecay: Float
    public var epsilon: Float = 1e-15
    /// k: steps between Hessian updates.
    public var hessianInterval: Int
    /// How the sampled-label pass runs (micro-batches, labels, charging, clipping).
    public let curvature: Settings
    public var momentum: Tensor { state[0].buffer }
    public var hessian: Tensor { state[1].buffer }
    /// Hessian updates done so far.
    public private(set) var curvatureUpdates = 0

    public init(
        _ arena: ParameterArena, beta1: Float = 0.965, beta2: Float = 0.99, rho: Float = 0.01,
        batchTokens: Float, weightDecay: Float = 0.015, hessianInterval: Int = 10, curvature: Settings = Settings()
    ) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.rho = rho
        self.batchTokens = batchTokens
        self.weightDecay = weightDecay
        self.hessianInterval = hessianInterval
        self.curvature = curvature
        super.init(arena: arena, name: Settings.name, statePrefixes: ["exp_avg", "hessian"])
    }

    /// Every k steps, the first before step 0 (before step k without `hessian_at_start`).
    public func wantsCurvatureUpdate(beforeStep step: Int) -> Bool {
        step % hessianInterval == 0 && (step > 0 || curvature.hessianAtStart)
    }

    public override func willStep(_ trainer: TrainerContext) {
        if wantsCurvatureUpdate(beforeStep: trainer.step) { curvaturePass(trainer) }
    }

    /// h ← β₂h + (1 − β₂)ĝ⊙ĝ for every parameter the sampled-label pass gave a gradient.
    public func updateCurvature() {
        for (range, has) in arena.runs({ arena.parameters[$0].tensor.hasGrad }) where has {
            arena.values.backend.squaredEMA(view(hessian, range), gradient: view(arena.gradients, range), beta: beta2)
        }
        curvatureUpdates += 1
    }

    override func update(_ range: Range<Int>, step: Int, learningRate: Float, decays: Bool) {
        arena.values.backend.sophia(
            view(arena.values, range), gradient: view(arena.gradients, range),
            momentum: view(momentum, range), hessian: view(hessian, range),
            SophiaStep(
                learningRate: learningRate, beta1: beta1, rhoTimesBatch: rho * batchTokens,
                epsilon: epsilon, weightDecay: decays ? weightDecay : 0))
    }

    struct State: Codable {
        var curvatureUpdates: Int
    }

    public override var logFields: JSONValue? { try? JSONValue(encoding: State(curvatureUpdates: curvatureUpdates)) }

    public override func checkpointValues() throws -> JSONValue? {
        try JSONValue(encoding: State(curvatureUpdates: curvatureUpdates))
    }

    public override func restore(values: JSONValue?, tensors: [String: SafeTensors.Entry]) throws {
        curvatureUpdates = try values?.decode(State.self).curvatureUpdates ?? 0
    }
}
