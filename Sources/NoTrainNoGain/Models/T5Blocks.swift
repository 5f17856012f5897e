import Engine

/// T5's RMS LayerNorm: x / √(mean(x²) + ε) · w, no bias, no mean subtraction.
public final class RMSNorm: Module {
    public let weight: Tensor
    public let epsilon: Float
    public init(_ dim: Int, epsilon: Float) {
        weight = Tensor.full(1, shape: [dim], requiresGrad: true)
        self.epsilon = epsilon
    }
    public func callAsFunction(_ x: Tensor) -> Tensor { x.rmsNorm(weight: weight, epsilon: epsilon) }
    public var parameters: [Parameter] { [Parameter("weight", weight, role: .normWeight)] }
}

/// Initialisation and shared pieces of T5's blocks (Hugging Face T5's `_init_weights`, as
/// `t5/t5/models/t5.py` uses it): q ~ N(0, (d·d_kv)^−½),
/// k, v ~ N(0, d^−½), o ~ N(0, (h·d_kv)^−½), wi ~ N(0, d^−½), wo ~ N(0, d_ff^−½), relative bias
/// ~ N(0, d^−½). Attention scores are not scaled (the initialisation carries the 1/√d_kv).
enum T5Init {
    static func linear(_ inFeatures: Int, _ outFeatures: Int, std: Double, _ g: inout SeededGenerator) -> Linear {
        Linear(inFeatures, outFeatures, std: Float(std), generator: &g)
    }

    /// A [rows, in] weight made of row blocks with their own standard deviations (fused projections).
    static func fused(_ inFeatures: Int, _ blocks: [(rows: Int, std: Double)], _ g: inout SeededGenerator) -> Tensor {
        var values: [Float] = []
        for b in blocks { values += (0..<(b.rows * inFeatures)).map { _ in g.normal() * Float(b.std) } }
        return Tensor(values, shape: [blocks.reduce(0) { $0 + $1.rows }, inFeatures], requiresGrad: true)
    }
}

/// The gated-GELU feed-forward: wo(GELU_tanh(wi_0 x) ⊙ wi_1 x), with [wi_0; wi_1] fused.
public final class T5FeedForward: Module {
    public let norm: RMSNorm
    public let wi: Tensor
    public let wo: Linear

    init(_ c: T5Config, _ g: inout SeededGenerator) {
        let d = Double(c.hidden)
        norm = RMSNorm(c.hidden, epsilon: c.normEpsilon)
        wi = T5Init.fused(c.hidden, [(c.feedForward, 1 / d.squareRoot()), (c.feedForward, 1 / d.squareRoot())], &g)
        wo = T5Init.linear(c.feedForward, c.hidden, std: 1 / Double(c.feedForward).squareRoot(), &g)
    }

    func callAsFunction(_ x: Tensor) -> Tensor { x + wo(linear(norm(x), wi).gatedActivation(.geluTanh, gate: .first)) }

    public var parameters: [Parameter] {
        norm.parameters.prefixed("layer_norm") + [Parameter("wi.weight", wi, role: .weight, parts: 2)]
            + wo.parameters.prefixed("wo")
    }
}

/// Self-attention with its own relative-position bias table (NTNG keeps one per block: `share_positional_bias: False`):
/// x + o(Attention(qkv(RMSNorm(x)), bias = table[bucket(j − i)])).
public final class T5SelfAttention: Module {
    public let norm: RMSNorm
    public let qkv: Tensor
    public let output: Linear
    /// [buckets, heads].
    public let relativeBias: Tensor
    let config: T5Config
    let causal: Bool

    init(_ c: T5Config, causal: Bool, _ g: inout SeededGenerator) {
        let d = Double(c.hidden), inner = c.innerWidth
        norm = RMSNorm(c.hidden, epsilon: c.normEpsilon)
        qkv = T5Init.fused(
            c.hidden,
            [
                (inner, 1 / (d * Double(c.headDim)).squareRoot()), (inner, 1 / d.squareRoot()),
                (inner, 1 / d.squareRoot()),
            ], &g)
        output = T5Init.linear(inner, c.hidden, std: 1 / Double(inner).squareRoot(), &g)
        relativeBias = Tensor.randomNormal(
            [c.relativeBuckets, c.heads], standardDeviation: Float(1 / d.squareRoot()), using: &g, requiresGrad: true)
        config = c
        self.causal = causal
    }

    /// The bias [H, Sq, Sk] from this block's table, the queries starting at position `firstQuery`.
    func bias(queries: Int, keys: Int, firstQuery: Int = 0) -> Tensor {
        let buckets = RelativePosition.buckets(
            queries: queries, keys: keys, firstQuery: firstQuery, bidirectional: !causal,
            buckets: config.relativeBuckets, maxDistance: config.maxDistance)
        return relativeBias.gatherRows(Tensor(int32: buckets, shape: [queries * keys])).transposed().contiguous()
            .reshaped([config.heads, queries, keys])
    }

    func callAsFunction(_ x: Tensor, keyLengths: Tensor?) -> Tensor {
        let s = x.shape[1]
        let a = selfAttention(
            linear(norm(x), qkv), heads: config.heads,
            options: AttentionOptions(
                causal: causal, keyLengths: keyLengths, bias: bias(queries: s, keys: s), scale: 1))
        return x + output(a)
    }

    /// One decoding step [B, 1, d] at position `t`: the step's keys and values go into row `t` of
    /// `cache` [B, capacity, 2·H·D] (keys | values), and the query attends to rows 0…t.
    func step(_ x: Tensor, cache: Tensor, position t: Int, keyLengths: Tensor) -> Tensor {
        let projected = linear(norm(x), qkv)
        let inner = config.innerWidth, capacity = cache.shape[1]
        for b in 0..<x.shape[0] {
            let from = (b * 3 + 1) * inner, to = (b * capacity + t) * 2 * inner
            cache.backend.copy(
                projected.storageView(from..<(from + 2 * inner), shape: [2 * inner]),
                into: cache.storageView(to..<(to + 2 * inner), shape: [2 * inner]), accumulate: false)
        }
        let a = multiHeadAttention(
            query: HeadsView(projected), key: HeadsView(cache), value: HeadsView(cache, columnOffset: inner),
            heads: config.heads, headDim: config.headDim,
            options: AttentionOptions(
                keyLengths: keyLengths, bias: bias(queries: 1, keys: capacity, firstQuery: t), scale: 1))
        return x + output(a)
    }

    public var parameters: [Parameter] {
        norm.parameters.prefixed("layer_norm") + [Parameter("qkv.weight", qkv, role: .weight, parts: 3)]
            + output.parameters.prefixed("o")
            + [Parameter("relative_attention_bias.weight", relativeBias, role: .weight)]
    }
}

/// Decoder cross-attention (no position bias): x + o(Attention(q(RMSNorm(x)), kv(encoder output))).
public final class T5CrossAttention: Module {
    public let norm: RMSNorm
    public let q: Linear
    public let kv: Tensor
    public let output: Linear
    let config: T5Config

    init(_ c: T5Config, _ g: inout SeededGenerator) {
        let d = Double(c.hidden), inner = c.innerWidth
        norm = RMSNorm(c.hidden, epsilon: c.normEpsilon)
        q = T5Init.linear(c.hidden, inner, std: 1 / (d * Double(c.headDim)).squareRoot(), &g)
        kv = T5Init.fused(c.hidden, [(inner, 1 / d.squareRoot()), (inner, 1 / d.squareRoot())], &g)
        output = T5Init.linear(inner, c.hidden, std: 1 / Double(inner).squareRoot(), &g)
        config = c
    }

    func callAsFunction(_ x: Tensor, encoded: Tensor, encoderLengths: Tensor?) -> Tensor {
        callAsFunction(x, keysValues: keysValues(encoded), encoderLengths: encoderLengths)
    }

    /// The encoder output's keys | values [B, Si, 2·H·D] (a decoder computes them once per input).
    func keysValues(_ encoded: Tensor) -> Tensor { linear(encoded, kv) }

    func callAsFunction(_ x: Tensor, keysValues: Tensor, encoderLengths: Tensor?) -> Tensor {
        let a = multiHeadAttention(
            query: HeadsView(q(norm(x))), key: HeadsView(keysValues),
            value: HeadsView(keysValues, columnOffset: config.innerWidth), heads: config.heads,
            headDim: config.headDim, options: AttentionOptions(keyLengths: encoderLengths, scale: 1))
        return x + output(a)
    }

    public var parameters: [Parameter] {
        norm.parameters.prefixed("layer_norm") + q.parameters.prefixed("q")
            + [Parameter("kv.weight", kv, role: .weight, parts: 2)]
            + output.parameters.prefixed("o")
    }
}

/// Encoder block: bidirectional self-attention, then the feed-forward.
public final class T5EncoderBlock: Module {
    public let attention: T5SelfAttention
    public let feedForward: T5FeedForward
    init(_ c: T5Config, _ g: inout SeededGenerator) {
        attention = T5SelfAttention(c, causal: false, &g)
        feedForward = T5FeedForward(c, &g)
    }
    func callAsFunction(_ x: Tensor, lengths: Tensor?) -> Tensor { feedForward(attention(x, keyLengths: lengths)) }
    public var parameters: [Parameter] {
        attention.parameters.prefixed("layer.0") + feedForward.parameters.prefixed("layer.1")
    }
}

/// Decoder block: causal self-attention, cross-attention to the encoder, then the feed-forward.
public final class T5DecoderBlock: Module {
    public let attention: T5SelfAttention
    public let crossAttention: T5CrossAttention
    public let feedForward: T5FeedForward
    init(_ c: T5Config, _ g: inout SeededGenerator) {
        attention = T5SelfAttention(c, causal: true, &g)
        crossAttention = T5CrossAttention(c, &g)
        feedForward = T5FeedForward(c, &g)
    }
    func callAsFunction(_ x: Tensor, encoded: Tensor, encoderLengths: Tensor?) -> Tensor {
        feedForward(crossAttention(attention(x, keyLengths: nil), encoded: encoded, encoderLengths: encoderLengths))
    }
    public var parameters: [Parameter] {
        attention.parameters.prefixed("layer.0") + crossAttention.parameters.prefixed("layer.1")
            + feedForward.parameters.prefixed("layer.2")
    }
}
