import Engine
import Foundation

/// RHO-loss's extraction pass (the original code's `bert/efficient_training/extract_il_losses.py`):
/// the trained irreducible-loss model, in evaluation mode and
/// without gradients, reads the target run's training rows in the order the target reads them
/// (its first pass), in micro-batches of 256 with masks drawn here, and stores each row's mean
/// cross-entropy over its predicted tokens, keyed by the row's dataset index. Not charged to any budget.
public enum IrreducibleLossExtraction {
    /// Writes the IL losses for `config`'s training rows to `output`; returns how many.
    @discardableResult
    public static func run(
        config: PretrainingConfig, modelCheckpoint: String, output: String, microBatch: Int = 256,
        progress: (String) -> Void = { _ in }
    ) throws -> Int {
        let data = try PretrainingData.prepare(config, progress: progress)
        let split = try config.split(rows: data.dataset.count)
        let model = config.model.make(seed: 0)
        try Checkpointer.loadModel(from: modelCheckpoint, into: model)
        let objective = try config.makeObjective(tokenizer: data.tokenizer)
        let order = readOrder(split)
        var g = SeedStream.irreducibleLossMasks.generator(0)
        var pairs: [(Int, Float)] = []
        pairs.reserveCapacity(order.count)
        var start = 0
        while start < order.count {
            let indices = Array(order[start..<min(start + microBatch, order.count)])
            let batch = objective.batch(
                data.dataset.rows(indices), rowLength: data.dataset.sequenceLength,
                exampleIndices: indices, generator: &g)
            let losses = withoutGradients { model.loss(batch).sequenceLosses }
            pairs += zip(indices, losses).map { ($0, $1) }
            start += microBatch
            if (start / microBatch) % 10 == 0 {
                progress("extracted \(min(start, order.count)) of \(order.count) rows")
            }
        }
        try IrreducibleLosses.save(
            pairs, to: output, metadata: ["ntng_il_model": modelCheckpoint, "rows": "\(pairs.count)"])
        progress("wrote \(pairs.count) irreducible losses to \(output)")
        return pairs.count
    }

    /// The target's read order over its training rows (its first pass).
    public static func readOrder(_ split: DataSplit) -> [Int] { split.trainingRows(0..<split.training.count) }
}
