import Engine
import Foundation
import Testing

@testable import NoTrainNoGain

/// SNI fine-tuning and scoring on a tiny T5, tiny tasks and the T5-style test tokenizer.
struct SNIFineTuningTests {
    let config = T5Config(
        layers: 1, hidden: 32, heads: 2, headDim: 16, feedForward: 48, vocabularySize: 300, relativeBuckets: 8,
        maxDistance: 16)

    @Test func sequenceToSequenceLossIsTheTokenMeanOfUnpaddedExamples() {
        let model = T5(config, seed: 4)
        let sources: [[Int32]] = [[5, 6, 7, 8, 9, 1], [10, 11, 1]]
        let targets: [[Int32]] = [[20, 1], [30, 31, 32, 1]]
        let batched = withoutGradients { model.sequenceToSequenceLoss(sources: sources, targets: targets) }
        #expect(batched.tokens == 6)
        // Each example alone, no padding anywhere: the sum of its token losses.
        var sum = 0.0
        for (s, t) in zip(sources, targets) {
            let alone = withoutGradients { model.sequenceToSequenceLoss(sources: [s], targets: [t]) }
            sum += Double(alone.loss.item()) * Double(alone.tokens)
        }
        #expect(abs(Double(batched.loss.item()) - sum / 6) < 1e-5)
    }

    @Test func recipeDefaultsAreNanoT5sAndTheConfigIsStrict() throws {
        let paper = SNIRecipe()
        #expect(paper.epochs == 2 && paper.learningRate == 5e-5 && paper.batchSize == 8)
        #expect(
            paper.optimizer == .init(beta1: 0.9, beta2: 0.999, epsilon: 1e-6, weightDecay: 0, huggingFaceEpsilon: true))
        #expect(paper.maxSourceLength == 1024 && paper.maxTargetLength == 128 && paper.generationMaxLength == 128)
        #expect(paper.trainInstancesPerTask == 100 && paper.testInstancesPerTask == 100 && paper.references == .all)
        let cpu = try SNIRecipe.load(
            path: Fixtures.repository.appendingPathComponent("Resources/evaluation/sni-cpu.yaml").path,
            overrides: ["sni.references=nanot5"])
        #expect(
            cpu.trainTasks == 60 && cpu.epochs == 2 && cpu.learningRate == 3e-4 && cpu.maxSourceLength == 512
                && cpu.references == .nanot5)
        #expect(
            errorMessage { _ = try SNIRecipe.load(path: nil, overrides: ["sni.epoch=1"]) }.contains(
                "sni.epoch: unknown key"))
        #expect(
            errorMessage { _ = try SNIRecipe.load(path: nil, overrides: ["sni.references=some"]) }.contains(
                "must be one of"))
        #expect(
            errorMessage { _ = try SNIRecipe.load(path: nil, overrides: ["snii.epochs=1"]) }.contains(
                "snii: unknown key"))
        #expect(
            errorMessage { _ = try SNIRecipe.load(path: "/nope.yaml", overrides: []) }.contains(
                "cannot read the config"))
    }

    @Test func scoresGroupByTaskAndCategoryAsTkInstruct() {
        func p(_ task: String, _ category: String, _ r: Double, _ e: Double) -> SNIPrediction {
            SNIPrediction(
                task: task, category: category, id: "", prediction: "", references: [], rougeL: r, exactMatch: e)
        }
        let predictions = [p("a", "x", 1, 1), p("a", "x", 0.5, 0), p("b", "y", 0, 0), p("c", "x", 0.25, 0)]
        let categories = SNIReport.groups(predictions, by: \.category)
        #expect(categories.map(\.name) == ["x", "y"] && categories.map(\.instances) == [3, 1])
        #expect(abs(categories[0].rougeL - 100 * 1.75 / 3) < 1e-12 && abs(categories[0].exactMatch - 100.0 / 3) < 1e-12)
        #expect(SNIScore("overall", predictions).rougeL == 100 * 1.75 / 4)
        #expect(SNIReport.groups(predictions, by: \.task).map(\.rougeL) == [75, 0, 25])
        #expect(
            SNIFineTuning.category(
                SNITask(
                    name: "t", definition: ["d"], positiveExamples: [], negativeExamples: [], instances: [],
                    categories: ["Question  Answering"], inputLanguage: [], outputLanguage: [],
                    instructionLanguage: [])) == "question_answering")
    }

    /// A run folder holding a tiny T5 (or BERT) and the T5-style test tokenizer, and an SNI checkout of
    /// two training and two test tasks.
    func fixtures(bert: Bool = false) throws -> (run: String, sni: String) {
        let root = Fixtures.temporaryDirectory()
        let run = root + "/run"
        try FileManager.default.createDirectory(atPath: run + "/checkpoint", withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            atPath: Fixtures.path("hf-unigram-t5style.json"), toPath: run + "/tokenizer.json")
        let model: any PretrainingModel =
            bert
            ? CrammedBERT(
                CrammedBERTConfig(layers: 1, hidden: 16, heads: 2, intermediate: 32, vocabularySize: 300), seed: 0)
            : T5(config, seed: 0)
        try Checkpointer.modelFile(model).write(to: URL(fileURLWithPath: run + "/checkpoint/model.safetensors"))
        let sni = root + "/sni"
        try FileManager.default.createDirectory(atPath: sni + "/tasks", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: sni + "/splits/default", withIntermediateDirectories: true)
        func task(_ name: String, _ category: String, _ pairs: [(String, [String])]) throws {
            let instances = pairs.enumerated().map { i, p in
                [
                    "id": .string("\(name)-\(i)"), "input": .string(p.0),
                    "output": .array(p.1.map { JSONValue.string($0) }),
                ]
                    as [String: JSONValue]
            }
            let file: JSONValue = .object([
                "Definition": .array([.string("Repeat the word.")]),
                "Positive Examples": .array([.object(["input": .string("cat"), "output": .string("cat")])]),
                "Negative Examples": .array([]), "Categories": .array([.string(category)]),
                "Instances": .array(instances.map { JSONValue.object($0) }),
            ])
            try JSONEncoder().encode(file).write(to: URL(fileURLWithPath: sni + "/tasks/\(name).json"))
        }
        let words = ["tree", "house", "river", "stone", "light", "water", "sun", "moon"]
        try task("task1_train", "Copying", words.map { ($0, [$0]) })
        try task("task2_train", "Copying", words.reversed().map { ($0, [$0, $0 + "s"]) })
        try task("task3_test", "Copying", words.prefix(3).map { ($0, [$0]) })
        try task("task4_test", "Title Generation", [("the sun", ["sun", "the sun"])])
        try "task1_train\ntask2_train\nabsent_train\n".write(
            toFile: sni + "/splits/default/train_tasks.txt", atomically: true, encoding: .utf8)
        try "task3_test\ntask4_test\n".write(
            toFile: sni + "/splits/default/test_tasks.txt", atomically: true, encoding: .utf8)
        return (run, sni)
    }

    @Test func evaluationFineTunesDecodesScoresAndWritesItsFiles() throws {
        let (run, sni) = try fixtures()
        let checkpoint = try PretrainedCheckpoint<T5Config>.load(run: run, purpose: "SNI")
        var recipe = SNIRecipe()
        recipe.trainInstancesPerTask = 6
        recipe.epochs = 3
        recipe.batchSize = 4
        recipe.learningRate = 3e-3
        recipe.generationMaxLength = 6
        let outcome = try SNIEvaluation.run(
            checkpoint, data: SNIData(root: sni), recipe: recipe, seed: 1, randomInitialisation: false)
        let report = outcome.report
        #expect(
            report.trainTasks == 2 && report.testTasks == 2 && report.missingTrainTasks == ["absent_train"]
                && report.missingTestTasks.isEmpty)
        #expect(report.training.examples == 12 && report.training.steps == 9 && report.training.epochLosses.count == 3)
        // Training lowers the loss.
        #expect(report.training.epochLosses[2] < report.training.epochLosses[0])
        #expect(report.covers == "SNI ROUGE-L, 2 test tasks, 4 instances")
        #expect(report.categories.map(\.name) == ["copying", "title_generation"])
        #expect(outcome.predictions.count == 4 && report.decoding.generatedTokens <= 4 * 5)
        // Every stored score is the metric of the stored prediction against the stored references.
        for p in outcome.predictions {
            #expect(p.rougeL == Metrics.best(Metrics.rougeL, p.prediction, references: p.references))
            #expect(p.exactMatch == Metrics.best(Metrics.exactMatch, p.prediction, references: p.references))
        }
        #expect(outcome.predictions.last?.references == ["sun", "the sun"])
        let cell = Fixtures.temporaryDirectory(), out = cell + "/evaluation-sni"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try SNIEvaluation.write(outcome, to: out)
        let lines = try String(contentsOfFile: out + "/predictions.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 4 && lines[0].contains("\"rouge_l\"") && lines[0].contains("\"exact_match\""))
        let back = try JSONCoding.read(SNIReport.self, from: out + "/report.json", what: "a report")
        #expect(back.overall.rougeL == report.overall.rougeL && back.recipe == recipe)
        #expect(try String(contentsOfFile: out + "/report.md", encoding: .utf8).contains("| **overall** | 4 |"))
        // `ntng compare` reads the score from the cell's directory, named by what it covers.
        let stored = try ExperimentReport.downstream(cell)
        #expect(stored == [.init(key: "sni", name: "SNI ROUGE-L", covers: report.covers, value: report.overall.rougeL)])
        // nanoT5's scoring: one reference each, passed through the tokenizer.
        recipe.references = .nanot5
        let fine = try SNIFineTuning(recipe: recipe, tokenizer: checkpoint.tokenizer)
        let examples = fine.examples([try SNITask.load(sni + "/tasks/task4_test.json")], .test, seed: 0)
        let one = fine.scoredReferences(examples, seed: 1)
        #expect(one.count == 1 && one[0].count == 1 && ["sun", "the sun"].contains(one[0][0]))
    }

    @Test func compareReportsSNIBesideTheLossWithItsDifferenceToTheBaseline() {
        func cell(_ method: String, _ seed: UInt64, _ rouge: Double) -> ExperimentReport.CellResult {
            ExperimentReport.CellResult(
                method: method, budgetSeconds: 60, seed: seed, finalValidationLoss: 3, validations: [], steps: 1,
                tokens: 1, charged: [:], wallSeconds: 1,
                downstream: [
                    .init(key: "sni", name: "SNI ROUGE-L", covers: "SNI ROUGE-L, 20 test tasks", value: rouge)
                ],
                reproduce: .intended)
        }
        let baseline = [cell("baseline", 0, 10), cell("baseline", 1, 12)]
        let stacking = [cell("stacking", 0, 20), cell("stacking", 1, 22)]
        let summary = ExperimentReport.summaries(stacking, baseline: baseline)
        #expect(summary.count == 1 && summary[0].mean == 21 && summary[0].difference?.estimate == 10)
        #expect(ExperimentReport.summaries(baseline, baseline: nil)[0].difference == nil)
        let row = { (method: String, cells: [ExperimentReport.CellResult], base: [ExperimentReport.CellResult]?) in
            ExperimentReport.Row(
                method: method, seeds: 2, validationLossMean: 3, validationLossStd: 0, validationLossDifference: nil,
                downstream: ExperimentReport.summaries(cells, baseline: base), stepsMean: 1, tokensMean: 1,
                chargedMean: [:], wallSecondsMean: 1)
        }
        let report = ExperimentReport(
            experiment: "t5", cells: baseline + stacking,
            tables: [.init(budget: "1m", rows: [row("baseline", baseline, nil), row("stacking", stacking, baseline)])],
            missingCells: [])
        let markdown = report.markdown()
        #expect(markdown.contains("SNI ROUGE-L: SNI ROUGE-L, 20 test tasks."))
        #expect(markdown.contains("| SNI ROUGE-L | Δ SNI ROUGE-L |"))
        #expect(markdown.contains("| baseline | 2 | 3.0000 ± 0.0000 | — | 11.00 ± 1.41 | — |"))
        #expect(markdown.contains("| stacking | 2 | 3.0000 ± 0.0000 | — | 21.00 ± 1.41 | +10.00 ["))
    }

    @Test func aBERTRunOrAnEmptySplitIsAOneLineError() throws {
        let (run, sni) = try fixtures(bert: true)
        let message = errorMessage { _ = try PretrainedCheckpoint<T5Config>.load(run: run, purpose: "SNI evaluation") }
        #expect(message.contains("holds a crammed-bert model; SNI evaluation needs a t5 run"), "\(message)")
        let (t5, _) = try fixtures()
        try "\n".write(toFile: sni + "/splits/default/test_tasks.txt", atomically: true, encoding: .utf8)
        let empty = errorMessage {
            _ = try SNIEvaluation.run(
                try PretrainedCheckpoint<T5Config>.load(run: t5, purpose: "SNI"), data: SNIData(root: sni),
                recipe: SNIRecipe(), seed: 0, randomInitialisation: true)
        }
        #expect(empty.contains("test_tasks.txt") && empty.contains("names no task"), "\(empty)")
    }
}
