/// `model:` — the model a run pre-trains: a registered kind (`kind: crammed-bert` by default, or
/// `t5`) and its shape. Stored in `config.json` as `{"kind": "t5", "layers": 12, …}`.
public struct ModelConfig: Codable, Equatable, Sendable {
    public var shape: any ModelKind

    public init(_ shape: any ModelKind) { self.shape = shape }

    public var kind: String { type(of: shape).name }
    public var recipe: PretrainingRecipe { type(of: shape).recipe }
    public var objective: any ObjectiveSettings.Type { type(of: shape).objective }
    public var layers: Int { shape.layers }
    public var hidden: Int { shape.hidden }
    public var vocabularySize: Int { shape.vocabularySize }
    public var summary: String { shape.summary }

    /// A freshly initialised model.
    public func make(seed: UInt64) -> any PretrainingModel { shape.makeModel(seed: seed) }

    /// The registered kind named `name`.
    public static func kind(named name: String) -> (any ModelKind.Type)? {
        Plugins.modelKinds.first { $0.name == name }
    }

    /// Reads the `model:` section: `kind` chooses the plug-in, which reads the rest.
    static func read(_ section: ConfigSection) throws -> ModelConfig {
        let shape = try section.plugin(
            "kind", label: "model.kind", default: CrammedBERTConfig.name,
            Plugins.modelKinds.map { kind in (kind.name, { try kind.read($0) as any ModelKind }) })
        if let problem = shape.problems().first { throw InputError(section.source, problem) }
        return ModelConfig(shape)
    }

    public static func == (a: ModelConfig, b: ModelConfig) -> Bool { a.shape.isEqual(b.shape) }

    public func encode(to encoder: Encoder) throws { try PluginCoding.encode(shape, key: "kind", to: encoder) }

    public init(from decoder: Decoder) throws {
        shape = try PluginCoding.decode(from: decoder, key: "kind", among: Plugins.modelKinds) as! any ModelKind
    }
}
