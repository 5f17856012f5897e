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

extension MLMBatch {
    /// One masked sequence of a batch: its inputs, labels and dataset row.
    public struct Sequence: Sendable, Equatable {
        public var inputIDs: [Int32]
        public var labels: [Int32]
        public var exampleIndex: Int
    }

    public func sequence(_ i: Int) -> Sequence {
        let r = (i * sequenceLength)..<((i + 1) * sequenceLength)
        return Sequence(inputIDs: Array(inputIDs[r]), labels: Array(labels[r]), exampleIndex: exampleIndices[i])
    }

    public var sequences: [Sequence] { (0..<batchSize).map(sequence) }

    /// A batch of already-masked sequences (all of one length).
    public init(sequences: [Sequence]) {
        precondition(!sequences.isEmpty, "an empty batch")
        let length = sequences[0].inputIDs.count
        self.init(inputIDs: sequences.flatMap(\.inputIDs), labels: sequences.flatMap(\.labels), batchSize: sequences.count,
                  sequenceLength: length, exampleIndices: sequences.map(\.exampleIndex))
    }
}
