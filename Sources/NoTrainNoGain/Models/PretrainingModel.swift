import Engine
import Foundation

/// A model the pre-training loop can train (crammed BERT, T5): a stack of blocks that layer
/// stacking and dropping act on, which turns a batch of its objective into predictions.
public protocol PretrainingModel: Module, BlockStack {
    /// The model's kind and shape (stored in checkpoint metadata).
    var shape: any ModelKind { get }
    /// Tensors as stored in `model.safetensors` (Hugging Face names where a counterpart exists).
    var checkpointTensors: [(String, Tensor)] { get }
    /// Vocabulary logits at the positions the objective predicts, running `activeBlocks` (all when nil).
    func predictions(_ batch: PretrainingBatch, activeBlocks: [Int]?) -> Predictions
    /// The final hidden states [N, d] at those positions (Sophia's hidden-states quirk).
    func finalHiddenStates(_ batch: PretrainingBatch, activeBlocks: [Int]?) -> Tensor
}

/// Logits [N, V] at N predicted positions of a batch, each position's label and the batch row it
/// belongs to.
public struct Predictions {
    public let logits: Tensor
    public let labels: [Int32]
    public let rows: [Int32]

    public init(logits: Tensor, labels: [Int32], rows: [Int32]) {
        precondition(
            logits.shape.rowCount == labels.count && labels.count == rows.count,
            "predictions: logits, labels and rows disagree")
        self.logits = logits
        self.labels = labels
        self.rows = rows
    }

    /// Cross-entropy: the mean over all positions and each row's mean over its own.
    public func loss(batchSize: Int) -> PretrainingOutput {
        let ce = softmaxCrossEntropy(logits: logits, labels: Tensor(int32: labels, shape: [labels.count]))
        let rowLosses = ce.rowLosses.scalars()
        var sums = [Float](repeating: 0, count: batchSize), counts = [Int](repeating: 0, count: batchSize)
        for (k, r) in rows.enumerated() {
            sums[Int(r)] += rowLosses[k]
            counts[Int(r)] += 1
        }
        return PretrainingOutput(
            loss: ce.loss, sequenceLosses: zip(sums, counts).map { $1 > 0 ? $0 / Float($1) : 0 },
            predictedTokens: ce.count)
    }

    /// Positions whose most likely token (first on ties) is the label.
    public func correctCount() -> Int {
        let v = logits.shape.lastDimension, z = logits.scalars()
        var correct = 0
        for (k, label) in labels.enumerated() {
            var best = 0
            for j in 1..<v where z[k * v + j] > z[k * v + best] { best = j }
            if best == Int(label) { correct += 1 }
        }
        return correct
    }
}

extension PretrainingModel {
    /// The training loss of a batch (see `Predictions.loss`).
    public func loss(_ batch: PretrainingBatch, activeBlocks: [Int]? = nil) -> PretrainingOutput {
        predictions(batch, activeBlocks: activeBlocks).loss(batchSize: batch.batchSize)
    }

}
