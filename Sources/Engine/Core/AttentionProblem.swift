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

/// Masks, bias, scale and dropout of an attention call.
public struct AttentionOptions {
    public var causal: Bool
    /// int32 [B]: number of valid (unpadded) keys per sequence.
    public var keyLengths: Tensor?
    /// [H, Sq, Sk] additive score bias (T5's relative positions); receives a gradient.
    public var bias: Tensor?
    /// Scale of the scores; nil means 1/√D (BERT). T5 uses 1.
    public var scale: Float?
    public var dropout: Float
    public var dropoutSeed: UInt64

    public init(
        causal: Bool = false, keyLengths: Tensor? = nil, bias: Tensor? = nil, scale: Float? = nil,
        dropout: Float = 0, dropoutSeed: UInt64 = 0
    ) {
        self.causal = causal
        self.keyLengths = keyLengths
        self.bias = bias
        self.scale = scale
        self.dropout = dropout
        self.dropoutSeed = dropoutSeed
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
    public var options: AttentionOptions

    public init(query: HeadsView, key: HeadsView, value: HeadsView, heads: Int, headDim: Int, options: AttentionOptions)
    {
        self.query = query
        self.key = key
        self.value = value
        self.heads = heads
        self.headDim = headDim
        self.options = options
    }

    public var batch: Int { query.batch }
    public var queryLength: Int { query.length }
    public var keyLength: Int { key.length }
    /// The options' scale, or 1/√D.
    public var scale: Float { options.scale ?? 1 / Float(headDim).squareRoot() }
    public var causal: Bool { options.causal }
    public var keyLengths: Tensor? { options.keyLengths }
    public var bias: Tensor? { options.bias }
    public var dropout: Float { options.dropout }
    public var dropoutSeed: UInt64 { options.dropoutSeed }
}
