/// The `optimizer:` section of a config: which optimiser and its hyperparameters (spec §1a, §1b,
/// §6). Defaults follow the paper's settings for each optimiser and model; the peak learning rate
/// is `training.learning_rate` (BERT: AdamW 1e-3, Lion 7e-4, Sophia 4e-4; T5: AdamWScale 2e-2,
/// Lion 7.5e-4, Sophia 1e-3).
public struct OptimizerConfig: Codable, Equatable, Sendable {
    public enum Name: String, Codable, Sendable, CaseIterable { case adamw, adamwScale = "adamw-scale", lion, sophia }

    /// Which labels Sophia's sampled-label pass draws (spec §6).
    public enum HessianLabels: String, Codable, Sendable {
        /// Labels drawn from the MLM head's vocabulary softmax at the masked positions (intended).
        case vocabulary
        /// The original code's quirk: the encoder's final hidden states [B·S, d] are taken as
        /// logits, so labels are drawn over d "classes" and the head gets no curvature estimate.
        case hiddenStates = "hidden-states"
    }

    public var name: Name = .adamw
    public var beta1: Float = 0.9
    public var beta2: Float = 0.98
    /// AdamW's ε.
    public var epsilon: Float = 1e-12
    public var weightDecay: Float = 0.01
    /// T5's lr·max(1e-3, RMS(p)).
    public var rmsScaledLearningRate = false
    public var missingGradient = MissingGradientPolicy.skip
    // Sophia
    public var rho: Float = 0.01
    public var hessianInterval = 10
    public var hessianMicroBatches = 6
    /// bs in tokens; nil = the training batch (batch_size × sequence_length).
    public var hessianBatchTokens: Int?
    public var hessianLabels = HessianLabels.vocabulary
    /// Charge nothing for the Hessian passes (the paper's "free" ablation).
    public var freeHessian = false

    /// The paper's settings of optimiser `name` for `model` (T5: no weight decay, RMS-scaled lr,
    /// Sophia's bs = 5120 tokens and the next batch for each Hessian update).
    public init(name: Name = .adamw, model: ModelConfig.Kind = .crammedBERT, accumulation: Int = 1) {
        self.name = name
        switch name {
        case .adamw: (beta1, beta2, weightDecay) = (0.9, 0.98, 0.01)
        case .adamwScale: (beta1, beta2, epsilon, weightDecay) = (0.9, 0.999, 1e-6, 0)
        case .lion: (beta1, beta2, weightDecay) = (0.9, 0.99, 0.1)
        case .sophia: (beta1, beta2, weightDecay) = (0.965, 0.99, 0.015)
        }
        if model == .t5 && name != .adamw {
            weightDecay = 0
            rmsScaledLearningRate = true
            if name == .sophia {
                hessianBatchTokens = 5120
                hessianMicroBatches = accumulation
            }
        }
        if name == .adamwScale { rmsScaledLearningRate = true }
    }

    /// Builds the optimiser over `arena`; `batchTokens` is the training batch in tokens.
    public func make(_ arena: ParameterArena, batchTokens: Int) -> ArenaOptimizer {
        let optimizer: ArenaOptimizer
        switch name {
        case .adamw:
            optimizer = AdamW(
                arena, AdamW.Hyperparameters(beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay))
        case .adamwScale:
            optimizer = AdamWScale(arena, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay)
        case .lion:
            optimizer = Lion(arena, beta1: beta1, beta2: beta2, weightDecay: weightDecay)
        case .sophia:
            optimizer = Sophia(
                arena, beta1: beta1, beta2: beta2, rho: rho, batchTokens: Float(hessianBatchTokens ?? batchTokens),
                weightDecay: weightDecay, hessianInterval: hessianInterval)
        }
        optimizer.rmsScaledLearningRate = rmsScaledLearningRate
        optimizer.missingGradient = missingGradient
        return optimizer
    }

    /// Reads the section; optimiser-specific keys are refused for other optimisers.
    static func read(_ o: ConfigSection, model: ModelConfig.Kind, accumulation: Int) throws -> OptimizerConfig {
        let nameText = try o.choice(
            "name", default: model == .t5 ? "adamw-scale" : "adamw", from: Name.allCases.map(\.rawValue))
        var c = OptimizerConfig(name: Name(rawValue: nameText)!, model: model, accumulation: accumulation)
        c.beta1 = Float(try o.double("beta1", default: Double(c.beta1), range: 0...0.999999))
        c.beta2 = Float(try o.double("beta2", default: Double(c.beta2), range: 0...0.999999))
        c.weightDecay = Float(try o.double("weight_decay", default: Double(c.weightDecay), range: 0...10))
        c.rmsScaledLearningRate = try o.bool("rms_scaled_lr", default: c.rmsScaledLearningRate)
        c.missingGradient = MissingGradientPolicy(
            rawValue: try o.choice(
                "missing_gradient", default: "skip",
                from: ["skip", "zero-gradient"]))!
        let only: [(String, [Name])] = [
            ("epsilon", [.adamw, .adamwScale]), ("rho", [.sophia]), ("hessian_interval", [.sophia]),
            ("hessian_micro_batches", [.sophia]), ("hessian_batch_tokens", [.sophia]),
            ("hessian_labels", [.sophia]), ("free_hessian", [.sophia]),
        ]
        for (key, owners) in only where o.has(key) && !owners.contains(c.name) {
            throw o.fail(
                key,
                "only applies to optimizer \(owners.map(\.rawValue).joined(separator: " or ")) (this config uses \(c.name.rawValue))"
            )
        }
        c.epsilon = Float(try o.double("epsilon", default: Double(c.epsilon), range: 0...1))
        c.rho = Float(try o.double("rho", default: 0.01, range: 1e-9...1e6))
        c.hessianInterval = try o.int("hessian_interval", default: 10, range: 1...1_000_000)
        c.hessianMicroBatches = try o.int("hessian_micro_batches", default: c.hessianMicroBatches, range: 1...1_000_000)
        if o.has("hessian_batch_tokens") {
            c.hessianBatchTokens = try o.int("hessian_batch_tokens", default: 1, range: 1...Int.max)
        }
        c.hessianLabels = HessianLabels(
            rawValue: try o.choice(
                "hessian_labels", default: "vocabulary",
                from: ["vocabulary", "hidden-states"]))!
        c.freeHessian = try o.bool("free_hessian", default: false)
        try o.finish()
        return c
    }
}
