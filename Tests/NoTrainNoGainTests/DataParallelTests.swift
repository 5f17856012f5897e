import Foundation
import NoTrainNoGain
import Testing

/// `mpirun -np N ntng pretrain`: the built `ntng` under Open MPI's `mpirun` on this machine. Skipped,
/// saying why, where `mpirun` or the binary is missing (`scripts/test.sh` installs and builds both).
struct MPIRun {
    let binary: String
    let mpirun: String

    static let available: MPIRun? = {
        let root = Fixtures.repository.path
        let binary = [root + "/.build/debug/ntng", root + "/.build/release/ntng"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
        let mpirun = ["/usr/bin/mpirun", "/usr/local/bin/mpirun"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
        guard let binary, let mpirun else {
            print(
                "skipped: data-parallel tests need mpirun (openmpi-bin) and a built ntng "
                    + "(scripts/test.sh installs and builds both)")
            return nil
        }
        // mpirun itself must work here (a container may lack what Open MPI needs to start 2 processes).
        let run = MPIRun(binary: binary, mpirun: mpirun)
        let probe = try? run.launch(ranks: 2, ["/bin/echo", "ok"])
        let said = probe?.finish() ?? ""
        guard probe?.process.terminationStatus == 0 else {
            print("skipped: data-parallel tests: mpirun -np 2 /bin/echo does not run here: \(said.prefix(300))")
            return nil
        }
        return run
    }()

    /// Runs `ntng pretrain` on `ranks` processes; returns the exit status and the output.
    func pretrain(ranks: Int, _ arguments: [String], perRank: [Int: [String]] = [:]) throws -> (Int32, String) {
        let job = try start(ranks: ranks, arguments, perRank: perRank)
        let text = job.finish()
        return (job.process.terminationStatus, text)
    }

    /// A started `mpirun`; `finish()` waits for it and returns its output.
    struct Job {
        let process: Process
        let output: Pipe

        func finish() -> String {
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return text
        }
    }

    /// The process of rank `rank` among `mpirun`'s children (by its OMPI_COMM_WORLD_RANK).
    static func rankProcess(_ rank: Int, under mpirun: Int32) -> Int32? {
        let children = (try? String(contentsOfFile: "/proc/\(mpirun)/task/\(mpirun)/children", encoding: .utf8)) ?? ""
        return children.split(separator: " ").compactMap { Int32($0) }.first { pid in
            let environment = FileManager.default.contents(atPath: "/proc/\(pid)/environ") ?? Data()
            return environment.split(separator: 0).contains { Array($0) == Array("OMPI_COMM_WORLD_RANK=\(rank)".utf8) }
        }
    }

    func start(ranks: Int, _ arguments: [String], perRank: [Int: [String]] = [:]) throws -> Job {
        try launch(ranks: ranks, [binary, "pretrain"] + arguments, perRank: perRank)
    }

    /// `mpirun` starting `command` on `ranks` ranks (`perRank` appends arguments for some ranks).
    func launch(ranks: Int, _ command: [String], perRank: [Int: [String]] = [:]) throws -> Job {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: mpirun)
        var args = ["--oversubscribe", "--bind-to", "none"]
        for r in 0..<ranks {
            if r > 0 { args.append(":") }
            args += ["-np", "1"] + command + (perRank[r] ?? [])
        }
        p.arguments = args
        var environment = ProcessInfo.processInfo.environment
        environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        environment["NTNG_THREADS"] = "1"
        p.environment = environment
        let output = Pipe()
        p.standardOutput = output
        p.standardError = output
        try p.run()
        return Job(process: p, output: output)
    }
}

@Suite("Data parallelism over MPI", .serialized)
struct DataParallelTests {
    /// One process unless Open MPI's mpirun started several; other launchers' siblings are refused.
    @Test func theLauncherDecidesTheRanks() throws {
        #expect(try OpenMPI.fromEnvironment([:]).size == 1)
        #expect(try OpenMPI.fromEnvironment(["OMPI_COMM_WORLD_SIZE": "1", "SLURM_STEP_NUM_TASKS": "1"]).size == 1)
        #expect(
            errorMessage { _ = try OpenMPI.fromEnvironment(["PMI_SIZE": "4"]) }.contains(
                "one of 4 processes (PMI_SIZE); data-parallel runs start under Open MPI's mpirun"))
        #expect(errorMessage { _ = try OpenMPI.fromEnvironment(["SLURM_STEP_NUM_TASKS": "2"]) }.contains("srun"))
    }

    /// Sums over 2 processes add the same numbers in another order: losses agree to this relative
    /// tolerance after a few steps of the tiny model, weights to ~1e-6.
    static let tolerance = 1e-5
    /// 4 micro-batches of 8 per step: 2 per rank.
    static let batch = "training.batch_size=32"

    static func close(_ a: [Double], _ b: [Double]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance * max(1, abs($0)) }
    }

    static func figures(_ run: String) throws -> (train: [Double], validation: [Double], end: RunEvent.End?) {
        let log = try MetricsLog.read(run + "/metrics.jsonl")
        return (log.trainLines.map(\.loss), log.validations.map(\.loss), log.end)
    }

    /// 2 ranks take the steps, charge the RST and reach the losses of 1 process, for the baseline and
    /// for each method (their draws and selections do not depend on the number of processes).
    @Test(arguments: [
        "", "stacking: {initial_blocks: 1, fractions: [0.3]}", "layer_drop: {theta_bar: 0.5, gamma: 2}",
        "optimizer: {name: sophia, hessian_interval: 2}", "batch_selection: {method: sb, beta: 1, history: 16}",
    ])
    func twoRanksTrainAsOneProcessDoes(method: String) throws {
        guard let mpi = MPIRun.available else { return }
        let tiny = try TinyRun(budgetSeconds: 16, extra: method)
        let single = try PretrainingRun(config: try tiny.config([Self.batch]))
        try single.train()
        let (status, output) = try mpi.pretrain(
            ranks: 2,
            ["--config", tiny.configPath, "--set", Self.batch, "--set", "run_directory=\(tiny.directory)/two"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("data parallel: 2 processes"), "\(output)")
        let one = try Self.figures(single.directory), two = try Self.figures(tiny.directory + "/two")
        #expect(one.end?.step == two.end?.step && one.end?.rstSeconds == two.end?.rstSeconds)
        #expect(one.end?.ledger == two.end?.ledger && one.end?.tokens == two.end?.tokens)
        #expect(Self.close(one.train, two.train), "\(one.train) vs \(two.train)")
        #expect(Self.close(one.validation, two.validation), "\(one.validation) vs \(two.validation)")
        #expect(!one.train.isEmpty && one.validation.count >= 3)
    }

    /// RHO-loss divides its selection forwards between the ranks and selects as one process does.
    @Test func rhoLossSelectsOnTwoRanksAsOneProcessDoes() throws {
        guard let mpi = MPIRun.available else { return }
        let tiny = try TinyRun(budgetSeconds: 16)
        let reserve = [Self.batch, "data.reserve_fraction=0.2"]
        var ilConfig = try tiny.config(reserve)
        ilConfig.runDirectory += "-il"
        let il = try PretrainingRun(config: ilConfig, irreducibleLossModel: true)
        try il.train()
        let losses = tiny.directory + "/il.safetensors"
        try IrreducibleLossExtraction.run(
            config: try tiny.config(reserve), modelCheckpoint: il.checkpointDirectory + "/model.safetensors",
            output: losses)
        let rho = reserve + ["batch_selection.method=rho", "batch_selection.il_losses=\(losses)"]
        let single = try PretrainingRun(config: try tiny.config(rho))
        try single.train()
        let (status, output) = try mpi.pretrain(
            ranks: 2,
            ["--config", tiny.configPath] + (rho + ["run_directory=\(tiny.directory)/two"]).flatMap { ["--set", $0] })
        #expect(status == 0, "\(output)")
        let one = try Self.figures(single.directory), two = try Self.figures(tiny.directory + "/two")
        #expect(one.end?.ledger == two.end?.ledger && one.end?.ledger[.selection].count ?? 0 > 0)
        #expect(Self.close(one.train, two.train) && Self.close(one.validation, two.validation))
    }

    /// A 2-rank run stopped and resumed equals the uninterrupted 2-rank run, bit for bit; a 2-rank
    /// checkpoint resumes on 1 process (within the tolerance).
    @Test func aResumedTwoRankRunEqualsAnUninterruptedOne() throws {
        guard let mpi = MPIRun.available else { return }
        let tiny = try TinyRun(budgetSeconds: 16)
        let base = ["--config", tiny.configPath, "--set", Self.batch]
        func run(_ directory: String, _ extra: [String]) throws {
            let (status, output) = try mpi.pretrain(ranks: 2, base + ["--set", "run_directory=\(directory)"] + extra)
            #expect(status == 0, "\(output)")
        }
        try run(tiny.directory + "/straight", [])
        try run(tiny.directory + "/resumed", ["--stop-after-steps", "2"])
        try run(tiny.directory + "/resumed", ["--resume"])
        let straight = try Self.figures(tiny.directory + "/straight")
        let resumed = try Self.figures(tiny.directory + "/resumed")
        #expect(straight.train == resumed.train && straight.validation == resumed.validation)
        #expect(
            straight.end
                == resumed.end.map {
                    var e = $0; e.wallSeconds = straight.end?.wallSeconds ?? 0; return e
                })

        // The 2-rank run's step-2 checkpoint, continued by 1 process.
        let stopped = tiny.directory + "/stopped"
        try run(stopped, ["--stop-after-steps", "2"])
        let continued = try PretrainingRun(
            config: try tiny.config([Self.batch, "run_directory=\(stopped)"]), resume: true)
        #expect(continued.state.step == 2)
        try continued.train()
        let one = try Self.figures(stopped)
        #expect(Self.close(one.train, straight.train) && Self.close(one.validation, straight.validation))
        #expect(one.end?.step == straight.end?.step && one.end?.ledger == straight.end?.ledger)
    }

    /// A rank killed mid-run stops the run (mpirun names the rank); rank 0's last checkpoint is intact
    /// and the run resumes from it on 2 ranks to the end.
    @Test func aDeadRankStopsTheRunAndItsCheckpointResumes() throws {
        guard let mpi = MPIRun.available else { return }
        let tiny = try TinyRun(budgetSeconds: 200)
        let run = tiny.directory + "/run"
        let arguments = [
            "--config", tiny.configPath, "--set", Self.batch, "--set", "training.checkpoint_every=8s", "--set",
            "training.log_every=10", "--set", "training.validate_every=100s",
        ]
        let job = try mpi.start(ranks: 2, arguments)
        while !FileManager.default.fileExists(atPath: run + "/checkpoint/state.json") && job.process.isRunning {
            usleep(20_000)
        }
        let killed = try #require(MPIRun.rankProcess(1, under: job.process.processIdentifier))
        kill(killed, SIGKILL)
        let said = job.finish()
        #expect(job.process.terminationStatus != 0)
        #expect(said.contains("rank 1"), "\(said)")
        let (status, output) = try mpi.pretrain(ranks: 2, arguments + ["--resume"])
        #expect(status == 0 && output.contains("resumed at step"), "\(output)")
        #expect(try MetricsLog.read(run + "/metrics.jsonl").end?.rstSeconds == 200)
    }

    /// Bad starts stop with one line naming the problem: ranks with different configs, a batch whose
    /// micro-batches do not divide over the ranks; other commands refuse to run under mpirun.
    @Test func badStartsStopWithOneLine() throws {
        guard let mpi = MPIRun.available else { return }
        let tiny = try TinyRun()
        let base = ["--config", tiny.configPath, "--set", Self.batch]
        let (differ, said) = try mpi.pretrain(ranks: 2, base, perRank: [1: ["--set", "training.learning_rate=1e-3"]])
        #expect(differ != 0 && said.contains("rank 1 was started with another config than rank 0"), "\(said)")
        let (uneven, told) = try mpi.pretrain(ranks: 3, base)
        #expect(uneven != 0 && told.contains("4 micro-batches per step do not divide over 3 processes"), "\(told)")
    }
}
