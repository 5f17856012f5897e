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
            """)

    @Option(help: "Experiment YAML file.", completion: .file(extensions: ["yaml", "yml"])) var config: String
    @Flag(help: "Only rebuild the report from the stored runs.") var reportOnly = false
    @Option(help: "Run this many cells at once as separate processes (threads are divided between them).") var parallel:
        Int?

    func run() throws {
        try requireBLAS()
        var experiment = try ExperimentConfig.load(path: config)
        if let parallel {
            guard parallel >= 1 else { throw ValidationError("--parallel must be ≥ 1") }
            experiment.parallel = parallel
        }
        let runner = ExperimentRunner(experiment)
        if reportOnly {
            try runner.checkStoredConfigs()
        } else {
            let executor =
                experiment.parallel > 1 ? processExecutor(parallel: experiment.parallel) : ExperimentRunner.inProcess
            try runner.run(executor: executor) { stderrLine($0) }
        }
        let report = try ExperimentReport.build(experiment)
        let plots = try report.write(to: experiment.output, methods: experiment.methods.map(\.name))
        print(report.markdown())
        stderrLine("report: \(experiment.output)/report.md, report.json; plots: \(plots.joined(separator: ", "))")
    }

    /// Runs a cell as `ntng pretrain` in a child process with its share of the cores.
    func processExecutor(parallel: Int) -> ExperimentRunner.Executor {
        let binary =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let threads = max(1, ProcessInfo.processInfo.activeProcessorCount / parallel)
        return { cell, base, overrides, resume in
            let p = Process()
            p.executableURL = URL(fileURLWithPath: binary)
            p.arguments =
                ["pretrain", "--config", base] + overrides.flatMap { ["--set", $0] } + [
                    resume ? "--resume" : "--overwrite"
                ]
            var env = ProcessInfo.processInfo.environment
            env["NTNG_THREADS"] = String(threads)
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
                throw InputError("ntng pretrain exited with \(p.terminationStatus); see \(log)")
            }
        }
    }
}
