import ArgumentParser
import Engine
import Foundation
import NoTrainNoGain

struct Pretrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Pre-train crammed BERT (masked LM) or T5 v1.1 (span corruption) under an RST budget.",
        discussion: """
            Reads a YAML config (see Resources/configs/), prepares the tokenizer and packed data (cached), \
            trains until the RST budget is used, validating and checkpointing on the RST clock, and writes \
            the run directory: metrics.jsonl, tokenizer.json, config.json, checkpoint/ (safetensors + state).
            """)

    @OptionGroup var configOptions: ConfigOptions
    @Flag(help: "Continue the run in the config's run directory from its last checkpoint.") var resume = false
    @Flag(help: "Delete an existing run directory and start again.") var overwrite = false
    @Option(help: "Stop (with a checkpoint) after this many optimiser steps; resume later with --resume.")
    var stopAfterSteps: Int?
    @Flag(help: "Train RHO-loss's irreducible-loss model on the held-out rows (in <run_directory>-il).")
    var ilModel = false

    func validate() throws {
        if let n = stopAfterSteps, n < 1 { throw ValidationError("--stop-after-steps must be ≥ 1") }
        if resume && overwrite { throw ValidationError("--resume and --overwrite exclude each other") }
    }

    func run() throws {
        try requireBLAS(distributed: true)
        let communicator = try OpenMPI.fromEnvironment()
        do {
            try train(communicator)
        } catch {
            // One rank's error stops them all (the others may wait in a sum); rank 0's last checkpoint stays.
            guard let mpi = communicator as? OpenMPI else { throw error }
            stderrLine("Error (rank \(mpi.rank) of \(mpi.size)): \(error)")
            mpi.abort(code: 1)
        }
    }

    func train(_ communicator: any Communicator) throws {
        var cfg = try configOptions.load()
        if ilModel { cfg.runDirectory += "-il" }
        let run = try PretrainingRun(
            config: cfg, resume: resume, overwrite: overwrite, irreducibleLossModel: ilModel, communicator: communicator
        ) { stderrLine($0) }
        if communicator.size > 1 && communicator.isRoot {
            stderrLine(
                "data parallel: \(communicator.size) processes, \(Parallel.threadCount) threads each; "
                    + "rank 0 logs and checkpoints")
        }
        let s = try run.train(stopAfterSteps: stopAfterSteps)
        guard communicator.isRoot else { return }
        stderrLine(
            s.stoppedEarly
                ? "stopped after step \(s.steps) (checkpoint in \(run.checkpointDirectory)); continue with --resume"
                : "done: \(s.steps) steps, \(String(format: "%.1f", s.rstUsed.seconds)) RST seconds, "
                    + "final validation loss "
                    + "\(s.finalValidationLoss.map { String(format: "%.4f", $0) } ?? "n/a"), token accuracy "
                    + "\(s.finalValidationAccuracy.map { String(format: "%.2f%%", 100 * $0) } ?? "n/a")")
    }
}

struct Calibrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure this machine's cost table (seconds per micro-batch by active layers) for a config's model.")

    @OptionGroup var configOptions: ConfigOptions
    @Option(help: "Where to write the cost model JSON.") var output: String
    @Option(help: "Timed repetitions per measurement.") var repeats = 3

    func run() throws {
        try requireBLAS()
        guard repeats > 0 else { throw ValidationError("--repeats must be positive") }
        let cfg = try configOptions.load()
        try OwnedFolder.checkReplaceable(output, as: CostModel.self, what: "a cost table")
        let cost = Calibration.measure(cfg, repeats: repeats) { stderrLine("calibrate: \($0)") }
        try JSONCoding.write(cost, to: output)
        stderrLine("wrote \(output)")
    }
}

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Train a tiny crammed BERT for a few RST minutes on the bundled corpus; "
            + "print validation loss before and after.",
        discussion: "The T5 demo: ntng demo --config Resources/configs/demo-t5.yaml")

    @Option(help: "Demo config (Resources/configs/demo-t5.yaml: a small T5 with span corruption).")
    var config = "Resources/configs/demo.yaml"
    @OptionGroup var set: ConfigOverrides

    func run() throws {
        try requireBLAS()
        guard FileManager.default.fileExists(atPath: config) else {
            throw InputError(config, "demo config not found (run from the repository root, or pass --config)")
        }
        let cfg = try set.load(config)
        let run = try PretrainingRun(config: cfg, overwrite: true) { stderrLine($0) }
        let s = try run.train()
        let v = run.state.validations
        print(
            "demo: \(s.steps) optimiser steps, \(run.state.tokensSeen) tokens, "
                + "\(String(format: "%.0f", s.tokensPerSecond)) tok/s"
        )
        if let first = v.first, let last = v.last {
            func accuracy(_ p: TrainingState.ValidationPoint) -> String {
                String(format: " (token accuracy %.2f%%)", 100 * p.accuracy)
            }
            print("validation loss before training: \(String(format: "%.4f", first.loss))\(accuracy(first))")
            print("validation loss after training:  \(String(format: "%.4f", last.loss))\(accuracy(last))")
        }
        print("run directory: \(run.directory)")
    }
}

struct ExtractILLosses: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "extract-il-losses",
        abstract: "Store an irreducible-loss model's per-example losses over a target run's training rows (RHO-loss).",
        discussion: """
            1. ntng pretrain --config target.yaml --set data.reserve_fraction=0.2 --il-model     (trains runs/<name>-il)
            2. ntng extract-il-losses --config target.yaml --il-run runs/<name>-il
            3. ntng pretrain --config target.yaml --set batch_selection.method=rho \
                   --set batch_selection.il_losses=runs/<name>-il/il_losses.safetensors
            """)

    @OptionGroup var configOptions: ConfigOptions
    @Option(help: "The IL model's run directory (its checkpoint/model.safetensors is used).", completion: .directory)
    var ilRun: String
    @Option(help: "Output file (default: <il-run>/il_losses.safetensors).") var output: String?

    func run() throws {
        try requireBLAS()
        let cfg = try configOptions.load()
        let model = ilRun + "/checkpoint/model.safetensors"
        guard FileManager.default.fileExists(atPath: model) else {
            throw InputError(
                "\(ilRun): no checkpoint/model.safetensors (train the IL model first with `ntng pretrain --il-model`)")
        }
        try IrreducibleLossExtraction.run(
            config: cfg, modelCheckpoint: model, output: output ?? ilRun + "/il_losses.safetensors"
        ) {
            stderrLine($0)
        }
    }
}
