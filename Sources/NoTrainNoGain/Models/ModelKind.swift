/// A model kind as a plug-in of the trainer (crammed BERT, T5): its shape — this type, read from the
/// `model:` section — the objective it is pre-trained with, the paper's recipe for it and the model
/// it builds. A new kind is its own files plus one line in `Plugins.modelKinds`.
public protocol ModelKind: PluginSettings {
    /// The objective it is pre-trained with (its settings are read from the `data:` section).
    static var objective: any ObjectiveSettings.Type { get }
    /// The paper's pre-training recipe: the defaults of the data, training and optimizer sections.
    static var recipe: PretrainingRecipe { get }
    /// Named shapes for `ntng bench train --model` (the paper's and a tiny CPU model).
    static var presets: [String: Self] { get }
    /// Reads the `model:` section (every key but `kind`), the paper's shape by default.
    static func read(_ section: ConfigSection) throws -> Self

    /// Blocks in the stack that stacking and dropping act on (T5: encoder–decoder pairs).
    var layers: Int { get set }
    var hidden: Int { get }
    var vocabularySize: Int { get }
    /// "crammed BERT 16L/768d/12h" and the like.
    var summary: String { get }
    /// Problems with the shape, one line each (empty when valid).
    func problems() -> [String]
    /// Why this shape cannot take inputs of `sequenceLength` tokens (nil when it can).
    func problem(sequenceLength: Int) -> String?
    /// The shape grown, where needed, to take inputs of `sequenceLength` tokens (benchmarks).
    func fitted(sequenceLength: Int) -> Self
    /// A freshly initialised model.
    func makeModel(seed: UInt64) -> any PretrainingModel
    /// Training FLOPs (forward and backward) of one step over `batchSize` examples of `inputLength`
    /// tokens (and `targetLength` decoder targets).
    func trainingFLOPs(batchSize: Int, inputLength: Int, targetLength: Int?) -> Double
}

extension ModelKind {
    public func problem(sequenceLength: Int) -> String? { nil }
    public func fitted(sequenceLength: Int) -> Self { self }
}
