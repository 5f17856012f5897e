/// Shape of a crammed BERT (spec §1a). The paper's model is `CrammedBERTConfig.paper`
/// (16 layers, hidden 768, 12 heads, GLU input 3072, vocabulary 32768, sequence 128).
public struct CrammedBERTConfig: Codable, Equatable, Sendable {
    public var layers: Int
    public var hidden: Int
    public var heads: Int
    /// Width of the FFN's first projection; the GELU-GLU halves it (3072 → 1536 in the paper).
    public var intermediate: Int
    public var vocabularySize: Int
    /// Longest sequence (size of the sinusoidal position table).
    public var maxSequenceLength: Int
    public var normEpsilon: Float
    /// N(0, initStd²) for every Linear and Embedding.
    public var initStd: Float
    /// Hidden, attention and embedding dropout; only active when a forward pass asks for it
    /// (fine-tuning). Pre-training runs without dropout, as cramming does.
    public var dropout: Float

    public init(
        layers: Int, hidden: Int, heads: Int, intermediate: Int, vocabularySize: Int,
        maxSequenceLength: Int = 128, normEpsilon: Float = 1e-12, initStd: Float = 0.02, dropout: Float = 0.1
    ) {
        self.layers = layers
        self.hidden = hidden
        self.heads = heads
        self.intermediate = intermediate
        self.vocabularySize = vocabularySize
        self.maxSequenceLength = maxSequenceLength
        self.normEpsilon = normEpsilon
        self.initStd = initStd
        self.dropout = dropout
    }

    public static let paper = CrammedBERTConfig(
        layers: 16, hidden: 768, heads: 12, intermediate: 3072, vocabularySize: 32768)

    /// The tiny CPU model of the training benchmark (4 layers, hidden 256, 4 heads, GLU 1024 → 512, vocab 8192).
    public static let tiny = CrammedBERTConfig(
        layers: 4, hidden: 256, heads: 4, intermediate: 1024, vocabularySize: 8192)

    /// Problems with this shape, one line each (empty when valid).
    public func problems() -> [String] {
        var p: [String] = []
        if layers < 1 { p.append("model.layers must be ≥ 1 (got \(layers))") }
        if hidden < 1 { p.append("model.hidden must be ≥ 1 (got \(hidden))") }
        if heads < 1 || hidden % max(heads, 1) != 0 {
            p.append("model.heads (\(heads)) must divide model.hidden (\(hidden))")
        }
        if intermediate < 2 || intermediate % 2 != 0 {
            p.append("model.intermediate must be even and ≥ 2 (got \(intermediate))")
        }
        if vocabularySize < 8 { p.append("model.vocabulary_size must be ≥ 8 (got \(vocabularySize))") }
        if maxSequenceLength < 2 { p.append("model.max_sequence_length must be ≥ 2 (got \(maxSequenceLength))") }
        if !(normEpsilon > 0) { p.append("model.norm_epsilon must be positive") }
        if !(initStd > 0) { p.append("model.init_std must be positive") }
        if !(dropout >= 0 && dropout < 1) { p.append("model.dropout must be in [0, 1) (got \(dropout))") }
        return p
    }

    /// Training FLOPs per token (forward + backward = 3× forward): 6·N over the matmul weights seen by
    /// every token, attention's 12·L·d·S, and the sparse head (6·(d² + d·V)) on the `maskedFraction`
    /// of tokens that reach it.
    public func trainingFLOPsPerToken(sequenceLength s: Int, maskedFraction: Double) -> Double {
        let d = Double(hidden), l = Double(layers)
        let perLayer = d * 3 * d + d * d + d * Double(intermediate) + Double(intermediate / 2) * d
        let attention = 12 * l * d * Double(s)
        let head = 6 * (d * d + d * Double(vocabularySize)) * maskedFraction
        return 6 * l * perLayer + attention + head
    }
}
