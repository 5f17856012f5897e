import Engine

/// Training batches of random tokens for timing (benchmarks and `ntng calibrate`): rows of
/// ordinary ids (the lowest ids are special; for T5 the sentinels sit at the top), corrupted by the
/// model's objective exactly as in pre-training.
public struct SyntheticBatches {
    public let objective: any PretrainingObjective
    public let rowLength: Int
    public let batchSize: Int
    let tokens: Range<Int>
    var generator: SeededGenerator

    /// Batches of `batchSize` rows of `rowLength` raw tokens for `model`.
    public init(
        model: ModelConfig, rowLength: Int, batchSize: Int, corruption: SpanCorruption = SpanCorruption(),
        seed: UInt64 = 1
    ) {
        let vocabulary = model.vocabularySize
        switch model {
        case .crammedBERT:
            objective = MLMMasking(maskTokenID: 4, vocabularySize: vocabulary, specialTokenIDs: Array(0..<8))
            tokens = 8..<vocabulary
        case .t5:
            let sentinels = corruption.counts(rowLength).spans
            objective = SpanCorruptionObjective(
                corruption: corruption, eosID: 1, sentinelIDs: (0..<sentinels).map { Int32(vocabulary - 1 - $0) })
            tokens = 3..<(vocabulary - sentinels)
        }
        self.rowLength = rowLength
        self.batchSize = batchSize
        generator = SeededGenerator(seed: seed)
    }

    public mutating func next() -> PretrainingBatch {
        let rows = (0..<(batchSize * rowLength)).map { _ in
            Int32(tokens.lowerBound + generator.int(below: tokens.count))
        }
        return objective.batch(rows, rowLength: rowLength, exampleIndices: Array(0..<batchSize), generator: &generator)
    }
}
