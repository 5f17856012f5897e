import ArgumentParser
import NoTrainNoGain

/// `--set key=value`, shared by every command that reads a pre-training config.
struct ConfigOverrides: ParsableArguments {
    @Option(
        name: .customLong("set"),
        help: ArgumentHelp(
            "Override a config key, e.g. --set training.budget=10m (repeatable).", valueName: "key=value"))
    var overrides: [String] = []

    func load(_ path: String) throws -> PretrainingConfig {
        try PretrainingConfig.load(path: path, overrides: overrides)
    }
}

/// `--config` (required) and `--set`.
struct ConfigOptions: ParsableArguments {
    @Option(help: "YAML config file.", completion: .file(extensions: ["yaml", "yml"])) var config: String
    @OptionGroup var set: ConfigOverrides

    func load() throws -> PretrainingConfig { try set.load(config) }
}
