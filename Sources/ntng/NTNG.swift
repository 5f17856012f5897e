import ArgumentParser
import Engine
import NoTrainNoGain

@main
struct NTNG: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ntng",
        abstract: "NoTrainNoGain: fixed-budget pre-training of Transformer language models.",
        subcommands: [
            Demo.self, Pretrain.self, ExtractILLosses.self, Finetune.self, Evaluate.self, Compare.self, Calibrate.self,
            Tokenize.self, Bench.self, Runs.self, Plot.self,
        ])
}
