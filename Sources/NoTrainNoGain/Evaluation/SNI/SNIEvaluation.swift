import Engine
import Foundation

/// One scored prediction (a line of `predictions.jsonl`); ROUGE-L as a fraction, as `rouge_score` gives it.
public struct SNIPrediction: Codable, Sendable {
    public var task: String
    public var category: String
    public var id: String
    public var prediction: String
    /// The references it was scored against (all of the instance's, or nanoT5's one).
    public var references: [String]
    public var rougeL: Double
    public var exactMatch: Double
}

/// Mean ROUGE-L and exact match (×100) over a group of predictions.
public struct SNIScore: Codable, Sendable {
    public var name: String
    public var instances: Int
    public var rougeL: Double
    public var exactMatch: Double

    init(_ name: String, _ predictions: [SNIPrediction]) {
        self.name = name
        instances = predictions.count
        let n = Double(max(predictions.count, 1))
        rougeL = 100 * predictions.reduce(0) { $0 + $1.rougeL } / n
        exactMatch = 100 * predictions.reduce(0) { $0 + $1.exactMatch } / n
    }
}

/// `ntng evaluate --suite sni`: what was fine-tuned and scored, and the scores overall, per category
/// and per task (Tk-Instruct's `compute_grouped_metrics`: a group's mean over its instances).
public struct SNIReport: Codable, Sendable {
    public var source: String
    public var randomInitialisation: Bool
    public var seed: UInt64
    public var data: String
    public var recipe: SNIRecipe
    /// What the overall score covers, e.g. "SNI ROUGE-L, 20 test tasks, 400 instances".
    public var covers: String
    public var trainTasks: Int
    public var testTasks: Int
    /// Training and test tasks the split lists (up to the task limits) whose files are absent (skipped).
    public var missingTrainTasks: [String]
    public var missingTestTasks: [String]
    public var training: SNIFineTuning.Training
    public var decoding: SNIFineTuning.Decoding
    public var overall: SNIScore
    public var categories: [SNIScore]
    public var tasks: [SNIScore]

    public func markdown() -> String {
        func row(_ s: SNIScore, bold: Bool = false) -> String {
            let r = String(format: "%.2f", s.rougeL), e = String(format: "%.2f", s.exactMatch)
            return bold
                ? "| **\(s.name)** | \(s.instances) | **\(r)** | \(e) |\n"
                : "| \(s.name) | \(s.instances) | \(r) | \(e) |\n"
        }
        var s = "\(covers); fine-tuned on \(trainTasks) training tasks, \(training.examples) instances, "
        s += "\(training.epochs) epoch(s)\(randomInitialisation ? " from a random initialisation" : "")\n\n"
        s += "| category | instances | ROUGE-L | exact match |\n|---|---|---|---|\n"
        for c in categories { s += row(c) }
        s += row(overall, bold: true)
        if !missingTrainTasks.isEmpty || !missingTestTasks.isEmpty {
            s += "\n\(missingTrainTasks.count) training and \(missingTestTasks.count) test tasks listed in split "
            s += "'\(recipe.split)' before the task limits are absent and were skipped.\n"
        }
        return s
    }

    /// Scores predictions: ROUGE-L and exact match, each the best over the references.
    public static func score(
        _ examples: [SNIExample], predictions: [String], references: [[String]]
    ) -> [SNIPrediction] {
        var out = [SNIPrediction?](repeating: nil, count: examples.count)
        out.withUnsafeMutableBufferPointer { buffer in
            let b = buffer
            Parallel.ranges(examples.count) { r in
                for i in r {
                    let e = examples[i], p = predictions[i], refs = references[i]
                    b[i] = SNIPrediction(
                        task: e.task, category: e.category, id: e.id, prediction: p, references: refs,
                        rougeL: Metrics.best(Metrics.rougeL, p, references: refs),
                        exactMatch: Metrics.best(Metrics.exactMatch, p, references: refs))
                }
            }
        }
        return out.map { $0! }
    }

    /// Groups in order of first appearance.
    static func groups(_ predictions: [SNIPrediction], by key: (SNIPrediction) -> String) -> [SNIScore] {
        var order: [String] = [], members: [String: [SNIPrediction]] = [:]
        for p in predictions {
            let k = key(p)
            if members[k] == nil { order.append(k) }
            members[k, default: []].append(p)
        }
        return order.map { SNIScore($0, members[$0]!) }
    }
}

/// The whole leg: fine-tune a pre-trained T5 run's model (or a random initialisation of its shape) on
/// SNI training tasks, decode the test tasks, score.
public enum SNIEvaluation {
    public struct Outcome {
        public var report: SNIReport
        public var predictions: [SNIPrediction]
        public var model: T5
    }

    public static func run(
        _ checkpoint: PretrainedCheckpoint<T5Config>, data: SNIData, recipe: SNIRecipe, seed: UInt64,
        randomInitialisation: Bool, progress: (String) -> Void = { _ in }
    ) throws -> Outcome {
        let fine = try SNIFineTuning(recipe: recipe, tokenizer: checkpoint.tokenizer)
        let test = try data.tasks(split: recipe.split, subset: "test", limit: recipe.testTasks)
        let train =
            recipe.epochs > 0
            ? try data.tasks(split: recipe.split, subset: "train", limit: recipe.trainTasks) : (tasks: [], missing: [])
        let missing = train.missing + test.missing
        if !missing.isEmpty {
            let named = missing.prefix(3).joined(separator: ", ") + (missing.count > 3 ? ", …" : "")
            progress(
                "sni: \(train.missing.count) training and \(test.missing.count) test tasks listed are absent and "
                    + "skipped (\(named))")
        }
        guard !test.tasks.isEmpty else {
            throw InputError(data.root, "no test task of split '\(recipe.split)' is present")
        }
        if recipe.epochs > 0 && train.tasks.isEmpty {
            throw InputError(data.root, "no training task of split '\(recipe.split)' is present")
        }
        let model = try checkpoint.model(randomInitialisation: randomInitialisation, seed: seed) as! T5
        let trainExamples = fine.examples(train.tasks, .train, seed: seed)
        let testExamples = fine.examples(test.tasks, .test, seed: seed)
        progress(
            "sni: fine-tuning on \(train.tasks.count) tasks, \(trainExamples.count) instances × \(recipe.epochs) "
                + "epoch(s); scoring \(test.tasks.count) test tasks, \(testExamples.count) instances")
        let training = fine.train(model, trainExamples, seed: seed, progress: progress)
        let (texts, decoding) = fine.predict(model, testExamples, progress: progress)
        let predictions = SNIReport.score(
            testExamples, predictions: texts, references: fine.scoredReferences(testExamples, seed: seed))
        let report = SNIReport(
            source: randomInitialisation ? "random initialisation (\(checkpoint.source) shape)" : checkpoint.source,
            randomInitialisation: randomInitialisation, seed: seed, data: data.root, recipe: recipe,
            covers: "SNI ROUGE-L, \(test.tasks.count) test tasks, \(testExamples.count) instances",
            trainTasks: train.tasks.count, testTasks: test.tasks.count, missingTrainTasks: train.missing,
            missingTestTasks: test.missing, training: training,
            decoding: decoding, overall: SNIScore("overall", predictions),
            categories: SNIReport.groups(predictions, by: \.category), tasks: SNIReport.groups(predictions, by: \.task))
        return Outcome(report: report, predictions: predictions, model: model)
    }

    /// Writes `predictions.jsonl`, `report.md` and, last (so that its presence means a finished
    /// evaluation), `report.json` into `directory`.
    public static func write(_ outcome: Outcome, to directory: String) throws {
        let encoder = JSONCoding.encoder(pretty: false)
        var lines = Data()
        for p in outcome.predictions {
            lines.append(try encoder.encode(p))
            lines.append(0x0A)
        }
        try lines.write(to: URL(fileURLWithPath: directory + "/predictions.jsonl"), options: .atomic)
        try outcome.report.markdown().write(toFile: directory + "/report.md", atomically: true, encoding: .utf8)
        try JSONCoding.write(outcome.report, to: directory + "/report.json")
    }
}
