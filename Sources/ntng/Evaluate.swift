import ArgumentParser
import Engine
import Foundation
import NoTrainNoGain

/// `ntng evaluate` and `ntng finetune`: GLUE / SuperGLUE fine-tuning of a pre-training run.
struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fine-tune a pre-trained run on GLUE or SuperGLUE tasks and print the scores (spec §8 recipe).",
        discussion: """
        Needs the run directory of `ntng pretrain` (tokenizer.json + checkpoint/). Task data: <data-dir>/glue/<TASK>/*.tsv and
        <data-dir>/superglue/<Task>/*.jsonl; tasks whose files are missing are skipped, and the averages say what they cover.
        Writes <run>/evaluation-<suite>.json (or --output) and prints a Markdown table.
        """)

    @Option(name: .customLong("run"), help: "Pre-training run directory.") var runDirectory: String
    @Option(help: "glue, superglue or all.") var suite = "glue"
    @Option(help: "Comma-separated task names (default: every task of the suite).") var tasks: String?
    @Option(help: "Folder with glue/ and superglue/ (default: ./data, else ../shared/data).") var dataDir: String?
    @Option(help: "Comma-separated fine-tuning seeds; several give mean ± std.") var seeds = "0"
    @Flag(help: "Fine-tune a randomly initialised model of the same shape instead (a baseline).") var randomInit = false
    @Option(help: "Override the recipe's epochs.") var epochs: Int?
    @Option(help: "Use at most this many training examples per task (quick checks; the paper uses all).") var maxTrainExamples: Int?
    @Flag(help: "SuperGLUE: pass only the first two text fields, as the original code did.") var firstTwoFieldsOnly = false
    @Option(help: "Report path (JSON).") var output: String?

    func run() throws {
        try requireBLAS()
        let selected = try selectedTasks(suite: suite, names: tasks, firstTwoFieldsOnly: firstTwoFieldsOnly)
        let seedList = try seeds.split(separator: ",").map { s -> UInt64 in
            guard let v = UInt64(s) else { throw ValidationError("--seeds: '\(s)' is not a seed") }
            return v
        }
        if let e = epochs, e < 1 { throw ValidationError("--epochs must be ≥ 1") }
        if let m = maxTrainExamples, m < 1 { throw ValidationError("--max-train-examples must be ≥ 1") }
        let dataDirectory = dataDir ?? (FileManager.default.fileExists(atPath: "data/glue") || FileManager.default.fileExists(atPath: "data/superglue")
            ? "data" : "../shared/data")
        guard FileManager.default.fileExists(atPath: dataDirectory) else { throw CLIError("\(dataDirectory): no such data folder (pass --data-dir)") }
        let checkpoint = try PretrainedCheckpoint.load(run: runDirectory)
        let limited = maxTrainExamples.map { m in selected.map { $0.limitingTraining(to: m) } } ?? selected
        let report = try DownstreamEvaluation.run(checkpoint, tasks: limited, dataDirectory: dataDirectory, seeds: seedList,
                                                  randomInitialisation: randomInit, recipe: { suite in
                                                      var r = FineTuningRecipe.paper(suite)
                                                      if let epochs { r.epochs = epochs }
                                                      return r
                                                  }) { stderrLine($0) }
        let path = output ?? "\(runDirectory)/evaluation-\(suite)\(randomInit ? "-random-init" : "").json"
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(report).write(to: URL(fileURLWithPath: path), options: .atomic)
        print(report.markdown())
        stderrLine("report: \(path)")
    }
}

func selectedTasks(suite: String, names: String?, firstTwoFieldsOnly: Bool) throws -> [DownstreamTask] {
    let all: [DownstreamTask]
    switch suite {
    case "glue": all = GLUE.tasks
    case "superglue": all = SuperGLUE.tasks(keepFirstTwoFieldsOnly: firstTwoFieldsOnly)
    case "all": all = GLUE.tasks + SuperGLUE.tasks(keepFirstTwoFieldsOnly: firstTwoFieldsOnly)
    default: throw ValidationError("--suite must be glue, superglue or all")
    }
    guard let names else { return all.filter { $0.name != "WNLI" } }
    return try names.split(separator: ",").map { name in
        guard let t = all.first(where: { $0.name.lowercased() == name.lowercased() }) else {
            throw ValidationError("--tasks: no task '\(name)' in \(suite) (have \(all.map(\.name).joined(separator: ", ")))")
        }
        return t
    }
}
