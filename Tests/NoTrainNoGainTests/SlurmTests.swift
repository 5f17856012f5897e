import Foundation
import NoTrainNoGain
import Testing

/// `ntng compare --slurm` against a stand-in `sbatch` that records its calls (the real Slurm run is
/// `scripts/slurm-check.sh`).
@Suite("Slurm submission", .serialized)
struct SlurmTests {
    /// A 3-method, 2-seed experiment of the tiny run with a RHO-loss method.
    static func experiment(_ tiny: TinyRun) throws -> ExperimentConfig {
        let path = tiny.directory + "/experiment.yaml"
        try """
        name: slurm
        base_config: tiny.yaml
        budgets: [4s]
        seeds: [0, 1]
        common: {data: {reserve_fraction: 0.2}}
        methods:
          baseline: {}
          stacking: {stacking: {initial_blocks: 1, fractions: [0.5]}}
          rho: {batch_selection: {method: rho, mega_batch: 2}}
        il_budget: 4s
        output: \(tiny.directory)/out
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return try ExperimentConfig.load(path: path)
    }

    /// A stand-in sbatch: appends its arguments to `calls` and prints job ids 101, 102, …
    static func fakeSbatch(in folder: String, output: String = "$((100 + n));cluster") throws -> String {
        let path = folder + "/sbatch"
        try """
        #!/bin/bash
        n=$(( $(cat \(folder)/calls 2>/dev/null | wc -l) + 1 ))
        echo "$*" >> \(folder)/calls
        echo "\(output)"
        """.write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        return path
    }

    @Test func arraysSayTheirCellsInSlurmsSyntax() {
        #expect(SlurmSubmission.arraySpec([0, 1, 2, 5, 7, 8]) == "0-2,5,7-8")
        #expect(SlurmSubmission.arraySpec([3]) == "3")
    }

    @Test func unfinishedCellsAreSubmittedAsArraysAndRHOCellsWaitForTheILModel() throws {
        let tiny = try TinyRun(budgetSeconds: 4)
        let experiment = try Self.experiment(tiny)
        let runner = ExperimentRunner(experiment)
        // One cell already finished: it is not submitted again.
        let finished = try #require(experiment.cells.firstIndex { $0.method.name == "stacking" })
        try runner.run(experiment.cells[finished])
        var options = SlurmSubmission.Options()
        options.partition = "cpu"
        options.time = "1:00:00"
        options.cpusPerTask = 4
        options.ranksPerCell = 2
        options.extraFlags = ["--mem=8G"]
        let submission = SlurmSubmission(
            runner: runner, options: options, binary: "/opt/ntng/bin/ntng", configPath: experiment.source)
        let sbatch = try Self.fakeSbatch(in: tiny.directory)
        var said: [String] = []
        let jobs = try submission.submit(sbatch: sbatch) { said.append($0) }
        #expect(jobs.map(\.0) == ["il", "cells", "rho-cells"] && jobs.map(\.1) == ["101", "102", "103"])
        let calls = try String(contentsOfFile: tiny.directory + "/calls", encoding: .utf8).split(separator: "\n")
        #expect(calls.count == 3 && calls[2].contains("--dependency=afterok:101"))
        #expect(!calls[0].contains("dependency") && !calls[1].contains("dependency"))

        let names = experiment.cells.map(\.method.name)
        let rho = names.indices.filter { names[$0] == "rho" },
            plain = names.indices.filter {
                names[$0] != "rho" && $0 != finished
            }
        let cells = try String(contentsOfFile: submission.folder + "/cells.sbatch", encoding: .utf8)
        #expect(cells.contains("#SBATCH --array=\(SlurmSubmission.arraySpec(plain))"))
        for line in [
            "#SBATCH --partition=cpu", "#SBATCH --time=1:00:00", "#SBATCH --cpus-per-task=4", "#SBATCH --ntasks=2",
            "#SBATCH --mem=8G",
            "exec /opt/ntng/bin/ntng compare --config \(experiment.source) --cell \"$SLURM_ARRAY_TASK_ID\" "
                + "--ranks-per-cell 2",
        ] {
            #expect(cells.contains(line), "\(line)")
        }
        let rhoScript = try String(contentsOfFile: submission.folder + "/rho-cells.sbatch", encoding: .utf8)
        #expect(rhoScript.contains("#SBATCH --array=\(SlurmSubmission.arraySpec(rho))"))
        let il = try String(contentsOfFile: submission.folder + "/il.sbatch", encoding: .utf8)
        #expect(il.contains("--il-only") && il.contains("#SBATCH --ntasks=1") && !il.contains("--array"))
        #expect(said.last?.contains("as job 103, after il") == true)
    }

    @Test func sbatchProblemsStopWithOneLine() throws {
        let tiny = try TinyRun(budgetSeconds: 4)
        let runner = ExperimentRunner(try Self.experiment(tiny))
        func submit(_ options: SlurmSubmission.Options = .init(), sbatch: String) -> String {
            errorMessage {
                _ = try SlurmSubmission(runner: runner, options: options, binary: "ntng", configPath: "e.yaml")
                    .submit(sbatch: sbatch) { _ in }
            }
        }
        #expect(submit(sbatch: "no-such-sbatch-here").contains("no-such-sbatch-here not found: is Slurm installed"))
        let talkative = try Self.fakeSbatch(in: tiny.directory, output: "sbatch: error: Batch job submission failed")
        #expect(submit(sbatch: talkative).contains("sbatch did not return a job id"))
        var bad = SlurmSubmission.Options()
        bad.extraFlags = ["mem=8G"]
        #expect(submit(bad, sbatch: talkative).contains("--sbatch-flag 'mem=8G': give one sbatch flag"))
    }
}
