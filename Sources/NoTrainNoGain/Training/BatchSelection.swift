import Engine

/// Where a batch-selection method gets its data (the trainer implements it): raw micro-batches in
/// the run's order, already masked, and a forward-only scoring pass that the trainer charges to the
/// ledger as a selection forward (spec §4, §5).
public protocol BatchSource: AnyObject {
    var microBatchSize: Int { get }
    /// Sequences per optimiser step.
    var batchSize: Int { get }
    var seed: UInt64 { get }
    /// The next raw micro-batch, masked (its masks are the ones trained on if it is selected).
    func drawMicroBatch() -> PretrainingBatch
    /// Per-sequence losses (mean cross-entropy over each sequence's masked tokens) of the current
    /// model, without gradients; charged as a selection forward.
    func scoreSequences(_ batch: PretrainingBatch) -> [Float]
    /// Records sequences seen and kept (for the log's kept fraction).
    func recordSelection(seen: Int, kept: Int)
}

/// A method that decides which sequences the next optimiser step trains on (selective backprop,
/// RHO-loss). It returns exactly `batchSize` sequences, which the trainer splits into micro-batches.
public protocol BatchSelection: AnyObject {
    var name: String { get }
    var description: [String: Any] { get }
    func nextBatch(from source: BatchSource) throws -> [PretrainingBatch.Sequence]
    /// State that must survive a checkpoint (history, buffers), as named tensors.
    func stateTensors() -> [(String, Tensor)]
    func restoreState(_ tensors: [String: SafeTensors.Entry]) throws
}

extension Array where Element == PretrainingBatch.Sequence {
    /// Consecutive micro-batches of `size` sequences.
    func microBatches(of size: Int) -> [PretrainingBatch] {
        stride(from: 0, to: count, by: size).map {
            PretrainingBatch(sequences: Array(self[$0..<Swift.min($0 + size, count)]))
        }
    }
}
