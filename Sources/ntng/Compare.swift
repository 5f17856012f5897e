import ArgumentParser
import Foundation
import NoTrainNoGain

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a fixed-budget comparison (methods × budgets × seeds) and write its report and plots.",
        discussion: """
            Every cell is a pre-training run under <output>/<method>/<budget>/seed-<n>; finished cells are skipped, so \
            an interrupted experiment continues where it stopped. Runs started with other settings than the file now \
            gives them are refused (run or report), naming the settings that differ. The report (report.md, \
            report.json) and SVG plots (PNG too when rsvg-convert is installed) go to <output>. See \
            Resources/experiments/ for an example.

            --slurm submits the unfinished cells as Slurm job arrays instead (scripts in <output>/slurm/; the \
            RHO-loss IL model as a job the RHO cells wait for); build the report afterwards with --report-only. \
            --ranks-per-cell N trains each cell on N MPI ranks (mpirun), here or inside the Slurm jobs.
            """)

    @Option(help: "Experiment YAML file.", completion: .file(extensions: ["yaml", "yml"])) var config: String
    @Flag(help: "Only rebuild the report from the stored runs.") var reportOnly = false
    @Option(help: "Run this many cells at once as separate processes (threads are divided between them).") var parallel:
        Int?
    @Option(help: "Train each cell on N MPI ranks (mpirun -np N ntng pretrain; Open MPI).") var ranksPerCell = 1
    @Flag(help: "Submit the unfinished cells to Slurm as job arrays (sbatch) instead of running them here.")
    var slurm = false
    @Option(help: "Slurm partition of the jobs.") var partition: String?
    @Option(help: "Slurm time limit of each job (30:00, 1-00:00:00).") var time: String?
    @Option(help: "Slurm CPUs per task (each rank's threads).") var cpusPerTask: Int?
    @Option(
        name: .customLong("sbatch-flag"), parsing: .unconditionalSingleValue,
        help: "Another #SBATCH line for every job, e.g. --sbatch-flag=--mem=8G (repeatable).")
    var sbatchFlags: [String] = []
    @Option(help: "Run only the cell with this index (what each Slurm array task runs).") var cell: Int?
    @Flag(help: "Only train the RHO-loss cells' irreducible-loss model and extract its losses (a Slurm job).")
    var ilOnly = false

    func validate() throws {
        let modes = [reportOnly, slurm, cell != nil, ilOnly].filter { $0 }.count
        guard modes <= 1 else {
            throw ValidationError("--report-only, --slurm, --cell and --il-only exclude each other")
        }
        guard ranksPerCell >= 1 else { throw ValidationError("--ranks-per-cell must be ≥ 1") }
        if ranksPerCell > 1 && (parallel ?? 1) > 1 {
            throw ValidationError("--ranks-per-cell > 1 runs one cell at a time; leave --parallel out")
        }
    }

    func run() throws {
        try requireBLAS()
        var experiment = try ExperimentConfig.load(path: config)
        if let parallel {
            guard parallel >= 1 else { throw ValidationError("--parallel must be ≥ 1") }
            experiment.parallel = parallel
        }
        if ranksPerCell > 1 { experiment.parallel = 1 }
        let runner = ExperimentRunner(experiment)
        let executor =
            ranksPerCell > 1
            ? processExecutor(launcher: ["mpirun", "-np", String(ranksPerCell)], threads: nil)
            : experiment.parallel > 1
                ? processExecutor(
                    launcher: [], threads: max(1, ProcessInfo.processInfo.activeProcessorCount / experiment.parallel))
                : ExperimentRunner.inProcess
        if slurm { return try submit(runner) }
        if ilOnly || cell != nil {
            try runner.checkStoredConfigs()
            if let cell {
                let cells = experiment.cells
                guard cells.indices.contains(cell) else {
                    throw ValidationError("--cell \(cell): the experiment has cells 0…\(cells.count - 1)")
                }
                try runner.run(cells[cell], executor: executor) { stderrLine($0) }
            } else {
                try runner.prepareIrreducibleLosses(for: experiment.cells) { stderrLine($0) }
            }
            return
        }
        if reportOnly {
            try runner.checkStoredConfigs()
        } else {
            try runner.run(executor: executor) { stderrLine($0) }
        }
        let report = try ExperimentReport.build(experiment)
        let plots = try report.write(to: experiment.output, methods: experiment.methods.map(\.name))
        print(report.markdown())
        stderrLine("report: \(experiment.output)/report.md, report.json; plots: \(plots.joined(separator: ", "))")
    }

    /// Submits the unfinished cells to Slurm and says how to build the report afterwards.
    func submit(_ runner: ExperimentRunner) throws {
        try runner.checkStoredConfigs()
        var options = SlurmSubmission.Options()
        options.partition = partition
        options.time = time
        options.cpusPerTask = cpusPerTask
        options.ranksPerCell = ranksPerCell
        options.extraFlags = sbatchFlags
        let submission = SlurmSubmission(runner: runner, options: options, binary: Compare.binary, configPath: config)
        let jobs = try submission.submit { stderrLine($0) }
        guard !jobs.isEmpty else {
            stderrLine("every cell is finished; the report: ntng compare --config \(config) --report-only")
            return
        }
        print(jobs.map { "\($0.0) \($0.1)" }.joined(separator: "\n"))
        stderrLine(
            "scripts and job output in \(submission.folder); when the jobs are done: "
                + "ntng compare --config \(config) --report-only")
    }

    /// This executable, to start again in child processes and jobs.
    static var binary: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// Runs a cell as `ntng pretrain` in a child process (after `launcher`, e.g. `mpirun -np 2`), with
    /// `threads` threads (nil: ntng's own choice).
    func processExecutor(launcher: [String], threads: Int?) -> ExperimentRunner.Executor {
        let binary = Compare.binary
        return { cell, base, overrides, resume in
            let p = Process()
            let arguments =
                ["pretrain", "--config", base] + overrides.flatMap { ["--set", $0] } + [
                    resume ? "--resume" : "--overwrite"
                ]
            p.executableURL = URL(fileURLWithPath: launcher.isEmpty ? binary : "/usr/bin/env")
            p.arguments = launcher.isEmpty ? arguments : launcher + [binary] + arguments
            var env = ProcessInfo.processInfo.environment
            if let threads { env["NTNG_THREADS"] = String(threads) }
            p.environment = env
            try FileManager.default.createDirectory(atPath: cell.directory, withIntermediateDirectories: true)
            let log = cell.directory + ".log"
            guard FileManager.default.createFile(atPath: log, contents: nil),
                let handle = FileHandle(forWritingAtPath: log)
            else { throw InputError(log, "cannot create the cell's log (is the folder writable?)") }
            p.standardError = handle
            p.standardOutput = handle
            try p.run()
            p.waitUntilExit()
            guard p.terminationStatus == 0 else {
                throw InputError(
                    (launcher + ["ntng pretrain"]).joined(separator: " ")
                        + " exited with \(p.terminationStatus); see \(log)"
                )
            }
        }
    }
}
