import Engine

/// Training batches of random tokens for timing (benchmarks and `ntng calibrate`): rows of
/// ordinary ids (the model's objective says which ids are special), corrupted by the objective
/// exactly as in pre-training.
public struct SyntheticBatches {
    public let objective: any PretrainingObjective
    public let rowLength: Int
    public let batchSize: Int
    let tokens: Range<Int>
    var generator: SeededGenerator

    /// Batches of `batchSize` rows of `rowLength` raw tokens for `model` and its objective `settings`.
    public init(
        model: ModelConfig, objective settings: any ObjectiveSettings, rowLength: Int, batchSize: Int,
        seed: UInt64 = 1
    ) {
        (objective, tokens) = settings.synthetic(vocabularySize: model.vocabularySize, rowLength: rowLength)
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
