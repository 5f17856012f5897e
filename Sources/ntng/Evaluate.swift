import ArgumentParser
import Engine
import Foundation
import NoTrainNoGain

/// `ntng evaluate` and `ntng finetune`: GLUE / SuperGLUE fine-tuning of a BERT run, SNI of a T5 run.
struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Fine-tune a pre-trained run on GLUE or SuperGLUE tasks (BERT) or Super-NaturalInstructions (T5) "
            + "and print the scores (the paper's recipes).",
        discussion: """
            Needs the run directory of `ntng pretrain` (tokenizer.json + checkpoint/). Task data: \
            <data-dir>/glue/<TASK>/*.tsv and <data-dir>/superglue/<Task>/*.jsonl; tasks whose files are \
            missing are skipped, and the averages say what they cover.

            Writes <run>/evaluation-<suite>.json (or --output) and prints a Markdown table.

            --suite sni: fine-tunes the T5 on SNI training tasks (nanoT5's recipe; --sni-config and --set \
            sni.key=value choose a subset) and scores the test tasks by ROUGE-L; writes report.json, \
            report.md and predictions.jsonl into <run>/evaluation-sni[-random-init] (or --output).
            """)

    @Option(name: .customLong("run"), help: "Pre-training run directory.", completion: .directory)
    var runDirectory: String
    @Option(help: "glue, superglue, all (both) or sni.", completion: .list(["glue", "superglue", "all", "sni"]))
    var suite = "glue"
    @Option(help: "Comma-separated task names (default: every task of the suite).") var tasks: String?
    @Option(help: "Folder with glue/ and superglue/ (default: ./data, else ../shared/data).", completion: .directory)
    var dataDir: String?
    @Option(help: "Comma-separated fine-tuning seeds; several give mean ± std.") var seeds = "0"
    @Flag(help: "Fine-tune a randomly initialised model of the same shape instead (a baseline).") var randomInit = false
    @Option(help: "Override the recipe's epochs.") var epochs: Int?
    @Option(help: "Use at most this many training examples per task (quick checks; the paper uses all).")
    var maxTrainExamples: Int?
    @Flag(help: "SuperGLUE: pass only the first two text fields, as the original code did.") var firstTwoFieldsOnly =
        false
    @Flag(help: "Drop each epoch's last incomplete batch, as the original code's loader did.") var dropLastBatch = false
    @Flag(help: "Warm up every task for the first task's warm-up steps, as the original code did.")
    var warmupFromFirstTask = false
    @Option(
        help: ArgumentHelp(
            "intended, or original-code: every quirk of the original fine-tuning code (the three flags above).",
            valueName: "mode"))
    var reproduce = "intended"

    @Option(help: "Report path (JSON; SNI: the output folder).") var output: String?
    @OptionGroup var sni: SNIOptions

    func run() throws {
        try requireBLAS()
        if suite == "sni" {
            if tasks != nil || maxTrainExamples != nil || firstTwoFieldsOnly || dropLastBatch || warmupFromFirstTask
                || reproduce != "intended"
            {
                throw ValidationError(
                    "--tasks, --max-train-examples, --first-two-fields-only, --drop-last-batch, "
                        + "--warmup-from-first-task and --reproduce are GLUE/SuperGLUE options; choose SNI's subset "
                        + "with --sni-config or --set sni.key=value")
            }
            let seedList = seeds.split(separator: ",")
            guard seedList.count == 1, let seed = UInt64(seedList[0]) else {
                throw ValidationError("--seeds: SNI evaluation takes one seed per call (got '\(seeds)')")
            }
            let directory = output ?? "\(runDirectory)/evaluation-sni\(randomInit ? "-random-init" : "")"
            _ = try sni.run(
                run: runDirectory, dataDirectory: dataDir, epochs: epochs, seed: seed, randomInit: randomInit,
                directory: directory)
            return
        }
        if sni.sniConfig != nil || sni.sniDir != nil || !sni.overrides.isEmpty {
            throw ValidationError("--sni-config, --sni-dir and --set apply to --suite sni")
        }
        guard let mode = Reproduce(rawValue: reproduce) else {
            throw ValidationError("--reproduce: must be intended or original-code (got '\(reproduce)')")
        }
        func recipe(_ suite: DownstreamTask.Suite) -> FineTuningRecipe {
            var r = FineTuningRecipe.paper(suite, reproduce: mode)
            if let epochs { r.epochs = epochs }
            r.firstTwoFieldsOnly = r.firstTwoFieldsOnly || firstTwoFieldsOnly
            r.dropLastBatch = r.dropLastBatch || dropLastBatch
            r.warmupFromFirstTask = r.warmupFromFirstTask || warmupFromFirstTask
            return r
        }
        let selected = try selectedTasks(
            suite: suite, names: tasks, firstTwoFieldsOnly: recipe(.superglue).firstTwoFieldsOnly)
        let seedList = try seeds.split(separator: ",").map { s -> UInt64 in
            guard let v = UInt64(s) else { throw ValidationError("--seeds: '\(s)' is not a seed") }
            return v
        }
        if let e = epochs, e < 1 { throw ValidationError("--epochs must be ≥ 1") }
        if let m = maxTrainExamples, m < 1 { throw ValidationError("--max-train-examples must be ≥ 1") }
        let dataDirectory = defaultDataDirectory(dataDir, holding: ["glue", "superglue"])
        guard FileManager.default.fileExists(atPath: dataDirectory) else {
            throw InputError("\(dataDirectory): no such data folder (pass --data-dir)")
        }
        let checkpoint = try PretrainedCheckpoint<CrammedBERTConfig>.load(run: runDirectory)
        let path = output ?? "\(runDirectory)/evaluation-\(suite)\(randomInit ? "-random-init" : "").json"
        try OwnedFolder.checkReplaceable(path, as: EvaluationReport.self, what: "an evaluation report")
        let limited = maxTrainExamples.map { m in selected.map { $0.limitingTraining(to: m) } } ?? selected
        let report = try DownstreamEvaluation.run(
            checkpoint, tasks: limited, dataDirectory: dataDirectory, seeds: seedList,
            randomInitialisation: randomInit, recipe: recipe
        ) { stderrLine($0) }
        try JSONCoding.write(report, to: path)
        print(report.markdown())
        stderrLine("report: \(path)")
    }
}

/// `--data-dir` when given, else ./data when it holds any of `expected` (by default: when it exists),
/// else ../shared/data.
func defaultDataDirectory(_ option: String?, holding expected: [String] = ["."]) -> String {
    option ?? (expected.contains { FileManager.default.fileExists(atPath: "data/" + $0) } ? "data" : "../shared/data")
}

func selectedTasks(suite: String, names: String?, firstTwoFieldsOnly: Bool) throws -> [DownstreamTask] {
    let all: [DownstreamTask]
    switch suite {
    case "glue": all = GLUE.tasks
    case "superglue": all = SuperGLUE.tasks(keepFirstTwoFieldsOnly: firstTwoFieldsOnly)
    case "all": all = GLUE.tasks + SuperGLUE.tasks(keepFirstTwoFieldsOnly: firstTwoFieldsOnly)
    default: throw ValidationError("--suite must be glue, superglue, all or sni")
    }
    guard let names else { return all.filter { $0.name != "WNLI" } }
    return try names.split(separator: ",").map { name in
        guard let t = all.first(where: { $0.name.lowercased() == name.lowercased() }) else {
            throw ValidationError(
                "--tasks: no task '\(name)' in \(suite) (have \(all.map(\.name).joined(separator: ", ")))")
        }
        return t
    }
}

/// `ntng finetune`: one task, one seed, and the fine-tuned weights.
struct Finetune: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Fine-tune a pre-trained run on one GLUE/SuperGLUE task; "
            + "save the classifier (safetensors) and its per-epoch scores."
    )

    @Option(name: .customLong("run"), help: "Pre-training run directory.", completion: .directory)
    var runDirectory: String
    @Option(help: "Task name, e.g. CoLA, SST-2, STS-B, CB, COPA; or sni (a T5 run).") var task: String
    @Option(help: "Folder with glue/ and superglue/ (default: ./data, else ../shared/data).", completion: .directory)
    var dataDir: String?
    @Option(help: "Fine-tuning seed.") var seed: UInt64 = 0
    @Option(help: "Override the recipe's epochs.") var epochs: Int?
    @Option(help: "Output folder (default: <run>/finetune-<task>).") var output: String?
    @Flag(help: "SNI: fine-tune a randomly initialised model of the run's shape instead.") var randomInit = false
    @OptionGroup var sni: SNIOptions

    func run() throws {
        try requireBLAS()
        if task.lowercased() == "sni" {
            let directory = output ?? "\(runDirectory)/finetune-sni\(randomInit ? "-random-init" : "")"
            let outcome = try sni.run(
                run: runDirectory, dataDirectory: dataDir, epochs: epochs, seed: seed, randomInit: randomInit,
                directory: directory)
            try Checkpointer.modelFile(
                outcome.model,
                metadata: ["ntng_task": "sni", "ntng_pretrained": randomInit ? "random initialisation" : runDirectory]
            ).write(to: URL(fileURLWithPath: directory + "/model.safetensors"), options: .atomic)
            print("saved \(directory)/model.safetensors (the fine-tuned T5) beside the SNI report")
            return
        }
        if randomInit {
            throw ValidationError("--random-init applies to --task sni (GLUE: ntng evaluate --random-init)")
        }
        guard let t = try selectedTasks(suite: "all", names: task, firstTwoFieldsOnly: false).first else { return }
        let dataDirectory = defaultDataDirectory(dataDir)
        let folder = dataDirectory + "/" + t.suite.rawValue
        if let missing = t.missingFiles(folder).first {
            throw InputError("\(missing): missing (task \(t.name) needs it)")
        }
        let checkpoint = try PretrainedCheckpoint<CrammedBERTConfig>.load(run: runDirectory)
        let dir = output ?? "\(runDirectory)/finetune-\(t.name)"
        try OwnedFolder(dir, kind: .fineTuning).open()
        var recipe = FineTuningRecipe.paper(t.suite)
        if let epochs {
            guard epochs > 0 else { throw ValidationError("--epochs must be ≥ 1") }; recipe.epochs = epochs
        }
        let model = SequenceClassifier(
            encoder: try checkpoint.encoder(randomInitialisation: false, seed: seed), classes: t.labels,
            seed: SeedStream.classifierHead.seed(seed))
        let result = FineTuning(task: t, recipe: recipe, tokenizer: checkpoint.tokenizer)
            .run(model, train: try t.readTrain(folder), dev: try t.readDev(folder), seed: seed) { stderrLine($0) }
        try SafeTensors.write(
            model.parameters.map { ($0.name, $0.tensor) },
            metadata: ["ntng_task": t.name, "ntng_classes": "\(t.labels)", "ntng_pretrained": runDirectory],
            to: dir + "/model.safetensors")
        try JSONCoding.write(result, to: dir + "/result.json")
        let scores = result.best.map { set, metrics in
            set + " "
                + metrics.sorted { $0.key < $1.key }.map { "\($0.key)=\(String(format: "%.4f", $0.value))" }
                .joined(separator: " ")
        }
        print("\(t.name): best epoch \(result.bestEpoch): \(scores.joined(separator: "; "))")
        print("saved \(dir)/model.safetensors (weights after the last epoch) and \(dir)/result.json")
    }
}
