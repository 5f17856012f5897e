import Engine

/// The loss of a pre-training forward pass.
public struct PretrainingOutput {
    /// Mean cross-entropy over every predicted token of the batch (differentiable scalar).
    public let loss: Tensor
    /// Per sequence: mean cross-entropy over its predicted tokens (0 if it has none); selective
    /// backprop and RHO-loss rank sequences by it.
    public let sequenceLosses: [Float]
    /// Tokens predicted in the batch (masked positions for BERT, target tokens for T5).
    public let predictedTokens: Int
}
