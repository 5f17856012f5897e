import Engine

/// An efficient-training method's settings: the config section it is read from, with its
/// defaults, and the method it makes for a run. A new method is its own file plus one line in
/// `Plugins.methods`.
public protocol MethodSettings: PluginSettings {
    /// The config section (`stacking`, `layer_drop`, `batch_selection`).
    static var section: String { get }
    /// In a section several methods share, the value of its `method` key that chooses this one
    /// (`batch_selection: {method: sb}`); nil for a section of its own.
    static var variant: String? { get }
    /// Whether it chooses the data a step trains on (such methods are left out of RHO-loss's
    /// irreducible-loss model, which trains on held-out rows as they come).
    static var selectsData: Bool { get }
    /// Reads the section, with the paper's defaults in `context`.
    static func read(_ section: ConfigSection, for context: RecipeContext) throws -> Self
    /// The method for a run.
    func make(_ setup: MethodSetup) throws -> any TrainingMethod
    /// The peak learning rate the paper used for this method on `model` with `optimizer`, where it
    /// differs from the optimiser's (nil: the optimiser's).
    func learningRate(for model: ModelConfig, optimizer: String) -> Double?
    /// Refuses a run whose `optimizer:` section (read as `optimizer`) sets something this method
    /// would silently replace.
    func check(optimizer: OptimizerConfig, section: ConfigSection) throws
}

extension MethodSettings {
    public func learningRate(for model: ModelConfig, optimizer: String) -> Double? { nil }
    public func check(optimizer: OptimizerConfig, section: ConfigSection) throws {}
    public static var variant: String? { nil }
    public static var selectsData: Bool { false }
}

/// What a method may need to know when a run builds it.
public struct MethodSetup {
    public let model: ModelConfig
    public let costModel: CostModel
    /// Rows in the packed training corpus (example indices are below it).
    public let datasetRows: Int
}

/// An efficient-training method as a plug-in of the trainer ("methods are plug-ins, not forks"). A
/// method can choose the blocks that run for a micro-batch (layer stacking, layer dropping), act
/// before optimiser steps (stacking events), choose the sequences a step trains on (selective
/// backprop, RHO-loss), charge its own extra passes, and keep state in checkpoints. Methods
/// compose: each sees the blocks chosen by those before it. The baseline is no method.
public protocol TrainingMethod: RunPlugin {
    /// The name in the run log ("layer-stacking").
    var name: String { get }
    /// Once, when the run is built: adjust the optimiser (layer dropping's policy for dropped blocks).
    func prepare(optimizer: ArenaOptimizer)
    /// Called before every optimiser step, at budget progress `context.progress`.
    func willStep(_ context: MethodContext)
    /// The blocks to run for the next training micro-batch, given the blocks chosen so far
    /// (all blocks when nil).
    func blocks(forMicroBatch index: Int, chosen: [Int]?, context: MethodContext) -> [Int]?
    /// The blocks to evaluate with (validation); nil = every block.
    func evaluationBlocks(chosen: [Int]?) -> [Int]?
    /// The `batchSize` sequences the next step trains on, or nil to leave the choice to the trainer
    /// (which then draws the next micro-batches).
    func nextBatch(from source: BatchSource) throws -> [PretrainingBatch.Sequence]?
}

extension TrainingMethod {
    public func prepare(optimizer: ArenaOptimizer) {}
    public func willStep(_ context: MethodContext) {}
    public func blocks(forMicroBatch index: Int, chosen: [Int]?, context: MethodContext) -> [Int]? { chosen }
    public func evaluationBlocks(chosen: [Int]?) -> [Int]? { chosen }
    public func nextBatch(from source: BatchSource) throws -> [PretrainingBatch.Sequence]? { nil }
    public var logFields: JSONValue? { nil }
    public var pluginName: String { name }
    public func checkpointValues() throws -> JSONValue? { nil }
    public func checkpointTensors() -> [(String, Tensor)] { [] }
    public func restore(values: JSONValue?, tensors: [String: SafeTensors.Entry]) throws {}
}

/// What a method may see and touch of the run before a step.
public struct MethodContext {
    public let model: BlockStack
    public let optimizer: ArenaOptimizer
    /// consumed RST / budget.
    public let progress: Double
    public let step: Int
    /// The run's `training.seed`.
    public let seed: UInt64
    /// Writes an event of the method to the run log (`event`, its typed `fields`) and a line to the console.
    public let report: (_ line: String, _ event: String, _ fields: any Encodable) -> Void

    public init(
        model: BlockStack, optimizer: ArenaOptimizer, progress: Double, step: Int, seed: UInt64,
        report: @escaping (_ line: String, _ event: String, _ fields: any Encodable) -> Void
    ) {
        self.model = model
        self.optimizer = optimizer
        self.progress = progress
        self.step = step
        self.seed = seed
        self.report = report
    }
}

/// The methods a config turns on, in `Plugins.methods` order; stored in `config.json` as
/// `{"stacking": {…}, "batch_selection": {"method": "sb", …}}`.
public struct MethodConfigs: Codable, Equatable, Sendable {
    public private(set) var all: [any MethodSettings]

    public init(_ all: [any MethodSettings] = []) {
        self.all = Plugins.methods.compactMap { type in all.first { Swift.type(of: $0) == type } }
    }

    /// The settings of method `T`, if the config turns it on.
    public func settings<T: MethodSettings>(_ type: T.Type) -> T? { all.lazy.compactMap { $0 as? T }.first }

    /// Turns method `T` on (replacing its section's settings) or off.
    public mutating func set<T: MethodSettings>(_ type: T.Type, _ settings: T?) {
        all.removeAll { Swift.type(of: $0).section == T.section }
        self = MethodConfigs(all + (settings.map { [$0] } ?? []))
    }

    /// Without the methods that choose data (for RHO-loss's irreducible-loss model).
    public var withoutDataSelection: MethodConfigs {
        MethodConfigs(all.filter { !Swift.type(of: $0).selectsData })
    }

    /// Reads every method section present in the config.
    static func read(_ root: ConfigSection, context: RecipeContext) throws -> MethodConfigs {
        var all: [any MethodSettings] = []
        var sections: [String] = []
        for type in Plugins.methods where !sections.contains(type.section) { sections.append(type.section) }
        for name in sections where root.has(name) {
            let section = try root.section(name)
            let types = Plugins.methods.filter { $0.section == name }
            if types.count == 1 {
                all.append(try types[0].read(section, for: context))
                try section.finish()
            } else {
                all.append(
                    try section.plugin(
                        "method", label: "method", default: types[0].variant ?? types[0].name,
                        types.map { type in
                            (type.variant ?? type.name, { try type.read($0, for: context) as any MethodSettings })
                        }))
            }
        }
        return MethodConfigs(all)
    }

    public static func == (a: MethodConfigs, b: MethodConfigs) -> Bool {
        a.all.count == b.all.count && zip(a.all, b.all).allSatisfy { $0.isEqual($1) }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: PluginCoding.Key.self)
        for settings in all {
            let type = Swift.type(of: settings)
            let nested = c.superEncoder(forKey: PluginCoding.Key(stringValue: type.section))
            if let variant = type.variant {
                var v = nested.container(keyedBy: PluginCoding.Key.self)
                try v.encode(variant, forKey: PluginCoding.Key(stringValue: "method"))
            }
            try settings.encode(to: nested)
        }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: PluginCoding.Key.self)
        var all: [any MethodSettings] = []
        for key in c.allKeys {
            let nested = try c.superDecoder(forKey: key)
            let types = Plugins.methods.filter { PluginCoding.matches(key, $0.section) }
            var chosen = types.first
            if types.count > 1 {
                let variant = try nested.container(keyedBy: PluginCoding.Key.self)
                    .decode(String.self, forKey: PluginCoding.Key(stringValue: "method"))
                chosen = types.first { $0.variant == variant }
            }
            guard let type = chosen else {
                throw DecodingError.dataCorruptedError(
                    forKey: key, in: c, debugDescription: "no training method '\(key.stringValue)'")
            }
            all.append(try PluginCoding.settings(type, from: nested))
        }
        self.init(all)
    }
}
