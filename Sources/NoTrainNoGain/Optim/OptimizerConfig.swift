/// An optimiser as a plug-in: its settings beyond the shared ones (`OptimizerCommon`), the paper's
/// values for each model kind, and the optimiser they build. A new optimiser is its own file plus
/// one line in `Plugins.optimizers`.
public protocol OptimizerSettings: PluginSettings {
    /// The paper's shared settings of this optimiser for the context's model.
    static func common(for context: RecipeContext) -> OptimizerCommon
    /// The paper's peak learning rate of this optimiser for `model` where it differs from the model's
    /// recipe (nil: the recipe's, `PretrainingRecipe.learningRate`).
    static func learningRate(for model: ModelConfig) -> Double?
    /// The paper's own settings of this optimiser for the context's model and accumulation.
    init(for context: RecipeContext)
    /// Reads the optimiser's own keys of the `optimizer:` section.
    mutating func read(_ section: ConfigSection) throws
    /// The optimiser over `arena` with the shared settings `c`; `batchTokens` is a training batch in tokens.
    func make(_ arena: ParameterArena, _ c: OptimizerCommon, batchTokens: Int) -> ArenaOptimizer
}

extension OptimizerSettings {
    public static func learningRate(for model: ModelConfig) -> Double? { nil }
}

/// The `optimizer:` keys every optimiser has.
public struct OptimizerCommon: Codable, Equatable, Sendable {
    public var beta1: Float
    public var beta2: Float
    /// Decoupled weight decay (not applied to biases and norm weights).
    public var weightDecay: Float
    /// T5's per-parameter step lr·max(10⁻³, RMS(p)), for the update and the decay alike.
    public var rmsScaledLr = false
    /// What the optimiser does with a parameter that got no gradient in a step.
    public var missingGradient = MissingGradientPolicy.skip
    /// Weight-decay norm gains too. The original BERT code exempts parameters by name
    /// (`limited_decay_keys: [bias, LayerNorm.bias, LayerNorm.weight]` in `train/bert-o3.yaml`), and
    /// its norms are named `norm1`, `norm2`, …, so only biases escaped decay (`reproduce: original-code`).
    public var decayNormWeights = false

    public init(beta1: Float, beta2: Float, weightDecay: Float, rmsScaledLr: Bool = false) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.weightDecay = weightDecay
        self.rmsScaledLr = rmsScaledLr
    }
}

/// `optimizer:` — which optimiser (`name`, by default the model's) with the paper's settings for
/// it and the model, each overridable. Stored in `config.json` as one object
/// (`{"name": "sophia", "beta1": 0.965, …, "rho": 0.01}`).
public struct OptimizerConfig: Codable, Equatable, Sendable {
    public var common: OptimizerCommon
    public var settings: any OptimizerSettings

    public init(common: OptimizerCommon, settings: any OptimizerSettings) {
        self.common = common
        self.settings = settings
    }

    /// The paper's settings of optimiser `S` in `context`.
    public static func paper<S: OptimizerSettings>(_ type: S.Type, for context: RecipeContext) -> OptimizerConfig {
        var common = S.common(for: context)
        common.decayNormWeights = context.originalCode(of: CrammedBERTConfig.name)
        return OptimizerConfig(common: common, settings: S(for: context))
    }

    /// The paper's settings of the optimiser named `name` in `context` (nil: no such optimiser).
    public static func paper(named name: String, for context: RecipeContext) -> OptimizerConfig? {
        Plugins.optimizers.first { $0.name == name }.map { paper($0, for: context) }
    }

    public var name: String { type(of: settings).name }

    /// The settings of optimiser `S`, if it is the one chosen.
    public func settings<S: OptimizerSettings>(_ type: S.Type) -> S? { settings as? S }

    /// Builds the optimiser over `arena`; `batchTokens` is the training batch in tokens.
    public func make(_ arena: ParameterArena, batchTokens: Int) -> ArenaOptimizer {
        let optimizer = settings.make(arena, common, batchTokens: batchTokens)
        optimizer.rmsScaledLearningRate = common.rmsScaledLr
        optimizer.missingGradient = common.missingGradient
        optimizer.decaysNormWeights = common.decayNormWeights
        return optimizer
    }

    /// Reads the section: `name` chooses the optimiser (the model's by default); a key of another
    /// optimiser is refused naming it.
    static func read(_ o: ConfigSection, context: RecipeContext) throws -> OptimizerConfig {
        try o.plugin(
            "name", label: "optimizer", default: context.model.recipe.optimizer,
            Plugins.optimizers.map { type in (type.name, { try read(type, $0, context: context) }) })
    }

    static func read<S: OptimizerSettings>(
        _ type: S.Type, _ o: ConfigSection, context: RecipeContext
    ) throws -> OptimizerConfig {
        let paper = paper(type, for: context)
        var c = paper.common, settings = paper.settings as! S
        c.beta1 = Float(try o.double("beta1", default: Double(c.beta1), range: 0...0.999999))
        c.beta2 = Float(try o.double("beta2", default: Double(c.beta2), range: 0...0.999999))
        c.weightDecay = Float(try o.double("weight_decay", default: Double(c.weightDecay), range: 0...10))
        c.rmsScaledLr = try o.bool("rms_scaled_lr", default: c.rmsScaledLr)
        c.missingGradient = try o.choice("missing_gradient", default: c.missingGradient)
        c.decayNormWeights = try o.bool("decay_norm_weights", default: c.decayNormWeights)
        try settings.read(o)
        return OptimizerConfig(common: c, settings: settings)
    }

    public static func == (a: OptimizerConfig, b: OptimizerConfig) -> Bool {
        a.common == b.common && a.settings.isEqual(b.settings)
    }

    public func encode(to encoder: Encoder) throws {
        try PluginCoding.encode(settings, key: "name", to: encoder)
        try common.encode(to: encoder)
    }

    public init(from decoder: Decoder) throws {
        settings =
            try PluginCoding.decode(from: decoder, key: "name", among: Plugins.optimizers.map { $0 })
            as! any OptimizerSettings
        common = try OptimizerCommon(from: decoder)
    }
}

/// The settings of an optimiser whose only key of its own is ε (AdamW, AdamWScale).
public protocol EpsilonSettings: OptimizerSettings {
    var epsilon: Float { get set }
}

extension EpsilonSettings {
    public mutating func read(_ o: ConfigSection) throws {
        epsilon = Float(try o.double("epsilon", default: Double(epsilon), range: 0...1))
    }
}
