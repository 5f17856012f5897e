import Engine

/// The result of a masked-LM forward pass.
public struct MLMOutput {
    /// Mean cross-entropy over all masked tokens of the batch (differentiable scalar).
    public let loss: Tensor
    /// Per sequence: mean cross-entropy over its masked tokens (0 if it has none).
    public let sequenceLosses: [Float]
    /// Number of masked tokens in the batch.
    public let maskedTokens: Int
}
