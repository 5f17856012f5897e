/// Shape of a T5 v1.1 model (Hugging Face `google/t5-v1_1-base`, as `t5/t5/configs/default.yaml`
/// sets it). The paper's model is `T5Config.base` (12 + 12 blocks,
/// d_model 768, 12 heads of 64, d_ff 2048, vocabulary 32128).
public struct T5Config: Codable, Equatable, Sendable {
    /// Blocks in the encoder, and in the decoder.
    public var layers: Int
    public var hidden: Int
    public var heads: Int
    public var headDim: Int
    public var feedForward: Int
    public var vocabularySize: Int
    public var relativeBuckets: Int
    public var maxDistance: Int
    public var normEpsilon: Float

    public init(
        layers: Int, hidden: Int, heads: Int, headDim: Int, feedForward: Int, vocabularySize: Int,
        relativeBuckets: Int = 32, maxDistance: Int = 128, normEpsilon: Float = 1e-6
    ) {
        self.layers = layers
        self.hidden = hidden
        self.heads = heads
        self.headDim = headDim
        self.feedForward = feedForward
        self.vocabularySize = vocabularySize
        self.relativeBuckets = relativeBuckets
        self.maxDistance = maxDistance
        self.normEpsilon = normEpsilon
    }

    public static let base = T5Config(
        layers: 12, hidden: 768, heads: 12, headDim: 64, feedForward: 2048, vocabularySize: 32128)

    /// The demo's and the benchmark's CPU model (4 + 4 blocks, d_model 256, 4 heads of 64, d_ff 672, vocabulary 8192).
    public static let tiny = T5Config(
        layers: 4, hidden: 256, heads: 4, headDim: 64, feedForward: 672, vocabularySize: 8192)

    public var innerWidth: Int { heads * headDim }

    /// Training FLOPs of one example (forward + backward = 3× forward; matmuls only) with
    /// `si` encoder inputs and `st` decoder targets: per block, the projections (encoder: q, k, v, o
    /// and the gated FFN on every input; decoder: self-attention, cross-attention q and o, FFN on
    /// every target, cross-attention k and v on every input), the attention products (4·S·inner
    /// per query row), and the untied head on every target.
    public func trainingFLOPsPerExample(inputLength si: Int, targetLength st: Int) -> Double {
        let d = Double(hidden), inner = Double(innerWidth), ff = Double(feedForward), i = Double(si), t = Double(st)
        let encoder = i * (2 * (4 * d * inner + 3 * d * ff) + 4 * i * inner)
        let decoder = t * (2 * (6 * d * inner + 3 * d * ff) + 4 * t * inner + 4 * i * inner) + i * 2 * (2 * d * inner)
        return 3 * (Double(layers) * (encoder + decoder) + t * 2 * d * Double(vocabularySize))
    }

    public func problems() -> [String] {
        var p: [String] = []
        if layers < 1 { p.append("model.layers must be ≥ 1") }
        if hidden < 1 || heads < 1 || headDim < 1 || feedForward < 1 { p.append("model sizes must be positive") }
        if vocabularySize < 8 { p.append("model.vocabulary_size must be ≥ 8") }
        if relativeBuckets < 4 || relativeBuckets % 2 != 0 { p.append("model.relative_buckets must be even and ≥ 4") }
        if maxDistance < relativeBuckets / 2 { p.append("model.max_distance must be ≥ relative_buckets / 2") }
        return p
    }
}

/// T5's relative-position buckets (Hugging Face `_relative_position_bucket`): the offset
/// key − query, split by sign when bidirectional (encoder) or clipped to the past (decoder); offsets
/// below half the buckets get their own bucket, larger ones share logarithmically wider buckets up
/// to `maxDistance`. Computed in float32 like the reference.
public enum RelativePosition {
    public static func bucket(_ relative: Int, bidirectional: Bool, buckets: Int, maxDistance: Int) -> Int {
        var n = buckets, result = 0, r = relative
        if bidirectional {
            n /= 2
            if r > 0 { result += n }
            r = abs(r)
        } else {
            r = -min(r, 0)
        }
        let exact = n / 2
        if r < exact { return result + r }
        let scaled = log(Float(r) / Float(exact)) / log(Float(maxDistance) / Float(exact)) * Float(n - exact)
        return result + min(exact + Int(scaled), n - 1)
    }

    /// Bucket of every (query i, key j) pair, row-major [Sq·Sk], the queries sitting at positions
    /// `firstQuery`, `firstQuery` + 1, … (an incremental decoder's one query sits at its step).
    public static func buckets(
        queries: Int, keys: Int, firstQuery: Int = 0, bidirectional: Bool, buckets: Int, maxDistance: Int
    ) -> [Int32] {
        var out = [Int32](repeating: 0, count: queries * keys)
        for i in 0..<queries {
            for j in 0..<keys {
                out[i * keys + j] = Int32(
                    bucket(j - i - firstQuery, bidirectional: bidirectional, buckets: buckets, maxDistance: maxDistance)
                )
            }
        }
        return out
    }
}

#if canImport(Glibc)
    import Glibc
#endif

extension T5Config: ModelKind {
    public static let name = "t5"
    public static let objective: any ObjectiveSettings.Type = SpanCorruption.self
    public static let presets = ["t5-tiny": T5Config.tiny, "t5-base": T5Config.base]

    /// nanoT5's recipe as NTNG runs it (`t5/t5/configs/default.yaml`): inputs of 512 from groups of
    /// 1000 documents, batches of 144 in micro-batches of 72, AdamWScale at 2e-2 on the cosine-budget
    /// schedule, clipping at 1, the A100 cost table.
    public static let recipe = PretrainingRecipe(
        tokenizer: .t5Unigram, sequenceLength: 512, sequenceLengths: 8...65536,
        documentsPerGroup: 1000, microBatchSize: 72, batchSize: 144, learningRate: 2e-2, schedule: .cosineBudget,
        gradientClip: 1, costTable: "paper-t5", optimizer: AdamWScale.Settings.name)

    public static func read(_ m: ConfigSection) throws -> T5Config {
        var c = T5Config.base
        c.layers = try m.int("layers", default: c.layers, range: 1...4096)
        c.hidden = try m.int("hidden", default: c.hidden, range: 1...65536)
        c.heads = try m.int("heads", default: c.heads, range: 1...4096)
        c.headDim = try m.int("head_dim", default: c.headDim, range: 1...4096)
        c.feedForward = try m.int("feed_forward", default: c.feedForward, range: 1...1 << 20)
        c.vocabularySize = try m.int("vocabulary_size", default: c.vocabularySize, range: 8...1 << 24)
        c.relativeBuckets = try m.int("relative_buckets", default: c.relativeBuckets, range: 4...4096)
        c.maxDistance = try m.int("max_distance", default: c.maxDistance, range: 2...1 << 20)
        c.normEpsilon = Float(try m.double("norm_epsilon", default: Double(c.normEpsilon), range: 1e-30...1))
        return c
    }

    public var summary: String { "T5 \(layers)+\(layers)L/\(hidden)d/\(heads)h" }

    public func makeModel(seed: UInt64) -> any PretrainingModel { T5(self, seed: seed) }

    public func trainingFLOPs(batchSize: Int, inputLength: Int, targetLength: Int?) -> Double {
        trainingFLOPsPerExample(inputLength: inputLength, targetLength: targetLength ?? 0) * Double(batchSize)
    }
}
