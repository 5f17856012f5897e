import Foundation

/// Everything a pre-training run is made of, read from YAML (`ntng pretrain --config bert.yaml`,
/// overrides with `--set key.path=value`). See `Resources/configs/` for annotated examples. Every
/// default not written in the config comes from the model kind's recipe (`PretrainingRecipe`) or
/// from the plug-in that owns the key, and is written once, there. The run stores the whole config
/// as `config.json`.
public struct PretrainingConfig: Codable, Equatable, Sendable {
    /// `data.tokenizer`: learned from the corpus by the model's recipe, or a `tokenizer.json`.
    public enum TokenizerSource: Codable, Equatable, Sendable {
        case train
        case file(String)
    }

    public struct Data: Codable, Equatable, Sendable {
        /// Files or folders (relative paths are relative to the config file's folder).
        public var corpus: [String]
        public var textField = "text"
        public var tokenizer = TokenizerSource.train
        /// Size of a tokenizer trained on the corpus (default: model.vocabulary_size); T5 trains
        /// 32,100 tokens for a model padded to 32,128.
        public var tokenizerVocabularySize: Int?
        /// Tokens per row (BERT) or encoder inputs per example (T5; raw rows are longer, see `rowLength`).
        public var sequenceLength: Int
        /// Files or folders whose rows are the validation set (C4's validation split for T5); when
        /// given, no training rows are held out for validation.
        public var validationCorpus: [String] = []
        public var validationFraction = 0.005
        public var validationMaxSequences = 10_000
        /// Rows held out after the validation rows for an irreducible-loss model (RHO-loss).
        public var reserveFraction = 0.0
        public var documentsPerGroup: Int
        public var cacheDir = ".ntng/cache"
        /// The split of the rows into validation, held-out and training rows.
        public var seed: UInt64 = 0
        /// The order training rows are read in; nil: `training.seed`, so each seed of a comparison
        /// also reads the data in its own order (the original code's seeded sampler). Set it to keep
        /// one order across seeds.
        public var orderSeed: UInt64?

        /// The defaults of `recipe`.
        public init(corpus: [String], recipe: PretrainingRecipe) {
            self.corpus = corpus
            sequenceLength = recipe.sequenceLength
            documentsPerGroup = recipe.documentsPerGroup
        }
    }

    public struct Training: Codable, Equatable, Sendable {
        public var budget: RST
        public var microBatchSize: Int
        /// Sequences per optimiser step (a multiple of the micro-batch size).
        public var batchSize: Int
        /// The peak learning rate: the config's, else the optimiser's, method's or model's
        /// (`LearningRateSetting`), resolved when the config is read.
        public var learningRate: Double
        public var schedule: LearningRateSchedule
        /// Global gradient-norm clip; 0 disables.
        public var gradientClip: Double
        public var costModel: CostTable
        public var validateEvery: RST?
        public var checkpointEvery: RST?
        /// Print and log a training line every this many optimiser steps.
        public var logEvery = 10
        public var seed: UInt64 = 0
        /// What a non-finite training loss or gradient norm does to the run.
        public var onNonfinite = NonFinitePolicy.abort
        /// With `skip-step`, the run stops after this many dropped steps in a row.
        public var maxConsecutiveSkips = 10
        /// Checkpoints kept in the run folder (`checkpoint`, `checkpoint.1`, …): resume falls back to an
        /// earlier one when the newest is damaged.
        public var keepCheckpoints = 2

        /// The defaults of `recipe`.
        public init(budget: RST, recipe: PretrainingRecipe) {
            self.budget = budget
            microBatchSize = recipe.microBatchSize
            batchSize = recipe.batchSize
            learningRate = recipe.learningRate
            schedule = recipe.schedule
            gradientClip = recipe.gradientClip
            costModel = .builtIn(recipe.costTable)
        }

        /// Micro-batches per optimiser step.
        public var accumulation: Int { batchSize / microBatchSize }
    }

    public var name: String
    /// Whose behaviour the defaults follow: the paper's intent or the original code's (`Reproduce`).
    public var reproduce = Reproduce.intended
    public var model: ModelConfig
    /// The model kind's objective (masked LM, span corruption), read from the `data:` section.
    public var objective: ObjectiveConfig
    public var data: Data
    public var training: Training
    public var optimizer: OptimizerConfig
    /// Efficient-training methods (config sections of their own); none for the baseline.
    public var methods: MethodConfigs
    /// Where the run directory goes (default runs/<name>, relative to the current directory).
    public var runDirectory: String

    /// Reads a config file. Input paths inside it (corpus, tokenizer, cost model) are resolved
    /// against the file's folder; the cache and run directories against the current directory.
    public static func load(path: String, overrides: [String] = []) throws -> PretrainingConfig {
        try read(ConfigSection.load(path: path, overrides: overrides))
    }

    public static func parse(
        yaml: String, source: String, baseDirectory: String, overrides: [String] = []
    ) throws -> PretrainingConfig {
        try read(ConfigSection.parse(yaml: yaml, source: source, baseDirectory: baseDirectory, overrides: overrides))
    }

    static func read(_ root: ConfigSection) throws -> PretrainingConfig {
        let source = root.source
        let name = try root.string("name", default: "run") ?? "run"
        let reproduce = try root.choice("reproduce", default: Reproduce.intended)
        let model = try ModelConfig.read(try root.section("model"))
        let (data, objective) = try readData(try root.section("data"), model: model)
        if let problem = model.shape.problem(sequenceLength: data.sequenceLength) {
            throw InputError(source, problem)
        }
        let trainingSection = try root.section("training"), optimizerSection = try root.section("optimizer")
        var training = try readTraining(trainingSection, recipe: model.recipe)
        let context = RecipeContext(model: model, accumulation: training.accumulation, reproduce: reproduce)
        let optimizer = try OptimizerConfig.read(optimizerSection, context: context)
        let methods = try MethodConfigs.read(root, context: context)
        for method in methods.all { try method.check(optimizer: optimizer, section: optimizerSection) }
        training.learningRate = try LearningRateSetting.read(trainingSection).resolve(
            model: model, optimizer: optimizer.name, methods: methods)
        try trainingSection.finish()
        let runDirectory = try root.string("run_directory", default: "runs/\(name)") ?? "runs/\(name)"
        try root.finish()
        return PretrainingConfig(
            name: name, reproduce: reproduce, model: model, objective: objective, data: data, training: training,
            optimizer: optimizer,
            methods: methods, runDirectory: runDirectory)
    }

    /// The `data:` section: the shared keys, then the model's objective's (a key of another kind's
    /// objective is refused naming that kind).
    static func readData(_ d: ConfigSection, model: ModelConfig) throws -> (Data, ObjectiveConfig) {
        let corpus = try d.paths("corpus")
        guard !corpus.isEmpty else { throw InputError(d.source, "data.corpus: required (files or folders of text)") }
        let recipe = model.recipe
        var data = Data(corpus: corpus, recipe: recipe)
        data.textField = try d.string("text_field", default: data.textField) ?? data.textField
        let tokenizer = try d.string("tokenizer", default: "train") ?? "train"
        data.tokenizer = tokenizer == "train" ? .train : .file(d.resolve(tokenizer, key: "tokenizer"))
        if d.has("tokenizer_vocabulary_size") {
            guard data.tokenizer == .train else {
                throw d.fail("tokenizer_vocabulary_size", "only applies with tokenizer: train")
            }
            data.tokenizerVocabularySize = try d.int(
                "tokenizer_vocabulary_size", default: 0, range: 8...model.vocabularySize)
        }
        data.sequenceLength = try d.int("sequence_length", default: data.sequenceLength, range: recipe.sequenceLengths)
        data.validationCorpus = try d.paths("validation_corpus")
        if !data.validationCorpus.isEmpty && d.has("validation_fraction") {
            throw d.fail(
                "validation_fraction",
                "does not apply with data.validation_corpus (validation rows come from that corpus)")
        }
        data.validationFraction = try d.double("validation_fraction", default: data.validationFraction, range: 0...0.9)
        data.validationMaxSequences = try d.int(
            "validation_max_sequences", default: data.validationMaxSequences, range: 1...Int.max)
        data.reserveFraction = try d.double("reserve_fraction", default: data.reserveFraction, range: 0...0.9)
        data.documentsPerGroup = try d.int(
            "documents_per_group", default: data.documentsPerGroup, range: 1...1 << 30)
        data.cacheDir = try d.string("cache_dir", default: data.cacheDir) ?? data.cacheDir
        data.seed = UInt64(try d.int("seed", default: Int(data.seed), range: 0...Int.max))
        let orderSeed = try d.int("order_seed", default: -1, range: 0...Int.max)
        data.orderSeed = orderSeed < 0 ? nil : UInt64(orderSeed)
        let objective = try model.objective.read(d)
        let others = Plugins.modelKinds.filter { ObjectIdentifier($0.objective) != ObjectIdentifier(model.objective) }
        try d.finish(
            alternatives: others.map { kind in (kind.name, { _ = try kind.objective.read($0) }) }, label: "model.kind",
            chosen: model.kind)
        return (data, ObjectiveConfig(objective))
    }

    static func readTraining(_ t: ConfigSection, recipe: PretrainingRecipe) throws -> Training {
        guard let budget = try t.duration("budget", default: nil) else {
            throw InputError(t.source, "training.budget: required (an RST duration such as 6h or 5m)")
        }
        var training = Training(budget: budget, recipe: recipe)
        training.microBatchSize = try t.int("micro_batch_size", default: training.microBatchSize, range: 1...1 << 20)
        training.batchSize = try t.int("batch_size", default: training.batchSize, range: 1...1 << 30)
        guard training.batchSize % training.microBatchSize == 0 else {
            throw InputError(
                t.source,
                "training.batch_size (\(training.batchSize)) must be a multiple of training.micro_batch_size "
                    + "(\(training.microBatchSize))")
        }
        let schedule = try t.choice(
            "schedule", default: training.schedule.name, from: LearningRateSchedule.named.map(\.name))
        training.schedule = LearningRateSchedule.named.first { $0.name == schedule }!.schedule
        training.gradientClip = try t.double("gradient_clip", default: training.gradientClip, range: 0...1e9)
        training.costModel = try CostTable.read(t, "cost_model", default: training.costModel.description)
        training.validateEvery = try t.duration("validate_every", default: nil)
        training.checkpointEvery = try t.duration("checkpoint_every", default: nil)
        training.logEvery = try t.int("log_every", default: training.logEvery, range: 1...Int.max)
        training.seed = UInt64(try t.int("seed", default: Int(training.seed), range: 0...Int.max))
        training.onNonfinite = try t.choice("on_nonfinite", default: training.onNonfinite)
        training.maxConsecutiveSkips = try t.int(
            "max_consecutive_skips", default: training.maxConsecutiveSkips, range: 1...1_000_000)
        training.keepCheckpoints = try t.int("keep_checkpoints", default: training.keepCheckpoints, range: 1...1000)
        return training
    }
}

extension PretrainingConfig {
    /// Tokens per dataset row: the sequence length for BERT; for T5 the raw length whose span
    /// corruption gives `sequence_length` inputs (568 for 512).
    public var rowLength: Int { objective.settings.rowLength(forSequenceLength: data.sequenceLength) }

    /// The split of `rows` training-corpus rows: validation rows held out unless a validation
    /// corpus is given, then `data.reserve_fraction` for an IL model, the rest for training.
    public func split(rows: Int) throws -> DataSplit {
        try DataSplit(
            count: rows, validationFraction: data.validationCorpus.isEmpty ? data.validationFraction : 0,
            validationMaximum: data.validationCorpus.isEmpty ? data.validationMaxSequences : 0,
            reservedFraction: data.reserveFraction, seed: data.seed, orderSeed: data.orderSeed ?? training.seed)
    }

    /// The run's objective for `tokenizer`: masked LM (BERT) or span corruption (T5).
    public func makeObjective(tokenizer: Tokenizer) throws -> any PretrainingObjective {
        try objective.settings.make(tokenizer: tokenizer, rowLength: rowLength)
    }
}

extension PretrainingConfig.TokenizerSource {
    /// In JSON, `{"train": true}` or `{"file": "…/tokenizer.json"}`.
    enum CodingKeys: String, CodingKey { case train, file }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let path = try c.decodeIfPresent(String.self, forKey: .file) { self = .file(path) } else { self = .train }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .train: try c.encode(true, forKey: .train)
        case .file(let path): try c.encode(path, forKey: .file)
        }
    }
}

/// `training.on_nonfinite`: what a non-finite training loss or gradient norm does. Either way the
/// update is not applied, so the weights and the optimiser state stay finite.
public enum NonFinitePolicy: String, Codable, Sendable, CaseIterable {
    /// Stop the run, naming the step, the micro-batch, the RST and the quantity; the last checkpoint
    /// is kept, and the process exits non-zero.
    case abort
    /// Go on without the update; the step is logged and its RST recorded as skipped in the ledger.
    /// `training.max_consecutive_skips` dropped steps in a row stop the run.
    case skipStep = "skip-step"
}
