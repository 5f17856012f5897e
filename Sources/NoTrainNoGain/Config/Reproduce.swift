/// `reproduce:` — which behaviour a run's defaults follow where the original code does something
/// other than the paper describes. `intended` (the default) is the paper's method; `original-code`
/// makes every result-changing quirk of the original code (github.com/JeanKaddour/NoTrainNoGain)
/// the default, each still overridable by its own key. The quirks and their keys are listed in the
/// README ("Where `ntng` differs from the original code") and in docs/recipes.md.
public enum Reproduce: String, Codable, Sendable, CaseIterable {
    case intended
    case originalCode = "original-code"
}

/// What a plug-in's defaults depend on when a config is read: the model, the micro-batches per
/// optimiser step, and the behaviour to reproduce.
public struct RecipeContext: Sendable {
    public var model: ModelConfig
    public var accumulation: Int
    public var reproduce: Reproduce

    public init(model: ModelConfig, accumulation: Int = 1, reproduce: Reproduce = .intended) {
        self.model = model
        self.accumulation = accumulation
        self.reproduce = reproduce
    }

    /// Whether the original code's quirks are wanted for a model of kind `kind`.
    public func originalCode(of kind: String) -> Bool { reproduce == .originalCode && model.kind == kind }
}
