import Foundation

/// Everything a pre-training run is made of, read from YAML (`ntng pretrain --config bert.yaml`,
/// overrides with `--set key.path=value`). See `Resources/configs/` for annotated examples.
public struct PretrainingConfig: Codable, Equatable, Sendable {
    public struct Data: Codable, Equatable, Sendable {
        /// Files or folders (relative paths are relative to the config file's folder).
        public var corpus: [String]
        public var textField: String = "text"
        /// "train" learns a tokenizer on the corpus (cramming WordPiece for BERT, Unigram for T5);
        /// otherwise a tokenizer.json path.
        public var tokenizer: String = "train"
        /// Size of a tokenizer trained on the corpus (default: model.vocabulary_size); T5 trains
        /// 32,100 tokens for a model padded to 32,128.
        public var tokenizerVocabularySize: Int?
        /// Tokens per row (BERT) or encoder inputs per example (T5; raw rows are longer, see `rowLength`).
        public var sequenceLength: Int = 128
        /// Files or folders whose rows are the validation set (C4's validation split for T5); when
        /// given, no training rows are held out for validation.
        public var validationCorpus: [String] = []
        public var validationFraction: Double = 0.005
        public var validationMaximumSequences: Int = 10_000
        /// Rows held out after the validation rows for an irreducible-loss model (RHO-loss).
        public var reserveFraction: Double = 0
        public var documentsPerGroup: Int = 256
        public var cacheDirectory: String = ".ntng/cache"
        public var seed: UInt64 = 0
        /// T5's span corruption (noise density 0.15, mean span 3).
        public var spanCorruption = SpanCorruption()
    }

    public struct Training: Codable, Equatable, Sendable {
        public var budget: RST
        public var microBatchSize: Int = 128
        /// Sequences per optimiser step (a multiple of the micro-batch size).
        public var batchSize: Int = 1536
        public var learningRate: Double = 1e-3
        public var schedule: LearningRateSchedule = .budgetOneCycle
        /// Global gradient-norm clip; 0 disables.
        public var gradientClip: Double = 0.5
        /// "paper-bert", "paper-t5" or the path of a calibration written by `ntng calibrate`.
        public var costModel: String = "paper-bert"
        public var validateEvery: RST?
        public var checkpointEvery: RST?
        /// Print and log a training line every this many optimiser steps.
        public var logEvery: Int = 10
        public var seed: UInt64 = 0
    }

    /// `stacking:` — layer stacking (spec §2).
    public struct Stacking: Codable, Equatable, Sendable {
        public var initialBlocks: Int
        public var fractions: [Double] = [0.125, 0.30]
    }

    /// `layer_drop:` — progressive layer dropping (spec §3).
    public struct LayerDrop: Codable, Equatable, Sendable {
        public var thetaBar: Double = 0.5
        public var gamma: Double = 100
        public var perStep = false
        /// How the optimiser treats dropped blocks: `zero-gradient` (the original BERT code: momentum
        /// and weight decay still act) or `skip`.
        public var droppedBlocks = MissingGradientPolicy.zeroGradientIfStateExists
    }

    /// `batch_selection:` — selective backprop or RHO-loss (spec §4, §5).
    public struct BatchSelectionConfig: Codable, Equatable, Sendable {
        public enum Method: String, Codable, Sendable { case sb, rho }
        public var method: Method
        /// SB: keep with probability percentile^β.
        public var beta: Double = 1
        public var history: Int = 5000
        /// RHO: the mega-batch in batches, and the IL losses file.
        public var megaBatch: Int = 2
        public var ilLosses: String?
        /// Record selection forwards as waived instead of charging them (the paper's ablation).
        public var freeSelection = false
    }

    public var name: String
    public var model: ModelConfig
    public var batchSelection: BatchSelectionConfig?
    public var stacking: Stacking?
    public var layerDrop: LayerDrop?
    public var data: Data
    public var training: Training
    public var optimizer: OptimizerConfig
    /// Where the run directory goes (default runs/<name>, relative to the current directory).
    public var runDirectory: String

    /// Reads a config file. Input paths inside it (corpus, tokenizer, cost model) are resolved
    /// against the file's folder; the cache and run directories against the current directory.
    public static func load(path: String, overrides: [String] = []) throws -> PretrainingConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError("\(path): cannot read the config file (missing or unreadable)")
        }
        let base = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return try parse(
            yaml: String(decoding: data, as: UTF8.self), source: path, baseDirectory: base, overrides: overrides)
    }

    public static func parse(
        yaml: String, source: String, baseDirectory: String, overrides: [String] = []
    ) throws -> PretrainingConfig {
        let root = try ConfigSection.parse(yaml: yaml, source: source, overrides: overrides)
        /// Paths in the file are relative to the file's folder; paths given with --set to the current directory.
        func resolve(_ p: String, _ section: ConfigSection, _ key: String) -> String {
            p.hasPrefix("/") || section.isOverridden(key) ? p : baseDirectory + "/" + p
        }
        let name = try root.string("name", default: "run") ?? "run"

        let m = try root.section("model")
        let kind = ModelConfig.Kind(
            rawValue: try m.choice("kind", default: "crammed-bert", from: ModelConfig.Kind.allCases.map(\.rawValue)))!
        let isT5 = kind == .t5
        var model: ModelConfig
        switch kind {
        case .crammedBERT:
            model = .crammedBERT(
                CrammedBERTConfig(
                    layers: try m.int("layers", default: 16, range: 1...4096),
                    hidden: try m.int("hidden", default: 768, range: 1...65536),
                    heads: try m.int("heads", default: 12, range: 1...4096),
                    intermediate: try m.int("intermediate", default: 3072, range: 2...1 << 20),
                    vocabularySize: try m.int("vocabulary_size", default: 32768, range: 8...1 << 24),
                    maxSequenceLength: try m.int("max_sequence_length", default: 128, range: 2...65536),
                    normEpsilon: Float(try m.double("norm_epsilon", default: 1e-12, range: 1e-30...1)),
                    initStd: Float(try m.double("init_std", default: 0.02, range: 1e-8...10)),
                    dropout: Float(try m.double("dropout", default: 0.1, range: 0...0.99))))
        case .t5:
            let base = T5Config.base
            model = .t5(
                T5Config(
                    layers: try m.int("layers", default: base.layers, range: 1...4096),
                    hidden: try m.int("hidden", default: base.hidden, range: 1...65536),
                    heads: try m.int("heads", default: base.heads, range: 1...4096),
                    headDim: try m.int("head_dim", default: base.headDim, range: 1...4096),
                    feedForward: try m.int("feed_forward", default: base.feedForward, range: 1...1 << 20),
                    vocabularySize: try m.int("vocabulary_size", default: base.vocabularySize, range: 8...1 << 24),
                    relativeBuckets: try m.int("relative_buckets", default: base.relativeBuckets, range: 4...4096),
                    maxDistance: try m.int("max_distance", default: base.maxDistance, range: 2...1 << 20),
                    normEpsilon: Float(
                        try m.double("norm_epsilon", default: Double(base.normEpsilon), range: 1e-30...1))))
        }
        try m.finish()
        if let p = model.problems.first { throw ConfigError("\(source): \(p)") }

        let d = try root.section("data")
        let corpus = try d.strings("corpus", default: [])
        guard !corpus.isEmpty else { throw ConfigError("\(source): data.corpus: required (files or folders of text)") }
        var data = Data(corpus: corpus.map { resolve($0, d, "corpus") })
        data.textField = try d.string("text_field", default: "text") ?? "text"
        let tokenizer = try d.string("tokenizer", default: "train") ?? "train"
        data.tokenizer = tokenizer == "train" ? "train" : resolve(tokenizer, d, "tokenizer")
        if d.has("tokenizer_vocabulary_size") {
            guard tokenizer == "train" else {
                throw d.fail("tokenizer_vocabulary_size", "only applies with tokenizer: train")
            }
            let size = try d.int("tokenizer_vocabulary_size", default: 0, range: 8...model.vocabularySize)
            data.tokenizerVocabularySize = size
        }
        data.sequenceLength = try d.int(
            "sequence_length", default: isT5 ? 512 : 128, range: isT5 ? 8...65536 : 2...65536)
        data.validationCorpus = try d.strings("validation_corpus", default: []).map {
            resolve($0, d, "validation_corpus")
        }
        if !data.validationCorpus.isEmpty && d.has("validation_fraction") {
            throw d.fail(
                "validation_fraction",
                "does not apply with data.validation_corpus (validation rows come from that corpus)")
        }
        data.validationFraction = try d.double("validation_fraction", default: 0.005, range: 0...0.9)
        data.validationMaximumSequences = try d.int("validation_max_sequences", default: 10_000, range: 1...Int.max)
        data.reserveFraction = try d.double("reserve_fraction", default: 0, range: 0...0.9)
        data.documentsPerGroup = try d.int("documents_per_group", default: isT5 ? 1000 : 256, range: 1...1 << 30)
        data.cacheDirectory = try d.string("cache_dir", default: ".ntng/cache") ?? ".ntng/cache"
        data.seed = UInt64(try d.int("seed", default: 0, range: 0...Int.max))
        for key in ["noise_density", "mean_noise_span"] where d.has(key) && !isT5 {
            throw d.fail(key, "only applies to model.kind t5 (span corruption)")
        }
        data.spanCorruption = SpanCorruption(
            noiseDensity: try d.double("noise_density", default: 0.15, range: 0.01...0.99),
            meanNoiseSpanLength: try d.double("mean_noise_span", default: 3, range: 1...1000))
        try d.finish()
        if case .crammedBERT(var bert) = model {
            if data.sequenceLength > bert.maxSequenceLength {
                throw ConfigError(
                    "\(source): data.sequence_length (\(data.sequenceLength)) exceeds model.max_sequence_length (\(bert.maxSequenceLength))"
                )
            }
            bert.maxSequenceLength = max(bert.maxSequenceLength, data.sequenceLength)
            model = .crammedBERT(bert)
        }

        let t = try root.section("training")
        guard let budget = try t.duration("budget", default: nil) else {
            throw ConfigError("\(source): training.budget: required (an RST duration such as 6h or 5m)")
        }
        var training = Training(budget: budget)
        training.microBatchSize = try t.int("micro_batch_size", default: isT5 ? 72 : 128, range: 1...1 << 20)
        training.batchSize = try t.int("batch_size", default: isT5 ? 144 : 1536, range: 1...1 << 30)
        guard training.batchSize % training.microBatchSize == 0 else {
            throw ConfigError(
                "\(source): training.batch_size (\(training.batchSize)) must be a multiple of training.micro_batch_size (\(training.microBatchSize))"
            )
        }
        training.learningRate = try t.double("learning_rate", default: isT5 ? 2e-2 : 1e-3, range: 0...10)
        switch try t.choice(
            "schedule", default: isT5 ? "cosine-budget" : "budget-one-cycle",
            from: ["budget-one-cycle", "cosine-budget", "constant"])
        {
        case "cosine-budget": training.schedule = .cosineBudget
        case "constant": training.schedule = .constant
        default: training.schedule = .budgetOneCycle
        }
        training.gradientClip = try t.double("gradient_clip", default: isT5 ? 1 : 0.5, range: 0...1e9)
        let defaultCost = isT5 ? "paper-t5" : "paper-bert"
        let cost = try t.string("cost_model", default: defaultCost) ?? defaultCost
        training.costModel = CostModel.builtIn[cost] != nil ? cost : resolve(cost, t, "cost_model")
        training.validateEvery = try t.duration("validate_every", default: nil)
        training.checkpointEvery = try t.duration("checkpoint_every", default: nil)
        training.logEvery = try t.int("log_every", default: 10, range: 1...Int.max)
        training.seed = UInt64(try t.int("seed", default: 0, range: 0...Int.max))
        try t.finish()

        let optimizer = try OptimizerConfig.read(
            try root.section("optimizer"), model: kind, accumulation: training.batchSize / training.microBatchSize)

        var stacking: Stacking?
        if root.has("stacking") {
            let st = try root.section("stacking")
            stacking = Stacking(
                initialBlocks: try st.int("initial_blocks", default: max(1, model.layers / 4), range: 1...model.layers))
            stacking!.fractions = try st.doubles("fractions", default: [0.125, 0.30], range: 0...1)
            try st.finish()
            guard stacking!.fractions == stacking!.fractions.sorted() else {
                throw ConfigError("\(source): stacking.fractions must be increasing (got \(stacking!.fractions))")
            }
        }
        var layerDrop: LayerDrop?
        if root.has("layer_drop") {
            let ld = try root.section("layer_drop")
            layerDrop = LayerDrop()
            layerDrop!.thetaBar = try ld.double("theta_bar", default: 0.5, range: 0...1)
            layerDrop!.gamma = try ld.double("gamma", default: isT5 ? 20 : 100, range: 0...1e6)
            layerDrop!.perStep = try ld.bool("per_step", default: isT5)
            layerDrop!.droppedBlocks = MissingGradientPolicy(
                rawValue: try ld.choice(
                    "dropped_blocks", default: isT5 ? "skip" : "zero-gradient",
                    from: ["zero-gradient", "skip"]))!
            try ld.finish()
        }

        var selection: BatchSelectionConfig?
        if root.has("batch_selection") {
            let bs = try root.section("batch_selection")
            var c = BatchSelectionConfig(
                method: BatchSelectionConfig.Method(
                    rawValue: try bs.choice("method", default: "sb", from: ["sb", "rho"]))!)
            let only: [(String, BatchSelectionConfig.Method)] = [
                ("beta", .sb), ("history", .sb), ("mega_batch", .rho), ("il_losses", .rho),
            ]
            for (key, owner) in only where bs.has(key) && owner != c.method {
                throw bs.fail(key, "only applies to method \(owner.rawValue) (this config uses \(c.method.rawValue))")
            }
            c.beta = try bs.double("beta", default: 1, range: 0...100)
            c.history = try bs.int("history", default: 5000, range: 1...100_000_000)
            c.megaBatch = try bs.int("mega_batch", default: 2, range: 1...1000)
            c.ilLosses = try bs.string("il_losses", default: nil).map { resolve($0, bs, "il_losses") }
            c.freeSelection = try bs.bool("free_selection", default: false)
            try bs.finish()
            if c.method == .rho && c.ilLosses == nil {
                throw ConfigError(
                    "\(source): batch_selection.il_losses: required for rho (extract them with `ntng extract-il-losses`)"
                )
            }
            selection = c
        }

        let runDirectory = try root.string("run_directory", default: "runs/\(name)") ?? "runs/\(name)"
        try root.finish()
        return PretrainingConfig(
            name: name, model: model, batchSelection: selection, stacking: stacking, layerDrop: layerDrop,
            data: data, training: training, optimizer: optimizer, runDirectory: runDirectory)
    }
}

extension PretrainingConfig {
    /// Tokens per dataset row: the sequence length for BERT; for T5 the raw length whose span
    /// corruption gives `sequence_length` inputs (568 for 512, spec §1b).
    public var rowLength: Int {
        switch model {
        case .crammedBERT: data.sequenceLength
        case .t5: data.spanCorruption.rawLength(forInputLength: data.sequenceLength).raw
        }
    }

    /// The split of `rows` training-corpus rows: validation rows held out unless a validation
    /// corpus is given, then `data.reserve_fraction` for an IL model, the rest for training.
    public func split(rows: Int) throws -> DataSplit {
        try DataSplit(
            count: rows, validationFraction: data.validationCorpus.isEmpty ? data.validationFraction : 0,
            validationMaximum: data.validationCorpus.isEmpty ? data.validationMaximumSequences : 0,
            reservedFraction: data.reserveFraction, seed: data.seed)
    }

    /// The run's objective for `tokenizer`: masked LM (BERT) or span corruption (T5).
    public func objective(tokenizer: Tokenizer) throws -> any PretrainingObjective {
        switch model {
        case .crammedBERT:
            guard let mask = tokenizer.maskID else {
                throw ConfigError("the tokenizer has no mask token (<mask> or [MASK])")
            }
            return MLMMasking(
                maskTokenID: mask, vocabularySize: tokenizer.vocabularySize, specialTokenIDs: tokenizer.specialIDs)
        case .t5:
            return try SpanCorruptionObjective(
                corruption: data.spanCorruption, tokenizer: tokenizer, rowLength: rowLength)
        }
    }
}
