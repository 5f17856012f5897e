/// `training.learning_rate`, the peak learning rate. Unset, it follows the run: the method's value
/// where the paper lowered it for a method (T5 layer dropping: 1e-2), else the optimiser's tuned
/// value for the model (Lion: BERT 7e-4, T5 7.5e-4; Sophia: BERT 4e-4, T5 1e-3), else the model's
/// recipe (BERT AdamW 1e-3, T5 AdamWScale 2e-2). A number sets it for whichever optimiser runs; a
/// mapping sets it per optimiser (`learning_rate: {adamw: 2.0e-3}`), the optimisers it does not
/// name keeping their own value — so switching `optimizer.name` never carries one optimiser's
/// learning rate over to another by accident.
struct LearningRateSetting {
    /// A number: for every optimiser.
    var value: Double?
    /// A mapping: optimiser name → learning rate.
    var perOptimizer: [String: Double] = [:]

    static let range = 0.0...10.0

    static func read(_ t: ConfigSection) throws -> LearningRateSetting {
        guard t.has("learning_rate"), (try? t.rawMapping("learning_rate")) != nil else {
            let lr = try t.double("learning_rate", default: .nan, range: range)
            return LearningRateSetting(value: lr.isNaN ? nil : lr)
        }
        let section = try t.section("learning_rate")
        var perOptimizer: [String: Double] = [:]
        for type in Plugins.optimizers {
            let lr = try section.double(type.name, default: .nan, range: range)
            if !lr.isNaN { perOptimizer[type.name] = lr }
        }
        try section.finish()
        return LearningRateSetting(perOptimizer: perOptimizer)
    }

    /// The learning rate of a run of `model` with `optimizer` and `methods`.
    func resolve(model: ModelConfig, optimizer: String, methods: MethodConfigs) -> Double {
        value ?? perOptimizer[optimizer]
            ?? PretrainingConfig.defaultLearningRate(model: model, optimizer: optimizer, methods: methods).value
    }
}

extension PretrainingConfig {
    /// The peak learning rate a run gets when its config does not set one, and where it comes from.
    public static func defaultLearningRate(
        model: ModelConfig, optimizer: String, methods: MethodConfigs
    ) -> (value: Double, origin: String) {
        for method in methods.all {
            if let lr = method.learningRate(for: model, optimizer: optimizer) {
                return (lr, "\(type(of: method).name)'s value for \(model.kind) with \(optimizer)")
            }
        }
        if let lr = Plugins.optimizers.first(where: { $0.name == optimizer })?.learningRate(for: model) {
            return (lr, "\(optimizer)'s value for \(model.kind)")
        }
        return (model.recipe.learningRate, "\(model.kind)'s recipe")
    }

    /// Where the run's learning rate comes from: its default (named) or the config.
    public var learningRateOrigin: String {
        let d = PretrainingConfig.defaultLearningRate(model: model, optimizer: optimizer.name, methods: methods)
        return d.value == training.learningRate ? d.origin : "set in the config"
    }
}
