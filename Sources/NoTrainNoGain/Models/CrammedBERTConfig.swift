/// Shape of a crammed BERT (cramming's `arch/bert-c5.yaml`). The paper's model is `CrammedBERTConfig.paper`
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

extension CrammedBERTConfig: ModelKind {
    public static let name = "crammed-bert"
    public static let objective: any ObjectiveSettings.Type = MaskedLanguageModeling.self
    public static let presets = ["tiny": CrammedBERTConfig.tiny, "paper": CrammedBERTConfig.paper]

    /// cramming's recipe as NTNG runs it (`bert/cramming/config/train/bert-o3.yaml`,
    /// `data/*.yaml`): sequences of 128 from groups of 256 documents, batches of 1536 in
    /// micro-batches of 128, AdamW at 1e-3 on the budget one-cycle schedule, clipping at 0.5, the
    /// RTX 3090 cost table.
    public static let recipe = PretrainingRecipe(
        tokenizer: .crammingWordPiece, sequenceLength: 128, sequenceLengths: 2...65536,
        documentsPerGroup: 256, microBatchSize: 128, batchSize: 1536, learningRate: 1e-3,
        schedule: .budgetOneCycle, gradientClip: 0.5, costTable: "paper-bert", optimizer: AdamW.Settings.name)

    public static func read(_ m: ConfigSection) throws -> CrammedBERTConfig {
        var c = CrammedBERTConfig.paper
        c.layers = try m.int("layers", default: c.layers, range: 1...4096)
        c.hidden = try m.int("hidden", default: c.hidden, range: 1...65536)
        c.heads = try m.int("heads", default: c.heads, range: 1...4096)
        c.intermediate = try m.int("intermediate", default: c.intermediate, range: 2...1 << 20)
        c.vocabularySize = try m.int("vocabulary_size", default: c.vocabularySize, range: 8...1 << 24)
        c.maxSequenceLength = try m.int("max_sequence_length", default: c.maxSequenceLength, range: 2...65536)
        c.normEpsilon = Float(try m.double("norm_epsilon", default: Double(c.normEpsilon), range: 1e-30...1))
        c.initStd = Float(try m.double("init_std", default: Double(c.initStd), range: 1e-8...10))
        c.dropout = Float(try m.double("dropout", default: Double(c.dropout), range: 0...0.99))
        return c
    }

    public var summary: String { "crammed BERT \(layers)L/\(hidden)d/\(heads)h" }

    public func problem(sequenceLength: Int) -> String? {
        sequenceLength > maxSequenceLength
            ? "data.sequence_length (\(sequenceLength)) exceeds model.max_sequence_length (\(maxSequenceLength))" : nil
    }

    public func fitted(sequenceLength: Int) -> CrammedBERTConfig {
        var c = self
        c.maxSequenceLength = max(maxSequenceLength, sequenceLength)
        return c
    }

    public func makeModel(seed: UInt64) -> any PretrainingModel { CrammedBERT(self, seed: seed) }

    /// 15% of the tokens reach the sparse head.
    public func trainingFLOPs(batchSize: Int, inputLength: Int, targetLength: Int?) -> Double {
        trainingFLOPsPerToken(sequenceLength: inputLength, maskedFraction: 0.15) * Double(batchSize * inputLength)
    }
}
