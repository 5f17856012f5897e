import Engine

/// How raw token rows become a training batch: masked LM for BERT (`MLMMasking`, spec §1a), span
/// corruption for T5 (`SpanCorruptionObjective`, spec §1b). Corruption is drawn from the given
/// generator, which the trainer seeds per micro-batch, so a run is reproducible and resumable.
public protocol PretrainingObjective: Sendable {
    /// Corrupts `rows` (each `rowLength` tokens, concatenated; their dataset indices in `exampleIndices`).
    func batch(
        _ rows: [Int32], rowLength: Int, exampleIndices: [Int], generator: inout SeededGenerator
    ) -> PretrainingBatch
}

extension MLMMasking: PretrainingObjective {
    public func batch(
        _ rows: [Int32], rowLength: Int, exampleIndices: [Int], generator: inout SeededGenerator
    ) -> PretrainingBatch {
        mask(rows, sequenceLength: rowLength, exampleIndices: exampleIndices, generator: &generator)
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
            throw ConfigError("the tokenizer has no </s> token (span corruption needs one)")
        }
        let spans = corruption.counts(rowLength).spans
        let sentinels = (0..<spans).map { tokenizer.sentinelID($0) }
        guard let missing = sentinels.firstIndex(of: nil) else {
            self.init(corruption: corruption, eosID: eos, sentinelIDs: sentinels.map { $0! })
            return
        }
        throw ConfigError(
            "span corruption of \(rowLength)-token rows needs \(spans) sentinels; the tokenizer lacks <extra_id_\(missing)>"
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
