import Engine
import Foundation
import NoTrainNoGain
import Testing

/// A tiny, fast pre-training setup in a temporary folder: a synthetic corpus, a cost model and
/// a config (by default a crammed BERT of 2 layers, hidden 32, vocabulary 120, sequences of 16).
struct TinyRun {
    let directory: String
    let configPath: String

    /// `documents` random sentences of 6–15 words (or `wordsPerDocument` words) from 20 words; with
    /// `repeatWord`, document k is word k repeated.
    static let bert =
        "{layers: 2, hidden: 32, heads: 2, intermediate: 64, vocabulary_size: 120, max_sequence_length: 16}"

    init(
        budgetSeconds: Int = 12, documents: Int = 300, wordsPerDocument: Int? = nil, repeatWord: Bool = false,
        model: String = TinyRun.bert, sequenceLength: Int = 16, extra: String = ""
    ) throws {
        directory = Fixtures.temporaryDirectory()
        let words = [
            "the", "cat", "dog", "sat", "ran", "on", "under", "a", "mat", "log", "big", "small", "red", "blue",
            "quickly", "slowly", "and", "then", "home", "park",
        ]
        var g = SeededGenerator(seed: 5)
        var text = ""
        for k in 0..<documents {
            let n = wordsPerDocument ?? 6 + g.int(below: 10)
            text +=
                (0..<n).map { _ in words[repeatWord ? k % words.count : g.int(below: words.count)] }.joined(
                    separator: " ") + ".\n\n"
        }
        try text.write(toFile: directory + "/corpus.txt", atomically: true, encoding: .utf8)
        // One RST second per micro-batch of 8 sequences, whatever the number of layers.
        try #"{"source":"test","training_per_layers":[1,1],"forward_only":0.5,"micro_batch_size":8}"#
            .write(toFile: directory + "/cost.json", atomically: true, encoding: .utf8)
        configPath = directory + "/tiny.yaml"
        try """
        name: tiny
        run_directory: \(directory)/run
        model: \(model)
        data:
          corpus: corpus.txt
          sequence_length: \(sequenceLength)
          validation_fraction: 0.1
          cache_dir: \(directory)/cache
        training:
          budget: \(budgetSeconds)s
          micro_batch_size: 8
          batch_size: 16
          learning_rate: 3.0e-3
          cost_model: cost.json
          validate_every: 4s
          checkpoint_every: 6s
          log_every: 1
        \(extra)
        """.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    func config(_ overrides: [String] = []) throws -> PretrainingConfig {
        try PretrainingConfig.load(path: configPath, overrides: overrides)
    }

    /// Runs `overrides` in `directory`, stopping after `stopAfter` steps, resumes it to the end and
    /// checks it against `straight` (an uninterrupted run of the same config): the same loss curve,
    /// ledger and weights, bit for bit.
    func expectResumeMatches(
        _ straight: PretrainingRun, overrides: [String], directory: String, stopAfter: Int,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let config = try self.config(overrides + ["run_directory=\(directory)"])
        try PretrainingRun(config: config).train(stopAfterSteps: stopAfter)
        // A run killed after its checkpoint has logged beyond it, at worst all that the straight run
        // logged before its end line: the resumed run must drop what follows the checkpoint.
        let straightLog = try String(contentsOfFile: straight.directory + "/metrics.jsonl", encoding: .utf8)
        try straightLog.split(separator: "\n").filter { !$0.contains(#""event":"end""#) }.map { $0 + "\n" }.joined()
            .write(toFile: directory + "/metrics.jsonl", atomically: true, encoding: .utf8)
        let resumed = try PretrainingRun(config: config, resume: true)
        #expect(resumed.state.step == stopAfter, sourceLocation: sourceLocation)
        try resumed.train()
        #expect(try trainLosses(resumed.directory) == trainLosses(straight.directory), sourceLocation: sourceLocation)
        #expect(
            try methodEvents(resumed.directory) == methodEvents(straight.directory), sourceLocation: sourceLocation)
        #expect(resumed.state.ledger == straight.state.ledger, sourceLocation: sourceLocation)
        #expect(
            resumed.state.validations.map(\.loss) == straight.state.validations.map(\.loss),
            sourceLocation: sourceLocation)
        #expect(resumed.arena.values.scalars() == straight.arena.values.scalars(), sourceLocation: sourceLocation)
        #expect(
            try tensorBoardCurves(resumed.directory) == tensorBoardCurves(straight.directory),
            sourceLocation: sourceLocation)
    }

    func methodEvents(_ runDirectory: String) throws -> [RunEvent] {
        try MetricsLog.read(runDirectory + "/metrics.jsonl").filter { if case .method = $0 { true } else { false } }
    }

    func trainLosses(_ runDirectory: String) throws -> [Double] {
        try MetricsLog.read(runDirectory + "/metrics.jsonl").trainLines.map(\.loss)
    }
}

@Suite("Pre-training runs", .serialized)
struct TrainingTests {
    @Test func budgetDecidesTheStepsAndTheLearningRateEndsAtZero() throws {
        let tiny = try TinyRun()
        let run = try PretrainingRun(config: try tiny.config())
        let summary = try run.train()
        // 12 RST s at 1 s per micro-batch, 2 micro-batches per step: exactly 6 steps.
        #expect(summary.steps == 6)
        #expect(run.state.budget.consumed.seconds == 12)
        #expect(run.state.ledger[.training].count == 12)
        let log = try MetricsLog.read(run.directory + "/metrics.jsonl")
        let lrs = log.trainLines.map(\.lr)
        #expect(lrs.count == 6 && lrs.last == 0)
        #expect(lrs[2] == 3e-3)  // progress 0.5 → the peak
        // Validation at 0, 4, 8 and 12 RST seconds (the end), none charged.
        let validations = log.validations.map(\.rstSeconds)
        #expect(validations == [0, 4, 8, 12])
        #expect(FileManager.default.fileExists(atPath: run.directory + "/checkpoint/model.safetensors"))
    }

    @Test func resumeContinuesExactlyAsAnUninterruptedRun() throws {
        let tiny = try TinyRun(budgetSeconds: 20)
        let straight = try PretrainingRun(config: try tiny.config())
        try straight.train()
        let reference = try tiny.trainLosses(straight.directory)

        let second = try tiny.config(["run_directory=\(tiny.directory)/interrupted"])
        let stopped = try PretrainingRun(config: second).train(stopAfterSteps: 4)  // and unlocked
        #expect(stopped.stoppedEarly && stopped.steps == 4)
        let resumed = try PretrainingRun(config: second, resume: true)
        #expect(resumed.state.step == 4)
        let final = try resumed.train()
        #expect(final.steps == straight.state.step)
        #expect(resumed.state.budget.consumed == straight.state.budget.consumed)
        #expect(try tiny.trainLosses(resumed.directory) == reference)  // bit for bit
        #expect(resumed.state.validations.map(\.loss) == straight.state.validations.map(\.loss))
        // Same weights at the end.
        let a = straight.arena.values.scalars(), b = resumed.arena.values.scalars()
        #expect(a == b)
    }

    @Test func aTinyModelOverfitsATinyCorpus() throws {
        // Ten documents, each one word repeated 48 times: a masked token is its neighbours' word.
        // Word frequencies alone give ln(10) ≈ 2.3; fitting the corpus takes the loss far below.
        // A wider initialisation (0.1 instead of 0.02) shortens BERT's early plateau for the test.
        let tiny = try TinyRun(
            budgetSeconds: 600, documents: 10, wordsPerDocument: 48, repeatWord: true,
            extra: "optimizer: {weight_decay: 0.0}")
        let config = try tiny.config([
            "training.schedule=constant", "training.learning_rate=3.0e-3", "model.init_std=0.1",
            "training.validate_every=1000s", "training.checkpoint_every=1000s",
            "training.log_every=5", "data.validation_fraction=0.05",
        ])
        let run = try PretrainingRun(config: config)
        try run.train()
        let losses = try tiny.trainLosses(run.directory)
        // (Few masked tokens per step make single losses noisy; average the last 50 steps.)
        #expect(losses.first! > 2)
        #expect(losses.suffix(10).reduce(0, +) / 10 < 0.3, "last losses \(losses.suffix(10))")
    }

    @Test func sophiaChargesItsHessianPassesAndStopsAtTheBudget() throws {
        let tiny = try TinyRun(budgetSeconds: 30)
        let config = try tiny.config([
            "optimizer.name=sophia", "optimizer.hessian_interval=3", "optimizer.hessian_micro_batches=2",
            "training.learning_rate=4.0e-4",
        ])
        let run = try PretrainingRun(config: config)
        try run.train()
        // Each step: 2 training micro-batches (2 RST s); before steps 0, 3, 6, 9: 2 Hessian micro-batches
        // (2 s). Steps 0–2 cost 2 + 6 = 8 s, steps 3–5 and 6–8 another 8 each (24 s); then 2 s of
        // Hessian and steps 9 and 10 reach exactly 30 s: 11 steps.
        let ledger = run.state.ledger
        #expect(run.state.step == 11)
        #expect(ledger[.hessian].count == 8 && ledger[.hessian].charged.seconds == 8)
        #expect(ledger[.training].count == 22)
        #expect(run.state.budget.consumed.seconds == 30)
        #expect((run.optimizer as! Sophia).curvatureUpdates == 4)
        let start = try #require(try MetricsLog.read(run.directory + "/metrics.jsonl").start)
        #expect(start.optimizer.name == "sophia" && start.optimizer.settings["hessian_labels"]?.string == "vocabulary")

        let free = try PretrainingRun(
            config: try tiny.config([
                "optimizer.name=sophia", "optimizer.hessian_interval=3",
                "optimizer.hessian_micro_batches=2", "optimizer.free_hessian=true",
                "run_directory=\(tiny.directory)/free",
            ]))
        try free.train()
        #expect(free.state.step == 15)  // only training is charged: 30 s / 2 s
        #expect(free.state.ledger[.hessian].charged == .zero && free.state.ledger[.hessian].waived.seconds == 10)
    }

    @Test func everyOptimizerTrainsAndResumesExactly() throws {
        for (name, extra) in [
            ("lion", ["training.learning_rate=3.0e-4"]),
            (
                "sophia",
                [
                    "optimizer.hessian_interval=2", "optimizer.hessian_micro_batches=1",
                    "optimizer.hessian_labels=hidden-states",
                ]
            ),
        ] {
            let tiny = try TinyRun(budgetSeconds: 16)
            let base = ["optimizer.name=\(name)"] + extra
            let straight = try PretrainingRun(config: try tiny.config(base))
            try straight.train()
            #expect(
                straight.state.validations.last!.loss < straight.state.validations.first!.loss, "\(name) did not learn")
            try tiny.expectResumeMatches(
                straight, overrides: base, directory: "\(tiny.directory)/resumed", stopAfter: 3)
        }
    }

    @Test func secondRunReusesTheTokenizedCache() throws {
        let tiny = try TinyRun(budgetSeconds: 2)
        var messages: [String] = []
        _ = try PretrainingRun(config: try tiny.config())
        _ = try PretrainingRun(config: try tiny.config(), overwrite: true) { messages.append($0) }
        #expect(messages.contains { $0.hasPrefix("data:") && $0.contains("(cached:") })
        #expect(!messages.contains { $0.contains("tokenising") })
    }

    @Test func existingRunDirectoryNeedsResumeOrOverwrite() throws {
        let tiny = try TinyRun(budgetSeconds: 2)
        try PretrainingRun(config: try tiny.config()).train()
        #expect { _ = try PretrainingRun(config: try tiny.config()) } throws: {
            "\($0)".contains("already holds a run: pass --resume")
        }
        #expect {
            _ = try PretrainingRun(config: try tiny.config(["run_directory=\(tiny.directory)/none"]), resume: true)
        } throws: { "\($0)".contains("nothing to resume") }
    }
}

@Suite("Config errors")
struct ConfigTests {
    func error(_ yaml: String, overrides: [String] = []) -> String {
        do {
            _ = try PretrainingConfig.parse(yaml: yaml, source: "x.yaml", baseDirectory: "/tmp", overrides: overrides)
            return "no error"
        } catch { return "\(error)" }
    }

    let valid = "data: {corpus: c.txt}\ntraining: {budget: 5m, micro_batch_size: 4, batch_size: 8}\n"

    @Test func validConfigParsesWithDefaults() throws {
        let c = try PretrainingConfig.parse(yaml: valid, source: "x.yaml", baseDirectory: "/tmp")
        #expect(c.model == ModelConfig(CrammedBERTConfig.paper))
        #expect(c.training.budget == .minutes(5) && c.data.corpus == ["/tmp/c.txt"])
        #expect(
            c.optimizer == .paper(AdamW.Settings.self, for: RecipeContext(model: c.model))
                && c.optimizer.common.beta2 == 0.98
                && c.optimizer.settings(AdamW.Settings.self)?.epsilon == 1e-12)
    }

    @Test func problemsAreOneLineNamingTheKey() {
        #expect(error(valid + "trainig: {}").hasPrefix("x.yaml: trainig: unknown key"))
        #expect(
            error(valid, overrides: ["training.learnig_rate=1"]).hasPrefix("x.yaml: training.learnig_rate: unknown key")
        )
        #expect(
            error(valid, overrides: ["training.budget=-5m"])
                == "x.yaml: training.budget: must be a duration such as 24h, 90m or 30s (got '-5m')")
        #expect(
            error(valid, overrides: ["model.vocabulary_size=0"])
                == "x.yaml: model.vocabulary_size: must be in 8…16777216 (got 0)")
        #expect(
            error(valid, overrides: ["training.batch_size=10"]).contains(
                "must be a multiple of training.micro_batch_size"))
        #expect(error(valid, overrides: ["model.heads=5"]).contains("model.heads (5) must divide model.hidden (768)"))
        #expect(error("training: {budget: 1h}") == "x.yaml: data.corpus: required (files or folders of text)")
        #expect(
            error("data: {corpus: c.txt}") == "x.yaml: training.budget: required (an RST duration such as 6h or 5m)")
        #expect(error("{ [").hasPrefix("x.yaml: not valid YAML"))
        #expect(
            error(valid, overrides: ["training.schedule=linear"]).contains(
                "must be one of budget-one-cycle, cosine-budget, constant"))
        #expect(
            error(valid, overrides: ["optimizer.rho=0.02"])
                == "x.yaml: optimizer.rho: only applies to optimizer sophia (this config uses adamw)")
        #expect(
            error(valid, overrides: ["optimizer.name=adam"]).contains(
                "optimizer.name: must be one of adamw, adamw-scale, lion, sophia"))
        #expect(
            error(valid, overrides: ["optimizer.name=sophia", "optimizer.hessian_labels=logits"]).contains(
                "must be one of vocabulary, hidden-states"))
    }

    @Test func pathsInTheFileAreRelativeToItAndOverridesToTheCurrentDirectory() throws {
        let c = try PretrainingConfig.parse(
            yaml: valid + "batch_selection: {method: rho, il_losses: il.safetensors}", source: "x.yaml",
            baseDirectory: "/configs")
        #expect(
            c.data.corpus == ["/configs/c.txt"]
                && c.methods.settings(RhoLoss.Settings.self)?.ilLosses == "/configs/il.safetensors")
        let o = try PretrainingConfig.parse(
            yaml: valid, source: "x.yaml", baseDirectory: "/configs",
            overrides: [
                "data.corpus=runs/corpus", "batch_selection.method=rho", "batch_selection.il_losses=runs/il.st",
            ])
        #expect(o.data.corpus == ["runs/corpus"] && o.methods.settings(RhoLoss.Settings.self)?.ilLosses == "runs/il.st")
    }

    @Test func bundledConfigsParse() throws {
        let folder = Fixtures.repository.appendingPathComponent("Resources/configs").path
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".yaml") }
            .sorted()
        #expect(names == ["crammed-bert-paper.yaml", "demo-t5.yaml", "demo.yaml", "t5-base-paper.yaml"])
        for name in names {
            let c = try PretrainingConfig.load(path: folder + "/" + name)
            for path in c.data.corpus + c.data.validationCorpus {
                #expect(FileManager.default.fileExists(atPath: path), "\(name): \(path)")
            }
            _ = try c.training.costModel.load()
        }
        let paper = try PretrainingConfig.load(path: folder + "/t5-base-paper.yaml")
        #expect(
            paper.model == ModelConfig(T5Config.base) && paper.rowLength == 568
                && paper.data.validationMaxSequences == 71_856)
        #expect(paper.data.tokenizerVocabularySize == 32_100)
    }

    @Test func missingFilesAreNamed() throws {
        #expect { try PretrainingConfig.load(path: "/nonexistent/x.yaml") } throws: {
            "\($0)" == "/nonexistent/x.yaml: cannot read the config file (missing or unreadable)"
        }
        #expect { try Corpus(paths: ["/nonexistent/corpus"]) } throws: {
            "\($0)" == "/nonexistent/corpus: no such file or folder"
        }
        #expect { try CostModel.load("/nonexistent/cost.json") } throws: {
            "\($0)".hasPrefix("/nonexistent/cost.json: cannot read a cost table")
        }
    }
}
