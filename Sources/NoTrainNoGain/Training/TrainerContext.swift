import Engine

/// Where a batch-selection method gets its data (the trainer provides it): raw micro-batches in the
/// run's order, already corrupted, and forward-only scoring, whose cost the method charges itself.
public protocol BatchSource: AnyObject {
    var microBatchSize: Int { get }
    /// Sequences per optimiser step.
    var batchSize: Int { get }
    /// The run's `training.seed`.
    var seed: UInt64 { get }
    /// The next raw micro-batch, corrupted (the masks it is trained with if it is selected).
    func drawMicroBatch() -> PretrainingBatch
    /// Per-sequence losses (mean cross-entropy over each sequence's predicted tokens) of the current
    /// model, without gradients.
    func scoreSequences(_ batch: PretrainingBatch) -> [Float]
    /// The same for several micro-batches at once, which the processes of a data-parallel run divide
    /// between them (every process gets every score).
    func scoreSequences(_ batches: [PretrainingBatch]) -> [[Float]]
    /// Charges one forward-only pass over `sequences` sequences as selection (recorded as waived when
    /// `free`).
    func chargeSelectionForward(sequences: Int, free: Bool)
}

extension BatchSource {
    /// One process: each micro-batch in turn.
    public func scoreSequences(_ batches: [PretrainingBatch]) -> [[Float]] { batches.map { scoreSequences($0) } }
}

/// What the trainer offers its plug-ins during a step, beyond a `BatchSource`: the model and the
/// blocks it evaluates with, the cost table, and the ledger for extra passes (Sophia's Hessian).
public protocol TrainerContext: BatchSource {
    var model: any PretrainingModel { get }
    var costModel: CostModel { get }
    /// The optimiser steps taken so far.
    var step: Int { get }
    /// Micro-batches drawn so far (a counter for seeds).
    var microBatchesDrawn: Int { get }
    /// The blocks an evaluation pass runs (every active block; nil = all).
    var evaluationBlocks: [Int]? { get }
    /// `training.gradient_clip` (0: none).
    var gradientClip: Double { get }
    /// The processes training the run (extra passes can divide their micro-batches between them).
    var communicator: any Communicator { get }
    /// Charges `cost` to the ledger as `kind` (recorded as waived when `free`).
    func charge(_ kind: Ledger.Kind, _ cost: RST, free: Bool)
}

/// What a run asks of each plug-in it holds (the optimiser, the methods): its name, its fields on
/// the log's training lines, and its part of a checkpoint — small values in `state.json` (under its
/// name) and tensors in `methods.safetensors` (their names prefixed by the plug-in), restored by
/// `--resume`.
public protocol RunPlugin: AnyObject {
    var pluginName: String { get }
    /// Fields of the run log's training lines (nil: none).
    var logFields: JSONValue? { get }
    func checkpointValues() throws -> JSONValue?
    func checkpointTensors() -> [(String, Tensor)]
    func restore(values: JSONValue?, tensors: [String: SafeTensors.Entry]) throws
}

extension Array where Element == PretrainingBatch.Sequence {
    /// Consecutive micro-batches of `size` sequences.
    func microBatches(of size: Int) -> [PretrainingBatch] {
        stride(from: 0, to: count, by: size).map {
            PretrainingBatch(sequences: Array(self[$0..<Swift.min($0 + size, count)]))
        }
    }
}
