import Engine
import Foundation

/// A pre-trained model as `ntng pretrain` leaves it: `<run>/tokenizer.json` and
/// `<run>/checkpoint/model.safetensors`, whose metadata holds the model's kind and shape.
public struct PretrainedCheckpoint<Shape: ModelKind>: Sendable {
    public let config: Shape
    public let tokenizer: Tokenizer
    public let weights: String
    public let source: String

    /// Loads the run's tokenizer and model shape; a run of another model kind is an error naming
    /// `purpose` (what needs this kind).
    public static func load(run directory: String, purpose: String) throws -> PretrainedCheckpoint {
        let weights = directory + "/checkpoint/model.safetensors"
        let (_, metadata) = try SafeTensors.read(weights)
        if let kind = metadata["ntng_model"], kind != Shape.name {
            throw InputError(weights, "holds a \(kind) model; \(purpose) needs a \(Shape.name) run")
        }
        guard let json = metadata["ntng_model_config"],
            let config = try? JSONCoding.decoder().decode(Shape.self, from: Data(json.utf8))
        else {
            throw InputError(weights, "no ntng_model_config in its metadata (not written by ntng pretrain)")
        }
        return PretrainedCheckpoint(
            config: config, tokenizer: try Tokenizer.load(directory + "/tokenizer.json"),
            weights: weights, source: directory)
    }

    /// A fresh model: the pre-trained weights, or a random initialisation of the same shape.
    public func model(randomInitialisation: Bool, seed: UInt64) throws -> any PretrainingModel {
        let model = config.makeModel(seed: seed)
        if !randomInitialisation { try Checkpointer.loadModel(from: weights, into: model) }
        return model
    }
}

extension PretrainedCheckpoint where Shape == CrammedBERTConfig {
    public static func load(run directory: String) throws -> PretrainedCheckpoint {
        try load(run: directory, purpose: "GLUE and SuperGLUE evaluation (it fine-tunes a crammed BERT)")
    }

    /// A fresh encoder: the pre-trained weights, or a random initialisation of the same shape.
    public func encoder(randomInitialisation: Bool, seed: UInt64) throws -> CrammedBERT {
        try model(randomInitialisation: randomInitialisation, seed: seed) as! CrammedBERT
    }
}

/// Scores of a model on GLUE / SuperGLUE tasks (`ntng evaluate`), as JSON and as a Markdown table.
public struct EvaluationReport: Codable, Sendable {
    public struct TaskReport: Codable, Sendable {
        public init(
            task: String, suite: DownstreamTask.Suite, metric: String, mean: Double, std: Double,
            mismatchedMean: Double?,
            runs: [FineTuning.Result]
        ) {
            self.task = task
            self.suite = suite
            self.metric = metric
            self.mean = mean
            self.std = std
            self.mismatchedMean = mismatchedMean
            self.runs = runs
        }

        public var task: String
        public var suite: DownstreamTask.Suite
        public var metric: String
        /// Mean and sample standard deviation over seeds of the best-epoch primary metric (first dev set).
        public var mean: Double
        public var std: Double
        /// MNLI-mismatched, when present.
        public var mismatchedMean: Double?
        public var runs: [FineTuning.Result]
    }

    public struct Average: Codable, Sendable {
        public var value: Double
        public var covers: [String]
    }

    public var source: String
    public var randomInitialisation: Bool
    public var recipe: [String: FineTuningRecipe]
    public var tasks: [TaskReport]
    /// Task → why it was skipped.
    public var skipped: [String: String]
    /// "glue", "superglue (code: with MultiRC)", "superglue (paper: without MultiRC)".
    public var averages: [String: Average]

    public func markdown() -> String {
        var s = "| task | metric | score | best epoch | wall s/seed |\n|---|---|---|---|---|\n"
        for t in tasks {
            let score =
                t.runs.count > 1
                ? String(format: "%.2f ± %.2f", 100 * t.mean, 100 * t.std) : String(format: "%.2f", 100 * t.mean)
            let epochs = t.runs.map { String($0.bestEpoch) }.joined(separator: ",")
            let wall = t.runs.map(\.wallSeconds).reduce(0, +) / Double(max(t.runs.count, 1))
            s += "| \(t.task) | \(t.metric) | \(score) | \(epochs) | \(String(format: "%.0f", wall)) |\n"
            if let mm = t.mismatchedMean {
                s += "| MNLI-mm | accuracy | \(String(format: "%.2f", 100 * mm)) | last | |\n"
            }
        }
        for (name, a) in averages.sorted(by: { $0.key < $1.key }) {
            s +=
                "| **\(name) average** | over \(a.covers.joined(separator: ", ")) | "
                + "**\(String(format: "%.2f", 100 * a.value))** | | |\n"
        }
        for (task, why) in skipped.sorted(by: { $0.key < $1.key }) { s += "| \(task) | skipped: \(why) | | | |\n" }
        for (suite, r) in recipe.sorted(by: { $0.key < $1.key }) {
            let quirks = r.quirks
            s +=
                "\n\(suite): reproduce \(r.reproduce.rawValue)"
                + (quirks.isEmpty ? " (no quirk of the original code)" : "; " + quirks.joined(separator: "; ")) + ".\n"
        }
        return s
    }
}

public enum DownstreamEvaluation {
    /// Fine-tunes and scores every task whose files exist under `dataDirectory/<suite>`, for each seed.
    public static func run(
        _ checkpoint: PretrainedCheckpoint<CrammedBERTConfig>, tasks: [DownstreamTask], dataDirectory: String,
        seeds: [UInt64],
        randomInitialisation: Bool, recipe: (DownstreamTask.Suite) -> FineTuningRecipe = { FineTuningRecipe.paper($0) },
        progress: (String) -> Void = { _ in }
    ) throws -> EvaluationReport {
        var reports: [EvaluationReport.TaskReport] = []
        var skipped: [String: String] = [:]
        var recipes: [String: FineTuningRecipe] = [:]
        var firstTaskWarmup: Int?
        for task in tasks {
            let folder = dataDirectory + "/" + task.suite.rawValue
            if let missing = task.missingFiles(folder).first {
                skipped[task.name] = "\(missing) is missing"
                progress("skipping \(task.name): \(missing) is missing")
                continue
            }
            let train = try task.readTrain(folder), dev = try task.readDev(folder)
            var r = recipe(task.suite)
            if r.warmupFromFirstTask {
                firstTaskWarmup = firstTaskWarmup ?? r.warmupSteps(examples: train.count)
                r.warmupSteps = firstTaskWarmup
            }
            recipes[task.suite.rawValue] = r
            let fine = FineTuning(task: task, recipe: r, tokenizer: checkpoint.tokenizer)
            var runs: [FineTuning.Result] = []
            for seed in seeds {
                progress(
                    "\(task.name): \(train.count) training examples, "
                        + "\(dev.map { "\($0.1.count) \($0.0)" }.joined(separator: ", ")), seed \(seed)"
                )
                let model = SequenceClassifier(
                    encoder: try checkpoint.encoder(randomInitialisation: randomInitialisation, seed: seed),
                    classes: task.labels, seed: SeedStream.classifierHead.seed(seed))
                runs.append(fine.run(model, train: train, dev: dev, seed: seed, progress: progress))
            }
            let first = dev[0].0
            let values = runs.map { $0.best[first]?[task.primaryMetric] ?? .nan }
            let mismatched = runs.compactMap { $0.best["mismatched"]?["accuracy"] }
            reports.append(
                .init(
                    task: task.name, suite: task.suite, metric: task.primaryMetric, mean: mean(values),
                    std: sampleStd(values),
                    mismatchedMean: mismatched.isEmpty ? nil : mean(mismatched), runs: runs))
        }
        return EvaluationReport(
            source: randomInitialisation ? "random initialisation (\(checkpoint.source) shape)" : checkpoint.source,
            randomInitialisation: randomInitialisation, recipe: recipes, tasks: reports, skipped: skipped,
            averages: averages(reports))
    }

    /// GLUE: the 9 numbers (MNLI counted twice, matched and mismatched) over the tasks present;
    /// SuperGLUE: the code's average (with MultiRC) and the paper's (without).
    static func averages(_ reports: [EvaluationReport.TaskReport]) -> [String: EvaluationReport.Average] {
        var out: [String: EvaluationReport.Average] = [:]
        var glue: [(String, Double)] = []
        for r in reports where r.suite == .glue && GLUE.scored.contains(r.task) {
            glue.append((r.task == "MNLI" ? "MNLI-m" : r.task, r.mean))
            if let mm = r.mismatchedMean { glue.append(("MNLI-mm", mm)) }
        }
        if !glue.isEmpty { out["glue"] = .init(value: mean(glue.map(\.1)), covers: glue.map(\.0)) }
        for (name, members) in [
            ("superglue (code, with MultiRC)", SuperGLUE.codeAverage),
            ("superglue (paper, without MultiRC)", SuperGLUE.paperAverage),
        ] {
            let present = reports.filter { $0.suite == .superglue && members.contains($0.task) }
            if !present.isEmpty { out[name] = .init(value: mean(present.map(\.mean)), covers: present.map(\.task)) }
        }
        return out
    }

    public static func averagesForTesting(
        _ reports: [EvaluationReport.TaskReport]
    ) -> [String: EvaluationReport.Average] { averages(reports) }

    static func mean(_ x: [Double]) -> Double { x.isEmpty ? .nan : x.reduce(0, +) / Double(x.count) }

    static func sampleStd(_ x: [Double]) -> Double {
        guard x.count > 1 else { return 0 }
        let m = mean(x)
        return (x.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(x.count - 1)).squareRoot()
    }
}
