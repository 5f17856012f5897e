import Engine

/// BERT's masked-language-model corruption as cramming applies it
/// (`PatchedDataCollatorForLanguageModeling` in `bert/cramming/backend/utils.py`): every non-special
/// token is selected independently with probability 0.15; a selected token becomes `<mask>` with
/// probability 0.8, a token drawn uniformly from the whole vocabulary with probability 0.1, and
/// stays unchanged otherwise. Selected positions keep their original id as the label; all others
/// get `PretrainingBatch.ignoreLabel`. Masks are drawn afresh each time a batch is drawn, from a seeded
/// generator, so a run is reproducible.
public struct MLMMasking: Sendable {
    public var maskProbability: Double = 0.15
    public var replaceWithMaskProbability: Double = 0.8
    public var replaceWithRandomProbability: Double = 0.1
    public let maskTokenID: Int32
    public let vocabularySize: Int
    /// isSpecial[id]: never selected (`<sep>`, `<cls>`, `<pad>`, ...).
    private let isSpecial: [Bool]

    public init(maskTokenID: Int32, vocabularySize: Int, specialTokenIDs: [Int32]) {
        precondition(maskTokenID >= 0 && Int(maskTokenID) < vocabularySize, "mask token id outside the vocabulary")
        self.maskTokenID = maskTokenID
        self.vocabularySize = vocabularySize
        var special = [Bool](repeating: false, count: vocabularySize)
        for id in specialTokenIDs where id >= 0 && Int(id) < vocabularySize { special[Int(id)] = true }
        isSpecial = special
    }

    /// Masks `rows` (each `sequenceLength` long, concatenated) into a batch.
    public func mask(
        _ tokens: [Int32], sequenceLength: Int, exampleIndices: [Int],
        generator g: inout SeededGenerator
    ) -> PretrainingBatch {
        precondition(tokens.count == sequenceLength * exampleIndices.count, "mask: rows do not match their indices")
        var inputs = tokens
        var labels = [Int32](repeating: PretrainingBatch.ignoreLabel, count: tokens.count)
        for i in tokens.indices {
            let id = tokens[i]
            guard id >= 0, Int(id) < vocabularySize, !isSpecial[Int(id)], g.uniformDouble() < maskProbability else {
                continue
            }
            labels[i] = id
            let r = g.uniformDouble()
            if r < replaceWithMaskProbability {
                inputs[i] = maskTokenID
            } else if r < replaceWithMaskProbability + replaceWithRandomProbability {
                inputs[i] = Int32(g.int(below: vocabularySize))
            }
        }
        return PretrainingBatch(
            inputIDs: inputs, labels: labels, batchSize: exampleIndices.count,
            sequenceLength: sequenceLength, exampleIndices: exampleIndices)
    }
}
