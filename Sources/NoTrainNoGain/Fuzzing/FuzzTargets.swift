import Foundation

/// Every parser of outside input, as a fuzz target: arbitrary bytes are written where the parser
/// reads such a file and parsed the way `ntng` does. A target may throw (a malformed file is an
/// `InputError`, one line naming the file); it must never trap, hang or exhaust memory. `ntng-fuzz`
/// runs the targets under libFuzzer (`scripts/fuzz.sh`), and the tests replay every input that once
/// broke one (`Tests/Fuzz/regressions/<target>/`).
public enum FuzzTargets {
    public struct Target: Sendable {
        public let name: String
        /// Where the input goes, relative to a scratch folder.
        public let file: String
        /// Parses the file at the path it is given, as ntng would.
        public let parse: @Sendable (String) throws -> Void
    }

    public static let all: [Target] = [
        Target(name: "tokenizer-json", file: "tokenizer.json") { path in
            let tokenizer = try Tokenizer.load(path)
            _ = tokenizer.encode("Hello, wörld! Ünïcode   and\ttabs…", pair: "a second text")
        },
        Target(name: "safetensors", file: "model.safetensors") { path in _ = try SafeTensors.read(path) },
        Target(name: "config-yaml", file: "config.yaml") { path in _ = try PretrainingConfig.load(path: path) },
        Target(name: "experiment-yaml", file: "experiment.yaml") { path in _ = try ExperimentConfig.load(path: path) },
        Target(name: "cost-table", file: "cost.json") { path in _ = try CostModel.load(path) },
        Target(name: "checkpoint-state", file: "checkpoint/state.json") { path in
            _ = try Checkpointer.verify(URL(fileURLWithPath: path).deletingLastPathComponent().path)
        },
        Target(name: "run-log", file: "metrics.jsonl") { path in _ = try MetricsLog.read(path) },
        Target(name: "corpus-text", file: "corpus.txt", parse: documents),
        Target(name: "corpus-jsonl", file: "corpus.jsonl", parse: documents),
        Target(name: "corpus-gzip", file: "corpus.json.gz", parse: documents),
        Target(name: "wikiextractor", file: "AA/wiki_00", parse: documents),
        Target(name: "glue-tsv", file: "glue/input.tsv") { path in try readAll(GLUE.tasks, path) },
        Target(name: "superglue-jsonl", file: "superglue/input.jsonl") { path in
            try readAll(SuperGLUE.tasks() + SuperGLUE.tasks(keepFirstTwoFieldsOnly: true), path)
        },
        Target(name: "sni-task-json", file: "tasks/task001_input.json") { path in
            let task = try SNITask.load(path)
            _ = task.instances(.train, limit: 3, seed: 0)
        },
    ]

    static func documents(_ path: String) throws { _ = try Corpus(paths: [path]).documents() }

    /// The input as the training file of every task of a suite (each reads its own columns or fields).
    static func readAll(_ tasks: [DownstreamTask], _ path: String) throws {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var first: Error?
        for task in tasks {
            let target = task.trainPath(folder)
            try FileManager.default.createDirectory(
                atPath: URL(fileURLWithPath: target).deletingLastPathComponent().path, withIntermediateDirectories: true
            )
            try? FileManager.default.removeItem(atPath: target)
            try FileManager.default.copyItem(atPath: path, toPath: target)
            do { _ = try task.readTrain(folder) } catch { first = first ?? error }
        }
        if let first { throw first }
    }

    public static func target(named name: String) -> Target? { all.first { $0.name == name } }

    /// Runs `target` on `data` in `scratch` (a folder of the caller's).
    public static func run(_ target: Target, _ data: Data, scratch: String) throws {
        let path = scratch + "/" + target.file
        try FileManager.default.createDirectory(
            atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path, withIntermediateDirectories: true)
        try data.write(to: URL(fileURLWithPath: path))
        try target.parse(path)
    }
}
