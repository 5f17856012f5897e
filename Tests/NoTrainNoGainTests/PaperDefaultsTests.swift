import Engine
import Foundation
@testable import NoTrainNoGain
import Testing

/// The paper's run where a config does not say otherwise: the learning rate that follows the
/// optimiser, the model and the method; Sophia's Hessian micro-batches that follow the
/// accumulation; T5 rows whose documents end with `</s>`; the data order that follows the seed; and
/// a config that sets two keys at odds is refused.
@Suite("Paper defaults")
struct PaperDefaultsTests {
    func parse(_ yaml: String, _ overrides: [String] = []) throws -> PretrainingConfig {
        try PretrainingConfig.parse(yaml: yaml, source: "x.yaml", baseDirectory: "/configs", overrides: overrides)
    }

    func error(_ yaml: String, _ overrides: [String] = []) -> String {
        do { _ = try parse(yaml, overrides); return "no error" } catch { return "\(error)" }
    }

    func yaml(kind: String, optimizer: String, method: String) -> String {
        "model: {kind: \(kind)}\ndata: {corpus: c.txt}\ntraining: {budget: 1h}\noptimizer: {name: \(optimizer)}\n"
            + method
    }

    /// The methods a run can turn on, as config sections ("" = the baseline).
    static let methods = [
        "", "stacking: {}", "layer_drop: {}", "batch_selection: {method: sb}",
        "batch_selection: {method: rho, il_losses: il.safetensors}",
    ]

    /// The paper's peak learning rate of every (model, optimiser) pair: BERT from cramming and the
    /// paper's App. C.5/C.6, T5 from the original `t5/README.md`. Optimisers the paper did not run on a
    /// model take the model's recipe value (BERT 1e-3, T5 2e-2).
    static let expected: [String: [String: Double]] = [
        "crammed-bert": ["adamw": 1e-3, "adamw-scale": 1e-3, "lion": 7e-4, "sophia": 4e-4],
        "t5": ["adamw": 2e-2, "adamw-scale": 2e-2, "lion": 7.5e-4, "sophia": 1e-3],
    ]

    @Test func theLearningRateFollowsTheModelTheOptimiserAndTheMethod() throws {
        for kind in Plugins.modelKinds {
            for optimizer in Plugins.optimizers {
                for method in PaperDefaultsTests.methods {
                    let c = try parse(yaml(kind: kind.name, optimizer: optimizer.name, method: method))
                    var lr = try #require(PaperDefaultsTests.expected[kind.name]?[optimizer.name])
                    // T5 layer dropping lowers AdamWScale's base lr to 1e-2 (t5/README.md).
                    if kind.name == "t5" && optimizer.name == "adamw-scale" && method.hasPrefix("layer_drop") {
                        lr = 1e-2
                    }
                    #expect(c.training.learningRate == lr, "\(kind.name) \(optimizer.name) [\(method)]")
                    #expect(c.learningRateOrigin != "set in the config")
                }
            }
        }
        let lion = try parse(yaml(kind: "t5", optimizer: "lion", method: ""))
        #expect(lion.learningRateOrigin == "lion's value for t5")
        let drop = try parse(yaml(kind: "t5", optimizer: "adamw-scale", method: "layer_drop: {}"))
        #expect(drop.learningRateOrigin == "layer-dropping's value for t5 with adamw-scale")
        #expect(
            try parse(yaml(kind: "crammed-bert", optimizer: "adamw", method: "")).learningRateOrigin
                == "crammed-bert's recipe")
    }

    @Test func aLearningRateInTheConfigWinsForAnyOrForItsOptimiser() throws {
        let base = yaml(kind: "crammed-bert", optimizer: "lion", method: "layer_drop: {}")
        let flat = try parse(base, ["training.learning_rate=3e-3"])
        #expect(flat.training.learningRate == 3e-3 && flat.learningRateOrigin == "set in the config")
        // A mapping sets the optimisers it names; the others keep their own value.
        let mapping = "training: {budget: 1h, learning_rate: {adamw: 2.0e-3, sophia: 1.0e-4}}\n"
        let demo = "data: {corpus: c.txt}\n" + mapping
        #expect(try parse(demo).training.learningRate == 2e-3)
        #expect(try parse(demo, ["optimizer.name=sophia"]).training.learningRate == 1e-4)
        #expect(try parse(demo, ["optimizer.name=lion"]).training.learningRate == 7e-4)
        #expect(
            error("data: {corpus: c.txt}\ntraining: {budget: 1h, learning_rate: {lino: 1}}")
                .hasPrefix("x.yaml: training.learning_rate.lino: unknown key (known here: adamw, adamw-scale, lion"))
        #expect(
            error(demo, ["training.learning_rate.adamw=-1"])
                == "x.yaml: training.learning_rate.adamw: must be in 0.0…10.0 (got -1.0)")
        #expect(
            error(demo, ["training.learning_rate=fast"])
                == "x.yaml: training.learning_rate: must be a number (got fast)")
        // The bundled demo sets AdamW's only: switching the optimiser brings the paper's value.
        let folder = Fixtures.repository.appendingPathComponent("Resources/configs").path
        let bundled = try PretrainingConfig.load(path: folder + "/demo.yaml")
        #expect(bundled.training.learningRate == 2e-3)
        let bundledLion = try PretrainingConfig.load(path: folder + "/demo.yaml", overrides: ["optimizer.name=lion"])
        #expect(bundledLion.training.learningRate == 7e-4)
        let paper = try PretrainingConfig.load(path: folder + "/t5-base-paper.yaml", overrides: ["optimizer.name=lion"])
        #expect(paper.training.learningRate == 7.5e-4)
    }

    @Test func sophiaSpendsHalfABatchOfMicroBatchesPerHessianUpdate() throws {
        func sophia(_ kind: String, _ micro: Int, _ batch: Int, _ extra: [String] = []) throws -> Sophia.Settings {
            let c = try parse(
                yaml(kind: kind, optimizer: "sophia", method: ""),
                ["training.micro_batch_size=\(micro)", "training.batch_size=\(batch)"] + extra)
            return try #require(c.optimizer.settings(Sophia.Settings.self))
        }
        // The paper's BERT: 6 of a batch's 12 micro-batches; the demo's 1 micro-batch per step: 1.
        #expect(try sophia("crammed-bert", 128, 1536).hessianMicroBatches == 6)
        #expect(try sophia("crammed-bert", 32, 32).hessianMicroBatches == 1)
        #expect(try sophia("crammed-bert", 8, 24).hessianMicroBatches == 2)
        // nanoT5: the whole batch (2 of 2).
        #expect(try sophia("t5", 72, 144).hessianMicroBatches == 2)
        #expect(try sophia("crammed-bert", 32, 32, ["optimizer.hessian_micro_batches=4"]).hessianMicroBatches == 4)
    }

    @Test func layerDroppingRefusesAnOptimiserPolicyItWouldReplace() throws {
        let bert = yaml(kind: "crammed-bert", optimizer: "adamw", method: "layer_drop: {}")
        #expect(
            error(bert, ["optimizer.missing_gradient=skip"])
                == "x.yaml: optimizer.missing_gradient (skip) conflicts with layer_drop.dropped_blocks "
                + "(zero-gradient): with layer dropping the optimiser treats dropped blocks as "
                + "layer_drop.dropped_blocks says; set that key, not optimizer.missing_gradient")
        #expect(error(bert, ["optimizer.missing_gradient=skip", "layer_drop.dropped_blocks=skip"]) == "no error")
        #expect(error(bert, ["optimizer.missing_gradient=zero-gradient"]) == "no error")
        #expect(error(bert, ["layer_drop.dropped_blocks=skip"]) == "no error")
        let plain = yaml(kind: "crammed-bert", optimizer: "adamw", method: "")
        #expect(error(plain, ["optimizer.missing_gradient=zero-gradient"]) == "no error")
    }

    @Test func t5DocumentsEndWithEndOfSequenceBeforeTheyArePacked() throws {
        let run = try TinyRun(budgetSeconds: 4, model: T5PretrainingTests.model, sequenceLength: 24)
        let config = try run.config()
        let data = try PretrainingData.prepare(config) { _ in }
        let eos = try #require(data.tokenizer.eosID)
        // The first group's documents, each with the tokenizer's template ($A </s>), concatenated.
        let documents = try data.corpus.documents()
        var stream: [Int32] = []
        for doc in documents.prefix(config.data.documentsPerGroup) {
            let ids = data.tokenizer.encode(doc)
            #expect(ids.last == eos && ids.dropLast().allSatisfy { $0 != eos })
            stream += ids
        }
        let rows = data.dataset.count
        #expect(rows > 10)
        #expect(
            Array(data.dataset.tokens.prefix(rows * config.rowLength)) == Array(stream.prefix(rows * config.rowLength)))
        #expect(data.dataset.tokens.contains(eos))
    }

    @Test func eachSeedReadsTheTrainingRowsInItsOwnOrderOverTheSameSplit() throws {
        let minimal = "data: {corpus: c.txt}\ntraining: {budget: 1h}\n"
        let a = try parse(minimal, ["training.seed=1"]).split(rows: 2000)
        let b = try parse(minimal, ["training.seed=2"]).split(rows: 2000)
        #expect(a.validation == b.validation && a.training == b.training)
        #expect(a.trainingRows(0..<100) != b.trainingRows(0..<100))
        #expect(Set(a.trainingRows(0..<a.training.count)) == Set(a.training))
        // A fixed order seed: the same order whatever the run's seed.
        let c = try parse(minimal, ["training.seed=1", "data.order_seed=7"]).split(rows: 2000)
        let d = try parse(minimal, ["training.seed=2", "data.order_seed=7"]).split(rows: 2000)
        #expect(c.trainingRows(0..<3000) == d.trainingRows(0..<3000))
        #expect(c.trainingRows(0..<100) != a.trainingRows(0..<100))
        #expect(error(minimal, ["data.order_seed=-1"]) == "x.yaml: data.order_seed: must be in 0…\(Int.max) (got -1)")
    }

    @Test func aDownstreamScoreSaysWhatItCovers() {
        func task(_ name: String, _ examples: Int, seeds: Int = 1) -> EvaluationReport.TaskReport {
            let run = FineTuning.Result(
                seed: 0, epochs: [], bestEpoch: 1, best: [:], wallSeconds: 1, trainExamples: examples, steps: 1)
            return .init(
                task: name, suite: .glue, metric: name == "CoLA" ? "mcc" : "accuracy", mean: 0.5, std: 0,
                mismatchedMean: nil, runs: Array(repeating: run, count: seeds))
        }
        var recipe = FineTuningRecipe.paper(.glue)
        recipe.epochs = 1
        let report = EvaluationReport(
            source: "run", randomInitialisation: false, recipe: ["glue": recipe],
            tasks: [task("SST-2", 2000), task("CoLA", 8551, seeds: 2)], skipped: [:], averages: [:])
        // A 2,000-example SST-2 check is "SST-2", not "GLUE average".
        let sst2 = EvaluationReport.Average(value: 0.5, covers: ["SST-2"])
        #expect(ExperimentReport.scoreName("glue", covers: sst2.covers) == "SST-2")
        #expect(
            ExperimentReport.coverage(report, sst2) == "2000 training examples, 1 epoch, 1 seed, accuracy")
        let two = EvaluationReport.Average(value: 0.5, covers: ["SST-2", "CoLA"])
        #expect(ExperimentReport.scoreName("glue", covers: two.covers) == "GLUE subset average")
        #expect(
            ExperimentReport.coverage(report, two).hasSuffix("; CoLA: 8551 training examples, 1 epoch, 2 seeds, mcc"))
        let all = GLUE.scored.flatMap { $0 == "MNLI" ? ["MNLI-m", "MNLI-mm"] : [$0] }
        #expect(ExperimentReport.scoreName("glue", covers: all) == "GLUE average")
    }
}
