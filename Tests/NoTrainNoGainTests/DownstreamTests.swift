import Engine
import Foundation
import NoTrainNoGain
import Testing

@Suite("GLUE and SuperGLUE")
struct DownstreamTests {
    @Test func glueReadersReadTheSharedFiles() throws {
        guard let shared = Fixtures.sharedData else { print("skipped: ../shared/data is not present"); return }
        let dir = shared + "/glue"
        let expected: [String: (train: Int?, dev: Int)] = [
            "CoLA": (8551, 1043), "SST-2": (67349, 872), "MRPC": (3668, 408),
            "STS-B": (5749, 1500), "RTE": (2490, 277), "WNLI": (635, 71), "QNLI": (nil, 5463),
        ]
        for task in GLUE.tasks {
            guard let counts = expected[task.name] else {
                #expect(!task.missingFiles(dir).isEmpty, "\(task.name) should be absent here")
                continue
            }
            if let n = counts.train { #expect(try task.readTrain(dir).count == n, "\(task.name) train") }
            #expect(try task.readDev(dir)[0].1.count == counts.dev, "\(task.name) dev")
        }
        let cola = try GLUE.cola.readDev(dir)[0].1
        #expect(cola[0] == TaskExample("The sailors rode the breeze clear of the rocks.", label: 1))
        let mrpc = try GLUE.mrpc.readTrain(dir)[0]
        #expect(mrpc.label == 1 && mrpc.textA.hasPrefix("Amrozi accused") && mrpc.textB != nil)
        #expect(try GLUE.stsb.readTrain(dir)[0].label == 5)
        #expect(try GLUE.rte.readTrain(dir)[0].label == 1)  // not_entailment
        #expect(Set(try GLUE.sst2.readTrain(dir).map(\.label)) == [0, 1])
    }

    @Test func superGLUEReadersReadTheSharedFiles() throws {
        guard let shared = Fixtures.sharedData else { print("skipped: ../shared/data is not present"); return }
        let dir = shared + "/superglue"
        let byName = Dictionary(uniqueKeysWithValues: SuperGLUE.tasks().map { ($0.name, $0) })
        for (name, count) in ["BoolQ": 3270, "CB": 56, "COPA": 100, "RTE": 277, "WiC": 638, "WSC": 104] {
            #expect(try byName[name]!.readDev(dir)[0].1.count == count, "\(name)")
        }
        for name in ["CB", "COPA", "RTE"] { #expect(byName[name]!.missingFiles(dir).isEmpty) }
        for name in ["BoolQ", "MultiRC", "WiC", "WSC"] {
            #expect(byName[name]!.missingFiles(dir) == [dir + "/\(name)/train.jsonl"])
        }
        let copa = try byName["COPA"]!.readDev(dir)[0].1[0]
        #expect(copa.textA == "The man turned on the faucet. What happened as a result?")
        #expect(copa.textB == "1: The toilet filled with water. 2: Water flowed from the spout." && copa.label == 1)
        let quirk = try SuperGLUE.tasks(keepFirstTwoFieldsOnly: true).first { $0.name == "COPA" }!.readDev(dir)[0].1[0]
        #expect(quirk.textA == "The man turned on the faucet." && quirk.textB == "The toilet filled with water.")
        let multirc = try byName["MultiRC"]!.readDev(dir)[0].1
        #expect(multirc.count > 4000 && Set(multirc.compactMap(\.group)).count > 900)
        let wsc = try byName["WSC"]!.readDev(dir)[0].1[0]
        #expect(wsc.textB == "him refers to anyone" && wsc.label == 0)
        let wic = try byName["WiC"]!.readDev(dir)[0].1[0]
        #expect(wic.textA == "class: An emerging professional class.")
        // The original's WiC fields are (word, sentence1, sentence2): its first two are the word and sentence 1.
        let quirkWiC = try SuperGLUE.tasks(keepFirstTwoFieldsOnly: true).first { $0.name == "WiC" }!.readDev(dir)[0]
            .1[0]
        #expect(quirkWiC.textA == "class" && quirkWiC.textB == "An emerging professional class.")
    }

    @Test func missingAndMalformedFilesAreNamed() throws {
        let dir = Fixtures.temporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir + "/glue/RTE", withIntermediateDirectories: true)
        try "index\tsentence1\tsentence2\tlabel\n0\ta\tb\tmaybe\n".write(
            toFile: dir + "/glue/RTE/train.tsv", atomically: true, encoding: .utf8)
        #expect(GLUE.rte.missingFiles(dir + "/glue") == [dir + "/glue/RTE/dev.tsv"])
        #expect { try GLUE.rte.readTrain(dir + "/glue") } throws: {
            "\($0)" == dir + "/glue/RTE/train.tsv: line 2: unknown label 'maybe'"
        }
        try "index\tsentence\n".write(toFile: dir + "/glue/RTE/dev.tsv", atomically: true, encoding: .utf8)
        #expect { try GLUE.rte.readDev(dir + "/glue") } throws: {
            "\($0)".contains("no column 'sentence1' in the header")
        }
    }

    @Test func warmUpIsTenPercentThenCosineToZero() {
        let s = FineTuningRecipe.paper(.glue).schedule(totalSteps: 100)
        #expect(s.factor(progress: 0) == 0)
        #expect(abs(s.factor(progress: 0.05) - 0.5) < 1e-12)
        #expect(s.factor(progress: 0.1) == 1)
        #expect(abs(s.factor(progress: 0.55) - 0.5) < 1e-12)
        #expect(s.factor(progress: 1) < 1e-12)
        #expect(FineTuningRecipe.paper(.glue).epochs == 5 && FineTuningRecipe.paper(.superglue).epochs == 10)
        #expect(
            FineTuningRecipe.paper(.glue).learningRate == 4e-5
                && FineTuningRecipe.paper(.superglue).learningRate == 5e-5)
    }

    func tinyEncoder() -> CrammedBERT {
        CrammedBERT(
            CrammedBERTConfig(
                layers: 1, hidden: 16, heads: 2, intermediate: 32, vocabularySize: 60, maxSequenceLength: 32), seed: 1)
    }

    /// The original fine-tuning code: `drop_last=True` and the first task's warm-up steps for every
    /// task (CoLA's 8551 examples: 534 steps × 5 epochs → 267; BoolQ's 9427: 589 × 10 → 589).
    @Test func theOriginalCodesWarmUpAndLastBatch() {
        let glue = FineTuningRecipe.paper(.glue, reproduce: .originalCode)
        #expect(glue.dropLastBatch && glue.warmupFromFirstTask && glue.firstTwoFieldsOnly)
        #expect(
            glue.stepsPerEpoch(examples: 8551) == 534
                && FineTuningRecipe.paper(.glue).stepsPerEpoch(examples: 8551) == 535)
        #expect(glue.warmupSteps(examples: 8551) == 267)
        #expect(FineTuningRecipe.paper(.superglue, reproduce: .originalCode).warmupSteps(examples: 9427) == 589)
        // SST-2 after CoLA: 67349 examples → 4209 × 5 = 21045 steps, warm-up still 267.
        var sst2 = glue
        sst2.warmupSteps = 267
        let s = sst2.schedule(totalSteps: 21045)
        #expect(s.factor(progress: 267.0 / 21045) == 1 && abs(s.factor(progress: 133.5 / 21045) - 0.5) < 1e-12)
        #expect(
            sst2.quirks == [
                "each epoch's last incomplete batch dropped", "warm-up fixed at 267 steps (the first task's)",
                "SuperGLUE inputs from the first two fields",
            ])
        #expect(FineTuningRecipe.paper(.glue).quirks.isEmpty)
    }

    @Test func headShapesAndLossChoice() throws {
        let classifier = SequenceClassifier(encoder: tinyEncoder(), classes: 3, seed: 2)
        let ids = Tensor(int32: [7, 8, 9, 0, 10, 11, 12, 13], shape: [2, 4]),
            lengths = Tensor(int32: [3, 4], shape: [2])
        #expect(classifier(ids, lengths: lengths, dropoutSeed: nil).shape == [2, 3])
        #expect(classifier.dense.weight.shape == [1024, 16] && classifier.output.bias?.shape == [3])
        // Padding does not change a sequence's output: [7 8 9] alone equals [7 8 9 pad].
        let alone = classifier(
            Tensor(int32: [7, 8, 9], shape: [1, 3]), lengths: Tensor(int32: [3], shape: [1]), dropoutSeed: nil
        ).scalars()
        let padded = classifier(ids, lengths: lengths, dropoutSeed: nil).scalars()
        #expect(zip(alone, padded.prefix(3)).allSatisfy { abs($0 - $1) < 1e-5 })
        // Regression (STS-B) trains with the mean squared error: loss of a batch equals mean((ŷ − y)²).
        let tokenizer = try Tokenizer.trainCramming(
            documents: ["good bad fine terrible great awful"], vocabularySize: 60)
        let regression = SequenceClassifier(encoder: tinyEncoder(), classes: 1, seed: 2)
        let fine = FineTuning(task: GLUE.stsb, recipe: FineTuningRecipe.paper(.glue), tokenizer: tokenizer)
        let examples = [TaskExample("good", "fine", label: 4), TaskExample("bad", "great", label: 1.5)]
        let predictions = fine.predict(regression, fine.encode(examples))
        let mse = zip(predictions, [4.0, 1.5]).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) / 2
        #expect(GLUE.stsb.isRegression && !GLUE.cola.isRegression && GLUE.mnli.labels == 3)
        #expect(abs(fine.scoreForTesting(regression, examples) - mse) < 1e-4)
    }

    @Test func truncationTrimsTheLongerTextFirst() throws {
        let tokenizer = try Tokenizer.trainCramming(documents: ["a b c d e f g h"], vocabularySize: 30)
        let ids = tokenizer.encodeForClassification("a b c d e f", "g h", maxLength: 7)
        // <cls> A <sep> B <sep>: 3 special tokens, 4 left for the texts: A is trimmed to 2.
        #expect(ids.count == 7 && ids == tokenizer.encode("a b", pair: "g h"))
    }

    @Test func fineTuningScoresEveryEpochAndKeepsTheBest() throws {
        // A learnable toy task: label 1 when the sentence contains "good".
        let words = ["good", "bad", "cat", "dog", "red", "blue", "big", "small"]
        var g = SeededGenerator(seed: 4)
        func example() -> TaskExample {
            let s = (0..<5).map { _ in words[g.int(below: words.count)] }
            return TaskExample(s.joined(separator: " "), label: s.contains("good") ? 1 : 0)
        }
        let train = (0..<480).map { _ in example() }, dev = (0..<60).map { _ in example() }
        let tokenizer = try Tokenizer.trainCramming(documents: words, vocabularySize: 60)
        var recipe = FineTuningRecipe.paper(.glue)
        recipe.epochs = 8
        recipe.learningRate = 3e-3
        let fine = FineTuning(task: GLUE.sst2, recipe: recipe, tokenizer: tokenizer)
        let result = fine.run(
            SequenceClassifier(encoder: tinyEncoder(), classes: 2, seed: 3), train: train, dev: [("dev", dev)], seed: 0)
        #expect(result.epochs.count == 8 && result.steps == 240)
        let accuracies = result.epochs.map { $0.metrics["dev"]!["accuracy"]! }
        #expect(result.best["dev"]!["accuracy"] == accuracies.max())
        #expect(accuracies[result.bestEpoch - 1] == accuracies.max())
        #expect(accuracies.max()! > 0.85, "accuracies \(accuracies) losses \(result.epochs.map(\.trainLoss))")
        // 490 examples in batches of 16: 31 steps an epoch, 30 when the last incomplete batch is dropped.
        recipe.epochs = 1
        for dropLast in [false, true] {
            recipe.dropLastBatch = dropLast
            let one = FineTuning(task: GLUE.sst2, recipe: recipe, tokenizer: tokenizer).run(
                SequenceClassifier(encoder: tinyEncoder(), classes: 2, seed: 3), train: train + train.prefix(10),
                dev: [("dev", dev)], seed: 0)
            #expect(one.steps == (dropLast ? 30 : 31))
        }
    }

    @Test func averagesCoverWhatWasEvaluated() {
        func report(
            _ task: String, _ suite: DownstreamTask.Suite, _ value: Double, mm: Double? = nil
        ) -> EvaluationReport.TaskReport {
            .init(task: task, suite: suite, metric: "m", mean: value, std: 0, mismatchedMean: mm, runs: [])
        }
        let a = DownstreamEvaluation.averagesForTesting([
            report("CoLA", .glue, 0.2), report("MNLI", .glue, 0.7, mm: 0.6),
            report("WNLI", .glue, 0.9), report("CB", .superglue, 0.5),
            report("MultiRC", .superglue, 0.3),
        ])
        #expect(a["glue"]!.covers == ["CoLA", "MNLI-m", "MNLI-mm"] && abs(a["glue"]!.value - 0.5) < 1e-12)
        #expect(abs(a["superglue (code, with MultiRC)"]!.value - 0.4) < 1e-12)
        #expect(a["superglue (paper, without MultiRC)"]!.value == 0.5)
    }
}
