/// A micro-batch of a pre-training objective: `batchSize` rows of `sequenceLength` input ids and
/// `targetLength` labels each (row-major).
///
/// - Masked LM (BERT): the inputs after masking; labels as long as the inputs, the original id at
///   masked positions and `ignoreLabel` elsewhere.
/// - Span corruption (T5): the encoder inputs (kept tokens and sentinels) and the targets
///   (sentinels and the tokens they replaced); the decoder reads the targets shifted right.
public struct PretrainingBatch: Sendable, Equatable {
    public static let ignoreLabel: Int32 = -100

    public var inputIDs: [Int32]
    public var labels: [Int32]
    public var batchSize: Int
    public var sequenceLength: Int
    public var targetLength: Int
    /// Index of each row in the dataset it came from (for per-example bookkeeping).
    public var exampleIndices: [Int]

    /// `targetLength` defaults to `sequenceLength` (masked LM).
    public init(
        inputIDs: [Int32], labels: [Int32], batchSize: Int, sequenceLength: Int, targetLength: Int? = nil,
        exampleIndices: [Int]
    ) {
        let targets = targetLength ?? sequenceLength
        precondition(
            inputIDs.count == batchSize * sequenceLength && labels.count == batchSize * targets
                && exampleIndices.count == batchSize, "a batch's inputs, labels and indices disagree in size")
        self.inputIDs = inputIDs
        self.labels = labels
        self.batchSize = batchSize
        self.sequenceLength = sequenceLength
        self.targetLength = targets
        self.exampleIndices = exampleIndices
    }

    /// Input tokens in the batch (what tokens/s counts).
    public var tokenCount: Int { batchSize * sequenceLength }

    /// The decoder's inputs: each row's labels shifted right by one, starting with `startID`
    /// (T5 starts with `<pad>` = 0).
    public func decoderInputIDs(startID: Int32 = 0) -> [Int32] {
        var out = [Int32](repeating: startID, count: labels.count)
        for r in 0..<batchSize {
            let base = r * targetLength
            for j in 1..<max(targetLength, 1) {
                let previous = labels[base + j - 1]
                out[base + j] = previous == PretrainingBatch.ignoreLabel ? startID : previous
            }
        }
        return out
    }
}

extension PretrainingBatch {
    /// One sequence of a batch: its inputs, labels and dataset row.
    public struct Sequence: Sendable, Equatable {
        public var inputIDs: [Int32]
        public var labels: [Int32]
        public var exampleIndex: Int
    }

    public func sequence(_ i: Int) -> Sequence {
        Sequence(
            inputIDs: Array(inputIDs[(i * sequenceLength)..<((i + 1) * sequenceLength)]),
            labels: Array(labels[(i * targetLength)..<((i + 1) * targetLength)]), exampleIndex: exampleIndices[i])
    }

    public var sequences: [Sequence] { (0..<batchSize).map(sequence) }

    /// A batch of already-corrupted sequences (all of one input length and one target length).
    public init(sequences: [Sequence]) {
        precondition(!sequences.isEmpty, "an empty batch")
        self.init(
            inputIDs: sequences.flatMap(\.inputIDs), labels: sequences.flatMap(\.labels), batchSize: sequences.count,
            sequenceLength: sequences[0].inputIDs.count, targetLength: sequences[0].labels.count,
            exampleIndices: sequences.map(\.exampleIndex))
    }
}
