import Foundation

/// `ntng compare --slurm`: an experiment's unfinished cells as Slurm job arrays, one array task per
/// cell, each running `ntng compare --cell <index>` (the cell's pre-training, then its downstream
/// evaluation). When RHO-loss cells need the shared irreducible-loss model, it is its own job
/// (`ntng compare --il-only`) and the RHO cells' array starts after it succeeds
/// (`--dependency=afterok`). The scripts are written to `<output>/slurm/`, then submitted with
/// `sbatch`; `ntng compare --report-only` builds the report once the arrays are done.
public struct SlurmSubmission {
    public struct Options: Sendable {
        public var partition: String?
        /// `--time`, in any form Slurm reads (`30:00`, `1-00:00:00`).
        public var time: String?
        public var cpusPerTask: Int?
        /// MPI ranks per cell (> 1: `mpirun -np N ntng pretrain` inside the array task).
        public var ranksPerCell = 1
        /// More `#SBATCH` lines, each a flag as `sbatch` takes it (`--mem=8G`, `--account=lab`).
        public var extraFlags: [String] = []

        public init() {}

        public func check() throws {
            if let c = cpusPerTask, c < 1 { throw InputError("--cpus-per-task must be ≥ 1") }
            guard ranksPerCell >= 1 else { throw InputError("--ranks-per-cell must be ≥ 1") }
            for flag in extraFlags where !flag.hasPrefix("-") || flag.contains("\n") {
                throw InputError("--sbatch-flag '\(flag)': give one sbatch flag, such as --mem=8G")
            }
        }
    }

    /// One job script.
    public struct Job: Sendable {
        /// `il`, `cells` or `rho-cells`.
        public var name: String
        public var script: String
        /// Array task ids (cell indices); empty for a single job.
        public var array: [Int]
        /// Starts after this job (by name) succeeds.
        public var after: String?
    }

    public let runner: ExperimentRunner
    public let options: Options
    /// The `ntng` binary, the experiment file and the folder the jobs start in, as absolute paths.
    public let binary: String, configPath: String, workingDirectory: String

    public init(runner: ExperimentRunner, options: Options, binary: String, configPath: String) {
        self.runner = runner
        self.options = options
        self.binary = binary
        let cwd = FileManager.default.currentDirectoryPath
        self.configPath = configPath.hasPrefix("/") ? configPath : cwd + "/" + configPath
        workingDirectory = cwd
    }

    public var folder: String { runner.experiment.output + "/slurm" }

    /// The jobs for the cells not finished yet: the IL model (if a pending RHO cell needs it and its
    /// losses are missing), the RHO cells' array after it, and every other cell's array.
    public func jobs() throws -> [Job] {
        let cells = runner.experiment.cells
        let pending = Set(runner.pendingCells.map(\.directory))
        var plain: [Int] = [], rho: [Int] = []
        for (i, cell) in cells.enumerated() where pending.contains(cell.directory) {
            if try runner.needsIrreducibleLosses(cell) { rho.append(i) } else { plain.append(i) }
        }
        let ilMissing = !FileManager.default.fileExists(atPath: runner.irreducibleLosses)
        var jobs: [Job] = []
        if !rho.isEmpty && ilMissing {
            jobs.append(
                Job(name: "il", script: script(name: "il", array: [], ranks: 1, command: ["--il-only"]), array: []))
        }
        for (name, indices) in [("cells", plain), ("rho-cells", rho)] where !indices.isEmpty {
            var command = ["--cell", "$SLURM_ARRAY_TASK_ID"]
            if options.ranksPerCell > 1 { command += ["--ranks-per-cell", String(options.ranksPerCell)] }
            jobs.append(
                Job(
                    name: name,
                    script: script(name: name, array: indices, ranks: options.ranksPerCell, command: command),
                    array: indices, after: name == "rho-cells" && ilMissing ? "il" : nil))
        }
        return jobs
    }

    /// `0-3,5,7`: Slurm's array syntax.
    public static func arraySpec(_ indices: [Int]) -> String {
        var parts: [String] = [], i = 0
        while i < indices.count {
            var j = i
            while j + 1 < indices.count && indices[j + 1] == indices[j] + 1 { j += 1 }
            parts.append(j > i ? "\(indices[i])-\(indices[j])" : "\(indices[i])")
            i = j + 1
        }
        return parts.joined(separator: ",")
    }

    func script(name: String, array: [Int], ranks: Int, command: [String]) -> String {
        let e = runner.experiment
        var lines = [
            "#!/bin/bash",
            "# Written by ntng compare --slurm for experiment \(e.name) (\(configPath)).",
            array.isEmpty
                ? "# The irreducible-loss model that the RHO-loss cells share: trained, then its losses extracted."
                : "# One array task per cell (the task id is the cell's index in the experiment).",
            "#SBATCH --job-name=ntng-\(e.name)-\(name)",
            "#SBATCH --output=\(absolute(folder))/\(name)-%A\(array.isEmpty ? "" : "_%a").out",
            "#SBATCH --ntasks=\(ranks)",
        ]
        if !array.isEmpty { lines.append("#SBATCH --array=\(SlurmSubmission.arraySpec(array))") }
        if let c = options.cpusPerTask { lines.append("#SBATCH --cpus-per-task=\(c)") }
        if let p = options.partition { lines.append("#SBATCH --partition=\(p)") }
        if let t = options.time { lines.append("#SBATCH --time=\(t)") }
        lines += options.extraFlags.map { "#SBATCH \($0)" }
        lines += [
            "set -euo pipefail",
            "cd \(quoted(workingDirectory))",
            "if [ -n \"${SLURM_CPUS_PER_TASK:-}\" ]; then export NTNG_THREADS=\"$SLURM_CPUS_PER_TASK\"; fi",
            "exec \(quoted(binary)) compare --config \(quoted(configPath)) "
                + command.map { $0.hasPrefix("$") ? "\"\($0)\"" : quoted($0) }.joined(separator: " "),
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    func absolute(_ path: String) -> String { path.hasPrefix("/") ? path : workingDirectory + "/" + path }

    func quoted(_ s: String) -> String {
        s.allSatisfy { $0.isLetter || $0.isNumber || "/._-=+:,".contains($0) }
            ? s
            : "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// Writes the scripts and submits them in order with `sbatch --parsable`; returns (job name,
    /// Slurm job id) for each.
    public func submit(sbatch: String = "sbatch", progress: (String) -> Void) throws -> [(String, String)] {
        try options.check()
        let jobs = try jobs()
        guard !jobs.isEmpty else { return [] }
        try OwnedFolder(runner.experiment.output, kind: .experiment).open()
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var ids: [String: String] = [:], submitted: [(String, String)] = []
        for job in jobs {
            let path = "\(folder)/\(job.name).sbatch"
            try job.script.write(toFile: path, atomically: true, encoding: .utf8)
            var arguments = ["--parsable"]
            if let after = job.after, let id = ids[after] { arguments.append("--dependency=afterok:\(id)") }
            let output = try SlurmSubmission.execute(sbatch, arguments + [path])
            // --parsable prints "<job id>" or "<job id>;<cluster>".
            let id = String(output.split(separator: ";").first ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            guard !id.isEmpty, id.allSatisfy(\.isNumber) else {
                throw InputError(path, "sbatch did not return a job id (it said: \(output.prefix(300)))")
            }
            ids[job.name] = id
            submitted.append((job.name, id))
            let what = job.array.isEmpty ? "1 job" : "\(job.array.count) cell(s), array \(Self.arraySpec(job.array))"
            progress("submitted \(job.name) (\(what)) as job \(id)" + (job.after.map { ", after \($0)" } ?? ""))
        }
        return submitted
    }

    /// Runs a program found on PATH; its standard output, or an error with its message.
    static func execute(_ program: String, _ arguments: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [program] + arguments
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        do { try p.run() } catch { throw InputError("cannot run \(program): \(error)") }
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            let said = message.trimmingCharacters(in: .whitespacesAndNewlines)
            throw InputError(
                p.terminationStatus == 127
                    ? "\(program) not found: is Slurm installed here (sbatch on PATH)?"
                    : "\(program) failed (exit \(p.terminationStatus)): \(said.prefix(500))")
        }
        return text
    }
}
