/// Every plug-in of the trainer, one line each. A new model kind, optimiser or training method is its
/// own file (or files) plus one line here; the trainer loop names none of them.
public enum Plugins {
    /// Model kinds (`model.kind`): a shape, its pre-training objective and the paper's recipe for it.
    public static let modelKinds: [any ModelKind.Type] = [CrammedBERTConfig.self, T5Config.self]

    /// Optimisers (`optimizer.name`).
    public static let optimizers: [any OptimizerSettings.Type] = [
        AdamW.Settings.self, AdamWScale.Settings.self, Lion.Settings.self, Sophia.Settings.self,
    ]

    /// Efficient-training methods (a config section each), in the order they act on a step.
    public static let methods: [any MethodSettings.Type] = [
        LayerStacking.Settings.self, LayerDropping.Settings.self, SelectiveBackprop.Settings.self,
        RhoLoss.Settings.self,
    ]

    /// The objectives of the registered model kinds.
    static var objectives: [any ObjectiveSettings.Type] { modelKinds.map { $0.objective } }
}

/// The settings of a registered plug-in: `Codable` (they are written into a run's `config.json`
/// and compared when an experiment resumes) and named, so a config can choose them.
public protocol PluginSettings: Codable, Equatable, Sendable {
    /// The name a config chooses it by (`crammed-bert`, `sophia`, `sb`), unique within its family.
    static var name: String { get }
}

extension PluginSettings {
    /// Whether `other` is the same plug-in with the same settings.
    public func isEqual(_ other: any PluginSettings) -> Bool { (other as? Self) == self }
}

/// A plug-in's settings in JSON: the name under a discriminating key ("kind": "t5", "name":
/// "sophia") and the settings' own fields in the same object.
enum PluginCoding {
    struct Key: CodingKey {
        var stringValue: String
        init(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }

    /// Whether a decoded key is `name` (a snake_case decoder hands `layer_drop` over as `layerDrop`).
    static func matches(_ key: CodingKey, _ name: String) -> Bool {
        let parts = name.split(separator: "_")
        let camel = (parts.first.map(String.init) ?? "") + parts.dropFirst().map { $0.capitalized }.joined()
        return key.stringValue == name || key.stringValue == camel
    }

    static func encode(_ settings: any PluginSettings, key: String, to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(type(of: settings).name, forKey: Key(stringValue: key))
        try settings.encode(to: encoder)
    }

    static func decode(
        from decoder: Decoder, key: String, among types: [any PluginSettings.Type]
    ) throws -> any PluginSettings {
        let c = try decoder.container(keyedBy: Key.self)
        let name = try c.decode(String.self, forKey: Key(stringValue: key))
        guard let type = types.first(where: { $0.name == name }) else {
            throw DecodingError.dataCorruptedError(
                forKey: Key(stringValue: key), in: c,
                debugDescription: "unknown \(key) '\(name)' (have \(types.map { $0.name }.joined(separator: ", ")))")
        }
        return try settings(type, from: decoder)
    }

    /// `T` from `decoder`, opening the existential metatype.
    static func settings<T: PluginSettings>(_ type: T.Type, from decoder: Decoder) throws -> T {
        try T(from: decoder)
    }
}
