/// The heads of Q, K or V inside a row-major activation: `tensor` is [B, S, width] and the
/// `heads · headDim` columns starting at `columnOffset` hold [H, D] per row. A fused QKV projection
/// [B, S, 3·H·D] is read as three views with offsets 0, H·D and 2·H·D, so attention needs no
/// permute or copy.
public struct HeadsView {
    public let tensor: Tensor
    public let columnOffset: Int
    public init(_ tensor: Tensor, columnOffset: Int = 0) {
        self.tensor = tensor
        self.columnOffset = columnOffset
    }
    public var batch: Int { tensor.shape[0] }
    public var length: Int { tensor.shape[1] }
    /// Distance between consecutive rows (positions), in elements.
    public var rowStride: Int { tensor.shape[2] }
}

/// Where the gradient of a `HeadsView` goes: a tensor of the same shape, same columns.
public struct HeadsGradient {
    public let view: HeadsView
    public let accumulate: Bool
    public init(_ view: HeadsView, accumulate: Bool) {
        self.view = view
        self.accumulate = accumulate
    }
}

/// One multi-head attention call: scores = scale · Q·Kᵀ (+ bias[h]) with masks, softmax over keys,
/// optional dropout on the probabilities, then · V.
public struct AttentionProblem {
    public var query: HeadsView
    public var key: HeadsView
    public var value: HeadsView
    public var heads: Int
    public var headDim: Int
    public var scale: Float
    /// Query i attends to keys j ≤ i only (T5 decoder self-attention).
    public var causal: Bool
    /// int32 [B]: keys at positions ≥ keyLengths[b] are masked (right padding). nil = none.
    public var keyLengths: Tensor?
    /// float32 [H, Sq, Sk], added to the scores of every batch element (T5 relative positions).
    public var bias: Tensor?
    /// Dropout probability on the attention probabilities (fine-tuning); 0 = off.
    public var dropout: Float
    public var dropoutSeed: UInt64

    public init(query: HeadsView, key: HeadsView, value: HeadsView, heads: Int, headDim: Int,
                scale: Float, causal: Bool = false, keyLengths: Tensor? = nil, bias: Tensor? = nil,
                dropout: Float = 0, dropoutSeed: UInt64 = 0) {
        self.query = query
        self.key = key
        self.value = value
        self.heads = heads
        self.headDim = headDim
        self.scale = scale
        self.causal = causal
        self.keyLengths = keyLengths
        self.bias = bias
        self.dropout = dropout
        self.dropoutSeed = dropoutSeed
    }

    public var batch: Int { query.batch }
    public var queryLength: Int { query.length }
    public var keyLength: Int { key.length }
}
