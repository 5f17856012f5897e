import Engine

/// One pre-LN transformer block of crammed BERT (cramming's `architectures/components.py` with
/// `arch/bert-c5.yaml`):
///
///     x = x + Drop(Attn(LN₁(x)))        Attn: fused Wqkv (d → 3d), softmax(QKᵀ/√D)V, Wo (d → d)
///     x = x + Drop(FFN(LN₂(x)))         FFN:  d → intermediate, [x | gate] → GELU(gate)·x, → d
///
/// No linear layer has a bias; LayerNorms do.
public final class CrammedBERTBlock: Module {
    public let norm1: LayerNorm
    public let qkv: Linear
    public let attentionOutput: Linear
    public let norm2: LayerNorm
    public let ffnIn: Linear
    public let ffnOut: Linear
    let heads: Int

    public init(_ c: CrammedBERTConfig, generator g: inout SeededGenerator) {
        norm1 = LayerNorm(c.hidden, epsilon: c.normEpsilon)
        qkv = Linear(c.hidden, 3 * c.hidden, std: c.initStd, generator: &g)
        attentionOutput = Linear(c.hidden, c.hidden, std: c.initStd, generator: &g)
        norm2 = LayerNorm(c.hidden, epsilon: c.normEpsilon)
        ffnIn = Linear(c.hidden, c.intermediate, std: c.initStd, generator: &g)
        ffnOut = Linear(c.intermediate / 2, c.hidden, std: c.initStd, generator: &g)
        heads = c.heads
    }

    /// x: [B, S, d] → [B, S, d]. `keyLengths`: valid keys per sequence (padding); `dropout` with
    /// its seed.
    ///
    /// With `outputRows` (int32 indices into the B·S positions) only those positions leave the
    /// block, as [N, d]: every position still serves as a key and value, but the output
    /// projection, the residual and the FFN run on the selected rows only. The last block before a
    /// sparse head uses this, since no other row reaches the loss; the result is the same, with a
    /// fraction of the last block's work.
    public func callAsFunction(
        _ x: Tensor, keyLengths: Tensor?, dropout: (p: Float, seed: UInt64)?,
        outputRows: Tensor? = nil
    ) -> Tensor {
        let p = dropout?.p ?? 0, seed = dropout?.seed ?? 0
        var attention = selfAttention(
            qkv(norm1(x)), heads: heads,
            options: AttentionOptions(keyLengths: keyLengths, dropout: p, dropoutSeed: seed &+ 1))
        var residual = x
        if let rows = outputRows {
            let d = x.shape[2], positions = x.shape[0] * x.shape[1]
            attention = attention.reshaped([positions, d]).gatherRows(rows)
            residual = x.reshaped([positions, d]).gatherRows(rows)
        }
        let h = residual + attentionOutput(attention).dropout(probability: p, seed: seed &+ 2)
        let ffn = ffnOut(ffnIn(norm2(h)).gatedActivation(.gelu, gate: .second))
        return h + ffn.dropout(probability: p, seed: seed &+ 3)
    }

    public var parameters: [Parameter] {
        norm1.parameters.prefixed("norm1")
            + qkv.parameters.prefixed("attention.self.qkv")
            + attentionOutput.parameters.prefixed("attention.output.dense")
            + norm2.parameters.prefixed("norm2")
            + ffnIn.parameters.prefixed("intermediate.dense")
            + ffnOut.parameters.prefixed("output.dense")
    }
}
