import Foundation

/// How T5 is fine-tuned and scored on Super-NaturalInstructions: nanoT5's fine-tuning task
/// (`nanoT5/configs/task/ft.yaml` with `configs/default.yaml`, which the paper ran, "strictly following
/// Tk-Instruct"):
///
/// - data: the split's training tasks, at most 100 instances each (a seeded random 100); the test
///   tasks' first 100 instances; prompt = definition + 2 positive examples (`SNIPrompt`), sources of
///   at most 1,024 tokens, targets of 128; a training instance's target is one of its references
///   drawn afresh each epoch (the collator's `random.choice`);
/// - optimisation: Hugging Face's `transformers.AdamW` (β = 0.9, 0.999; ε = 1e-6; its defaults)
///   at a constant 5e-5, weight decay 0, batches of 8, 2 epochs, no warm-up, no clipping, dropout 0
///   (`model.overwrite.dropout_rate: 0.0`);
/// - scoring: greedy decoding with `max_length` 128 (the start token included), predictions decoded
///   without special tokens, tokenization spaces cleaned up and stripped; ROUGE-L (stemmed) and exact
///   match, each the best over an instance's references, as Tk-Instruct's `compute_metrics.py`.
///
/// `references: nanot5` instead scores as nanoT5's `predict` does: against one reference drawn as
/// the collator draws a label, passed through the tokenizer (128 tokens) and decoded back.
/// The subset keys (`train_tasks`, the per-task instance counts, `test_tasks`, `epochs`, the lengths)
/// make CPU-sized runs; every report records the recipe it ran.
public struct SNIRecipe: Codable, Equatable, Sendable {
    public enum References: String, Codable, CaseIterable, Sendable {
        /// Tk-Instruct: the best score over all of an instance's references.
        case all
        /// nanoT5's `predict`: one drawn reference, tokenized and decoded back.
        case nanot5
    }

    /// The split folder under `splits/` (`default`; a staged copy may list only the tasks it holds).
    public var split = "default"
    /// The first N training tasks of the split list (all when nil).
    public var trainTasks: Int?
    public var trainInstancesPerTask = 100
    /// The first N test tasks of the split list (all when nil).
    public var testTasks: Int?
    public var testInstancesPerTask = 100
    public var epochs = 2
    public var learningRate = 5e-5
    public var batchSize = 8
    public var optimizer = AdamW.Hyperparameters(
        beta1: 0.9, beta2: 0.999, epsilon: 1e-6, weightDecay: 0, huggingFaceEpsilon: true)
    public var maxSourceLength = 1024
    public var maxTargetLength = 128
    /// Hugging Face's `max_length` of generation: the decoder start token and up to 127 new tokens.
    public var generationMaxLength = 128
    public var evaluationBatchSize = 16
    public var references = References.all

    public init() {}

    public var prompt: SNIPrompt {
        var p = SNIPrompt()
        p.maxSourceLength = maxSourceLength
        p.maxTargetLength = maxTargetLength
        return p
    }

    /// Reads the recipe's keys of an `sni:` section (every key optional; the paper's values by default);
    /// the caller reads its own keys and finishes the section.
    public static func read(_ s: ConfigSection) throws -> SNIRecipe {
        var r = SNIRecipe()
        r.split = try s.string("split", default: r.split) ?? r.split
        r.trainTasks = s.has("train_tasks") ? try s.int("train_tasks", default: 0, range: 1...100_000) : nil
        r.trainInstancesPerTask = try s.int(
            "train_instances_per_task", default: r.trainInstancesPerTask, range: 1...1_000_000)
        r.testTasks = s.has("test_tasks") ? try s.int("test_tasks", default: 0, range: 1...100_000) : nil
        r.testInstancesPerTask = try s.int("test_instances_per_task", default: r.testInstancesPerTask, range: 1...100)
        r.epochs = try s.int("epochs", default: r.epochs, range: 0...1000)
        r.learningRate = try s.double("learning_rate", default: r.learningRate, range: 0...1)
        r.batchSize = try s.int("batch_size", default: r.batchSize, range: 1...4096)
        r.maxSourceLength = try s.int("max_source_length", default: r.maxSourceLength, range: 8...1_000_000)
        r.maxTargetLength = try s.int("max_target_length", default: r.maxTargetLength, range: 2...1_000_000)
        r.generationMaxLength = try s.int("generation_max_length", default: r.generationMaxLength, range: 1...4096)
        r.evaluationBatchSize = try s.int("evaluation_batch_size", default: r.evaluationBatchSize, range: 1...4096)
        r.references = try s.choice("references", default: r.references)
        return r
    }

    /// Reads the `sni:` section of a YAML file (after `--set sni.key=value` overrides).
    public static func load(path: String?, overrides: [String]) throws -> SNIRecipe {
        let root =
            try path.map { try ConfigSection.load(path: $0, overrides: overrides) }
            ?? ConfigSection.parse(yaml: "", source: "--set", overrides: overrides)
        let section = try root.section("sni")
        let recipe = try read(section)
        try section.finish()
        try root.finish()
        return recipe
    }
}
