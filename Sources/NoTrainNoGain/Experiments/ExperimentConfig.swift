import Foundation
import Yams

/// An experiment file (`ntng compare --config experiment.yaml`): one base pre-training config, the
/// methods as config overrides, the RST budgets, the seeds, and the evaluations. Every
/// (method, budget, seed) is one cell, i.e. one pre-training run.
///
/// ```yaml
/// name: cpu-small
/// base_config: ../configs/demo.yaml
/// budgets: [1m, 2m]
/// seeds: [0, 1, 2]
/// common: {data: {reserve_fraction: 0.2}}       # overrides applied to every cell
/// # Each seed sets the cell's training.seed: its initialisation, masks and data order. To keep one
/// # data order across seeds: common: {data: {order_seed: 0}}
/// methods:
///   baseline: {}
///   stacking: {stacking: {initial_blocks: 1}}
///   rho-loss: {batch_selection: {method: rho}}   # IL model trained and extracted automatically
/// il_budget: 2m
/// glue: {tasks: [CoLA, SST-2], max_train_examples: 2000, epochs: 2, data_dir: ../../../shared/data}
/// # T5 experiments instead: fine-tune on SNI and score ROUGE-L (`SNIRecipe` keys, the SNI checkout, a seed)
/// # sni: {train_tasks: 60, train_instances_per_task: 20, epochs: 1, test_tasks: 20, test_instances_per_task: 20,
/// #       sni_dir: ../../../shared/data/super-natural-instructions}
/// parallel: 1
/// output: runs/experiments/cpu-small
/// ```
public struct ExperimentConfig: Sendable {
    public struct Method: Sendable, Equatable {
        public var name: String
        /// `key.path=value` overrides of the base config.
        public var overrides: [String]
    }

    public struct Downstream: Sendable, Equatable {
        public var tasks: [String]
        public var maxTrainExamples: Int?
        public var epochs: Int?
        public var dataDirectory: String
        public var seeds: [UInt64] = [0]
    }

    /// The `sni:` section: the SNI recipe (subset) each T5 cell is fine-tuned and scored with.
    public struct SNIDownstream: Sendable, Equatable {
        public var recipe: SNIRecipe
        public var dataDirectory: String
        public var seed: UInt64
    }

    public var name: String
    public var source: String
    public var baseConfig: String
    public var budgets: [RST]
    public var seeds: [UInt64]
    public var common: [String]
    public var methods: [Method]
    public var ilBudget: RST?
    public var glue: Downstream?
    public var sni: SNIDownstream?
    public var parallel: Int
    public var output: String

    public static let baselineName = "baseline"

    public static func load(path: String) throws -> ExperimentConfig {
        let root = try ConfigSection.load(path: path, what: "experiment file")
        let base = URL(fileURLWithPath: path).deletingLastPathComponent().path
        func resolve(_ p: String) -> String { p.hasPrefix("/") ? p : base + "/" + p }
        let name = try root.string("name", default: "experiment") ?? "experiment"
        guard let baseConfig = try root.string("base_config", default: nil) else {
            throw InputError(path, "base_config: required")
        }
        let budgetTexts = try root.strings("budgets", default: [])
        guard !budgetTexts.isEmpty else { throw InputError(path, "budgets: required (e.g. [6h, 12h, 24h])") }
        let budgets = try budgetTexts.map { t -> RST in
            guard let r = RST(parsing: t), r.seconds > 0 else {
                throw InputError(path, "budgets: '\(t)' is not a positive duration")
            }
            return r
        }
        let seeds = try root.doubles("seeds", default: [0], range: 0...1e15).map { UInt64($0) }
        let common = try root.has("common") ? flatten(try root.rawMapping("common"), path: path, key: "common") : []
        guard root.has("methods") else {
            throw InputError(path, "methods: required (a mapping of method names to overrides)")
        }
        let methodMap = try root.rawMapping("methods")
        var methods: [Method] = []
        for (name, value) in methodMap.sorted(by: { $0.key < $1.key }) {
            guard let overrides = value as? [String: Any] ?? (value is NSNull ? [:] : nil) else {
                throw InputError(path, "methods.\(name): must be a mapping of config overrides ({} for none)")
            }
            methods.append(Method(name: name, overrides: try flatten(overrides, path: path, key: "methods.\(name)")))
        }
        guard methods.contains(where: { $0.name == baselineName }) else {
            throw InputError(path, "methods: needs a method named '\(baselineName)' to compare against")
        }
        // The baseline first, the rest alphabetically.
        methods.sort { a, b in
            let ra = a.name == baselineName ? 0 : 1, rb = b.name == baselineName ? 0 : 1
            return ra != rb ? ra < rb : a.name < b.name
        }
        let ilBudget = try root.duration("il_budget", default: nil)
        var glue: Downstream?
        if root.has("glue") {
            let g = try root.section("glue")
            glue = Downstream(
                tasks: try g.strings("tasks", default: ["CoLA", "SST-2"]),
                maxTrainExamples: g.has("max_train_examples")
                    ? try g.int("max_train_examples", default: 1, range: 1...Int.max) : nil,
                epochs: g.has("epochs") ? try g.int("epochs", default: 1, range: 1...1000) : nil,
                dataDirectory: resolve(try g.string("data_dir", default: "data") ?? "data"),
                seeds: try g.doubles("seeds", default: [0], range: 0...1e15).map { UInt64($0) })
            try g.finish()
        }
        var sni: SNIDownstream?
        if root.has("sni") {
            let section = try root.section("sni")
            sni = SNIDownstream(
                recipe: try SNIRecipe.read(section),
                dataDirectory: resolve(
                    try section.string("sni_dir", default: "data/super-natural-instructions")
                        ?? "data/super-natural-instructions"),
                seed: UInt64(try section.int("seed", default: 0, range: 0...Int.max)))
            try section.finish()
        }
        let parallel = try root.int("parallel", default: 1, range: 1...64)
        let output = try root.string("output", default: "runs/experiments/\(name)") ?? "runs/experiments/\(name)"
        try root.finish()
        return ExperimentConfig(
            name: name, source: path, baseConfig: resolve(baseConfig), budgets: budgets, seeds: seeds,
            common: common, methods: methods, ilBudget: ilBudget, glue: glue, sni: sni, parallel: parallel,
            output: output)
    }

    /// {a: {b: 1, c: [1, 2]}} → ["a.b=1", "a.c=[1, 2]"].
    static func flatten(_ mapping: [String: Any], path: String, key: String, prefix: String = "") throws -> [String] {
        var out: [String] = []
        for (k, v) in mapping.sorted(by: { $0.key < $1.key }) {
            let full = prefix.isEmpty ? k : "\(prefix).\(k)"
            if let nested = v as? [String: Any] {
                out += try flatten(nested, path: path, key: key, prefix: full)
            } else {
                out.append("\(full)=\(try yamlScalar(v, path: path, key: "\(key).\(full)"))")
            }
        }
        return out
    }

    static func yamlScalar(_ v: Any, path: String, key: String) throws -> String {
        switch v {
        case let b as Bool: return b ? "true" : "false"
        case let i as Int: return String(i)
        case let d as Double: return String(d)
        case let s as String: return s
        case let list as [Any]:
            return "[" + (try list.map { try yamlScalar($0, path: path, key: key) }).joined(separator: ", ") + "]"
        default: throw InputError(path, "\(key): unsupported value \(v)")
        }
    }

    /// The directory of the irreducible-loss model RHO-loss cells share.
    public var irreducibleLossDirectory: String { output + "/il" }

    /// The IL model's RST budget: `il_budget`, else the largest budget.
    public var irreducibleLossBudget: RST { ilBudget ?? budgets.max()! }

    /// Cells in run order: budgets, then methods, then seeds.
    public var cells: [ExperimentCell] {
        budgets.flatMap { b in
            methods.flatMap { m in
                seeds.map { ExperimentCell(method: m, budget: b, seed: $0, experimentOutput: output) }
            }
        }
    }
}

/// One pre-training run of an experiment.
public struct ExperimentCell: Sendable {
    public let method: ExperimentConfig.Method
    public let budget: RST
    public let seed: UInt64
    let experimentOutput: String

    public var directory: String { "\(experimentOutput)/\(method.name)/\(budget)/seed-\(seed)" }
    public var label: String { "\(method.name) @ \(budget) seed \(seed)" }

    /// The overrides that make this cell's config from the base config.
    public func overrides(common: [String], extra: [String] = []) -> [String] {
        common + method.overrides + extra + [
            "training.budget=\(budget.seconds)", "training.seed=\(seed)",
            "run_directory=\(directory)", "name=\(method.name)-\(budget)-seed\(seed)",
        ]
    }

    /// Finished: the run logged its end and the downstream reports wanted (`files`, relative to the
    /// cell's directory) exist.
    public func isFinished(needing files: [String]) -> Bool {
        ExperimentCell.runEnded(directory)
            && files.allSatisfy { FileManager.default.fileExists(atPath: directory + "/" + $0) }
    }

    /// The pre-training run in `directory` logged its end.
    static func runEnded(_ directory: String) -> Bool {
        ((try? MetricsLog.read(directory + "/metrics.jsonl"))?.end) != nil
    }
}
