import Engine

/// How a model kind is pre-trained: the settings of its objective (read from the `data:` section),
/// from which the run builds the `PretrainingObjective` for its tokenizer. Each model kind names one
/// (`ModelKind.objective`): masked LM for crammed BERT, span corruption for T5.
public protocol ObjectiveSettings: PluginSettings {
    /// The settings with the paper's values, overridden by this objective's keys of the `data:` section.
    static func read(_ data: ConfigSection) throws -> Self
    /// Raw tokens per dataset row that give inputs of `sequenceLength` tokens.
    func rowLength(forSequenceLength sequenceLength: Int) -> Int
    /// Decoder targets per example for rows of `rowLength` (nil: the model has no decoder).
    func targetLength(rowLength: Int) -> Int?
    /// The objective over `tokenizer`'s special tokens; throws when the tokenizer lacks one it needs.
    func make(tokenizer: Tokenizer, rowLength: Int) throws -> any PretrainingObjective
    /// The objective over synthetic ids of a `vocabularySize` vocabulary (timing), and the ids of
    /// ordinary tokens to draw rows from.
    func synthetic(vocabularySize: Int, rowLength: Int) -> (objective: any PretrainingObjective, tokens: Range<Int>)
}

/// The run's objective settings, as stored in `config.json` (`{"name": "span-corruption", …}`).
public struct ObjectiveConfig: Codable, Equatable, Sendable {
    public var settings: any ObjectiveSettings

    public init(_ settings: any ObjectiveSettings) { self.settings = settings }

    public static func == (a: ObjectiveConfig, b: ObjectiveConfig) -> Bool { a.settings.isEqual(b.settings) }

    public func encode(to encoder: Encoder) throws { try PluginCoding.encode(settings, key: "name", to: encoder) }

    public init(from decoder: Decoder) throws {
        settings =
            try PluginCoding.decode(from: decoder, key: "name", among: Plugins.objectives) as! any ObjectiveSettings
    }
}

/// How raw token rows become a training batch: masked LM for BERT (`MLMMasking`), span corruption
/// for T5 (`SpanCorruptionObjective`). Corruption is drawn from the given generator, which the
/// trainer seeds per micro-batch, so a run is reproducible and resumable.
public protocol PretrainingObjective: Sendable {
    /// Corrupts `rows` (each `rowLength` tokens, concatenated; their dataset indices in `exampleIndices`).
    func batch(
        _ rows: [Int32], rowLength: Int, exampleIndices: [Int], generator: inout SeededGenerator
    ) -> PretrainingBatch
}

/// The masked-LM objective's settings: cramming's fixed rates (`MLMMasking`), nothing to configure.
public struct MaskedLanguageModeling: ObjectiveSettings {
    public static let name = "masked-lm"

    public init() {}

    public static func read(_ data: ConfigSection) throws -> MaskedLanguageModeling { MaskedLanguageModeling() }

    public func rowLength(forSequenceLength sequenceLength: Int) -> Int { sequenceLength }

    public func targetLength(rowLength: Int) -> Int? { nil }

    public func make(tokenizer: Tokenizer, rowLength: Int) throws -> any PretrainingObjective {
        guard let mask = tokenizer.maskID else {
            throw InputError("the tokenizer has no mask token (<mask> or [MASK])")
        }
        return MLMMasking(
            maskTokenID: mask, vocabularySize: tokenizer.vocabularySize, specialTokenIDs: tokenizer.specialIDs)
    }

    /// Ids 0…7 special (4 the mask), the rest ordinary.
    public func synthetic(
        vocabularySize: Int, rowLength: Int
    ) -> (objective: any PretrainingObjective, tokens: Range<Int>) {
        (MLMMasking(maskTokenID: 4, vocabularySize: vocabularySize, specialTokenIDs: Array(0..<8)), 8..<vocabularySize)
    }
}

extension MLMMasking: PretrainingObjective {
    public func batch(
        _ rows: [Int32], rowLength: Int, exampleIndices: [Int], generator: inout SeededGenerator
    ) -> PretrainingBatch {
        mask(rows, sequenceLength: rowLength, exampleIndices: exampleIndices, generator: &generator)
    }
}

extension SpanCorruption: ObjectiveSettings {
    public static let name = "span-corruption"

    /// `noise_density` (0.15) and `mean_noise_span` (3).
    public static func read(_ data: ConfigSection) throws -> SpanCorruption {
        SpanCorruption(
            noiseDensity: try data.double("noise_density", default: 0.15, range: 0.01...0.99),
            meanNoiseSpanLength: try data.double("mean_noise_span", default: 3, range: 1...1000))
    }

    /// The raw length whose corruption gives `sequenceLength` inputs (568 for 512).
    public func rowLength(forSequenceLength sequenceLength: Int) -> Int {
        rawLength(forInputLength: sequenceLength).raw
    }

    public func targetLength(rowLength: Int) -> Int? { lengths(rawLength: rowLength).targets }

    public func make(tokenizer: Tokenizer, rowLength: Int) throws -> any PretrainingObjective {
        try SpanCorruptionObjective(corruption: self, tokenizer: tokenizer, rowLength: rowLength)
    }

    /// `<pad>` 0, `</s>` 1, `<unk>` 2, sentinels counting down from the top, the rest ordinary.
    public func synthetic(
        vocabularySize: Int, rowLength: Int
    ) -> (objective: any PretrainingObjective, tokens: Range<Int>) {
        let sentinels = counts(rowLength).spans
        let objective = SpanCorruptionObjective(
            corruption: self, eosID: 1, sentinelIDs: (0..<sentinels).map { Int32(vocabularySize - 1 - $0) })
        return (objective, 3..<(vocabularySize - sentinels))
    }
}

/// T5's span corruption with a tokenizer's `</s>` and sentinel ids: rows of raw length L give
/// inputs and targets of `corruption.lengths(rawLength: L)`.
public struct SpanCorruptionObjective: PretrainingObjective {
    public let corruption: SpanCorruption
    public let eosID: Int32
    /// Id of `<extra_id_k>` at index k.
    public let sentinelIDs: [Int32]

    public init(corruption: SpanCorruption, eosID: Int32, sentinelIDs: [Int32]) {
        self.corruption = corruption
        self.eosID = eosID
        self.sentinelIDs = sentinelIDs
    }

    /// The objective for a T5 tokenizer (`</s>` and `<extra_id_0…>`), checking it has enough sentinels
    /// for rows of `rowLength`.
    public init(corruption: SpanCorruption, tokenizer: Tokenizer, rowLength: Int) throws {
        guard let eos = tokenizer.id(of: "</s>") else {
            throw InputError("the tokenizer has no </s> token (span corruption needs one)")
        }
        let spans = corruption.counts(rowLength).spans
        let sentinels = (0..<spans).map { tokenizer.sentinelID($0) }
        guard let missing = sentinels.firstIndex(of: nil) else {
            self.init(corruption: corruption, eosID: eos, sentinelIDs: sentinels.map { $0! })
            return
        }
        throw InputError(
            "span corruption of \(rowLength)-token rows needs \(spans) sentinels; "
                + "the tokenizer lacks <extra_id_\(missing)>"
        )
    }

    public func batch(
        _ rows: [Int32], rowLength: Int, exampleIndices: [Int], generator: inout SeededGenerator
    ) -> PretrainingBatch {
        var inputs: [Int32] = [], targets: [Int32] = []
        let (inputLength, targetLength) = corruption.lengths(rawLength: rowLength)
        inputs.reserveCapacity(exampleIndices.count * inputLength)
        targets.reserveCapacity(exampleIndices.count * targetLength)
        for r in exampleIndices.indices {
            let (i, t) = corruption.corrupt(
                Array(rows[(r * rowLength)..<((r + 1) * rowLength)]), eos: eosID,
                sentinel: { sentinelIDs[$0] }, generator: &generator)
            inputs += i
            targets += t
        }
        return PretrainingBatch(
            inputIDs: inputs, labels: targets, batchSize: exampleIndices.count, sequenceLength: inputLength,
            targetLength: targetLength, exampleIndices: exampleIndices)
    }
}
