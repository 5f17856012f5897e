/// A micro-batch for masked-language-model training: `batchSize` rows of `sequenceLength` token
/// ids (row-major), after masking, with the original id at masked positions in `labels` and
/// `ignoreLabel` elsewhere.
public struct MLMBatch: Sendable, Equatable {
    public static let ignoreLabel: Int32 = -100

    public var inputIDs: [Int32]
    public var labels: [Int32]
    public var batchSize: Int
    public var sequenceLength: Int
    /// Index of each row in the dataset it came from (for per-example bookkeeping).
    public var exampleIndices: [Int]

    public init(inputIDs: [Int32], labels: [Int32], batchSize: Int, sequenceLength: Int, exampleIndices: [Int]) {
        precondition(inputIDs.count == batchSize * sequenceLength && labels.count == inputIDs.count)
        self.inputIDs = inputIDs
        self.labels = labels
        self.batchSize = batchSize
        self.sequenceLength = sequenceLength
        self.exampleIndices = exampleIndices
    }

    public var tokenCount: Int { batchSize * sequenceLength }
}
