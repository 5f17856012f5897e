import ArgumentParser
import Engine
import Foundation
import NoTrainNoGain

/// The SNI options `ntng evaluate --suite sni` and `ntng finetune --task sni` share.
struct SNIOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "SNI: a YAML file with an `sni:` section (subset and recipe, e.g. Resources/evaluation/sni-cpu.yaml).",
            valueName: "path"))
    var sniConfig: String?
    @Option(
        help: ArgumentHelp(
            "SNI: the SNI checkout (tasks/*.json, splits/<split>/*_tasks.txt); default "
                + "<data-dir>/super-natural-instructions."))
    var sniDir: String?
    @Option(
        name: .customLong("set"),
        help: ArgumentHelp("SNI: override a recipe key, e.g. --set sni.epochs=1 (repeatable).", valueName: "key=value"))
    var overrides: [String] = []

    func recipe(epochs: Int?) throws -> SNIRecipe {
        var recipe = try SNIRecipe.load(path: sniConfig, overrides: overrides)
        if let epochs {
            guard epochs >= 0 else { throw ValidationError("--epochs must be ≥ 0") }
            recipe.epochs = epochs
        }
        return recipe
    }

    func data(dataDirectory: String?) throws -> SNIData {
        let root = sniDir ?? defaultDataDirectory(dataDirectory) + "/super-natural-instructions"
        guard FileManager.default.fileExists(atPath: root + "/tasks") else {
            throw InputError(
                root,
                "not an SNI checkout (no tasks/ folder); "
                    + (sniDir == nil
                        ? "pass --sni-dir <checkout of github.com/allenai/natural-instructions>"
                        : "--sni-dir takes a checkout of github.com/allenai/natural-instructions"))
        }
        return SNIData(root: root)
    }

    /// Fine-tunes and scores; writes report.json, report.md and predictions.jsonl into `directory`
    /// (an ntng-owned folder) and prints the Markdown table.
    func run(
        run runDirectory: String, dataDirectory: String?, epochs: Int?, seed: UInt64, randomInit: Bool,
        directory: String
    ) throws -> SNIEvaluation.Outcome {
        let recipe = try recipe(epochs: epochs)
        let data = try data(dataDirectory: dataDirectory)
        let checkpoint = try PretrainedCheckpoint<T5Config>.load(
            run: runDirectory, purpose: "SNI evaluation (it fine-tunes a T5)")
        try OwnedFolder(directory, kind: .fineTuning).open()
        let outcome = try SNIEvaluation.run(
            checkpoint, data: data, recipe: recipe, seed: seed, randomInitialisation: randomInit
        ) { stderrLine($0) }
        try SNIEvaluation.write(outcome, to: directory)
        print(outcome.report.markdown())
        stderrLine(
            "sni: decoding \(String(format: "%.0f", outcome.report.decoding.tokensPerSecond)) tokens/s; "
                + "wrote \(directory)/report.json, report.md and predictions.jsonl")
        return outcome
    }
}
