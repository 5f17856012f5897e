import Foundation

/// Runs an experiment's cells (`ntng compare`): each (method, budget, seed) is a pre-training run in
/// its own directory, followed by its downstream scores when the experiment asks for them. Finished
/// cells are skipped, so an interrupted experiment resumes where it stopped; a cell interrupted
/// after a checkpoint resumes from it. RHO-loss cells share one irreducible-loss model, trained
/// (uncharged) on the held-out rows and extracted once, in `<output>/il/`.
public struct ExperimentRunner: Sendable {
    public let experiment: ExperimentConfig

    public init(_ experiment: ExperimentConfig) { self.experiment = experiment }

    /// What running a cell means: by default a `PretrainingRun` in this process; `ntng compare
    /// --parallel` passes an executor that starts `ntng pretrain` processes instead.
    /// `overrides` turn the base config into the cell's config.
    public typealias Executor =
        @Sendable (_ cell: ExperimentCell, _ baseConfig: String, _ overrides: [String], _ resume: Bool) throws -> Void

    public static let inProcess: Executor = { _, base, overrides, resume in
        try PretrainingRun(
            config: try PretrainingConfig.load(path: base, overrides: overrides), resume: resume, overwrite: !resume
        ).train()
    }

    /// The downstream reports a finished cell holds (GLUE's, SNI's).
    public var downstreamReports: [String] {
        (experiment.glue != nil ? [ExperimentReport.glueReport] : [])
            + (experiment.sni != nil ? [ExperimentReport.sniReport] : [])
    }

    /// The cell's full config.
    public func config(for cell: ExperimentCell, extra: [String] = []) throws -> PretrainingConfig {
        try PretrainingConfig.load(
            path: experiment.baseConfig, overrides: cell.overrides(common: experiment.common, extra: extra))
    }

    /// Cells not finished yet.
    public var pendingCells: [ExperimentCell] { experiment.cells.filter { !$0.isFinished(needing: downstreamReports) } }

    /// Runs every pending cell (in order, or `parallel` at a time through `executor`), then its
    /// downstream evaluation; returns the cells that ran.
    @discardableResult
    public func run(
        executor: @escaping Executor = ExperimentRunner.inProcess,
        progress: @escaping @Sendable (String) -> Void = { _ in }
    ) throws -> [ExperimentCell] {
        try OwnedFolder(experiment.output, kind: .experiment).open()
        try checkStoredConfigs()
        let pending = pendingCells
        progress(
            "experiment \(experiment.name): \(experiment.cells.count) cells, "
                + "\(experiment.cells.count - pending.count) already finished"
        )
        try prepareIrreducibleLosses(for: pending, progress: progress)
        nonisolated(unsafe) var failures: [String] = []
        let lock = NSLock()
        let work = pending.map { cell -> @Sendable () -> Void in
            {
                do {
                    try self.run(cell, executor: executor, progress: progress)
                } catch {
                    lock.lock(); failures.append("\(cell.label): \(error)"); lock.unlock()
                    progress("cell \(cell.label) failed: \(error)")
                }
            }
        }
        if experiment.parallel <= 1 {
            for w in work { w() }
        } else {
            let queue = OperationQueue()
            queue.maxConcurrentOperationCount = experiment.parallel
            for w in work { queue.addOperation { w() } }
            queue.waitUntilAllOperationsAreFinished()
        }
        if !failures.isEmpty {
            throw InputError("\(failures.count) cell(s) failed: " + failures.joined(separator: "; "))
        }
        return pending
    }

    /// Runs one cell: its pre-training (resumed from a checkpoint, or skipped when it ended), then its
    /// downstream evaluation. Its RHO-loss IL losses must exist (`prepareIrreducibleLosses`).
    public func run(
        _ cell: ExperimentCell, executor: Executor = ExperimentRunner.inProcess,
        progress: @escaping @Sendable (String) -> Void = { _ in }
    ) throws {
        try OwnedFolder(experiment.output, kind: .experiment).open()
        let extra = try extraOverrides(for: cell)
        if !ExperimentCell.runEnded(cell.directory) {
            let resume = FileManager.default.fileExists(atPath: cell.directory + "/checkpoint/state.json")
            progress("cell \(cell.label): \(resume ? "resuming" : "starting")")
            try executor(cell, experiment.baseConfig, cell.overrides(common: experiment.common, extra: extra), resume)
        }
        if let glue = experiment.glue { try evaluate(cell, glue, progress: progress) }
        if let sni = experiment.sni { try evaluate(cell, sni, progress: progress) }
        progress("cell \(cell.label): done")
    }

    /// Whether the cell reads the shared IL model's losses (a RHO-loss cell that names none itself).
    public func needsIrreducibleLosses(_ cell: ExperimentCell) throws -> Bool { try !extraOverrides(for: cell).isEmpty }

    /// The shared IL model's run directory.
    var irreducibleLossDirectory: String { experiment.irreducibleLossDirectory }

    /// The shared IL model's per-row losses, read by every RHO cell that names none itself.
    public var irreducibleLosses: String { irreducibleLossDirectory + "/il_losses.safetensors" }

    /// Overrides a cell gets beyond its method's: RHO cells that name no IL losses read the shared ones.
    func extraOverrides(for cell: ExperimentCell) throws -> [String] {
        let rho = try config(for: cell).methods.settings(RhoLoss.Settings.self)
        return rho != nil && rho?.ilLosses == nil ? ["batch_selection.il_losses=\(irreducibleLosses)"] : []
    }

    /// The IL model's config: the base config with the common overrides, trained on the held-out rows.
    func irreducibleLossModelConfig() throws -> PretrainingConfig {
        var config = try PretrainingConfig.load(
            path: experiment.baseConfig,
            overrides: experiment.common + [
                "training.budget=\(experiment.irreducibleLossBudget.seconds)", "training.seed=0",
                "run_directory=\(irreducibleLossDirectory)", "name=\(experiment.name)-il",
            ])
        config.methods = config.methods.withoutDataSelection
        return config
    }

    /// Every run already started (a finished cell that would be skipped, a cell that would resume, the
    /// IL model) must have been started with the config the experiment gives it now; otherwise its
    /// result would be reported under settings it never ran with. Throws naming each such run and
    /// the settings that differ.
    public func checkStoredConfigs() throws {
        func started(_ directory: String) -> Bool { FileManager.default.fileExists(atPath: directory + "/config.json") }
        var runs = try experiment.cells.filter { started($0.directory) }.map {
            (label: $0.label, directory: $0.directory, config: try config(for: $0, extra: try extraOverrides(for: $0)))
        }
        if try started(irreducibleLossDirectory)
            && experiment.cells.contains(where: { try !extraOverrides(for: $0).isEmpty })
        {
            runs.append(
                (label: "the IL model", directory: irreducibleLossDirectory, config: try irreducibleLossModelConfig()))
        }
        var problems: [String] = []
        for run in runs {
            let differences = try run.config.differences(fromStoredAt: run.directory + "/config.json")
            if !differences.isEmpty {
                problems.append(
                    "\(run.label) in \(run.directory): " + differences.prefix(4).joined(separator: "; ")
                        + (differences.count > 4 ? "; and \(differences.count - 4) more" : ""))
            }
        }
        guard problems.isEmpty else {
            throw InputError(
                experiment.source,
                "\(problems.count) run(s) already in \(experiment.output) were started with other settings "
                    + "than the experiment now gives them; delete those run directories or choose another output:\n  "
                    + problems.joined(separator: "\n  "))
        }
    }

    /// Trains the shared IL model and extracts its losses if a pending RHO cell needs them.
    public func prepareIrreducibleLosses(
        for cells: [ExperimentCell], progress: @escaping @Sendable (String) -> Void
    ) throws {
        guard let cell = try cells.first(where: { try !extraOverrides(for: $0).isEmpty }) else { return }
        try OwnedFolder(experiment.output, kind: .experiment).open()
        let dir = irreducibleLossDirectory
        let losses = irreducibleLosses
        if FileManager.default.fileExists(atPath: losses) { return }
        let config = try irreducibleLossModelConfig()
        progress("training the irreducible-loss model for RHO-loss in \(dir)")
        let resume = FileManager.default.fileExists(atPath: dir + "/checkpoint/state.json")
        let run = try PretrainingRun(config: config, resume: resume, overwrite: !resume, irreducibleLossModel: true) {
            progress("IL: \($0)")
        }
        if !ExperimentCell.runEnded(dir) {
            try run.train()
        }
        // The target rows as a RHO cell reads them; its selection section is not needed to extract.
        var target = try self.config(for: cell, extra: try extraOverrides(for: cell))
        target.methods = target.methods.withoutDataSelection
        try IrreducibleLossExtraction.run(
            config: target, modelCheckpoint: dir + "/checkpoint/model.safetensors", output: losses
        ) { progress("IL: \($0)") }
    }

    /// Fine-tunes a T5 cell on SNI and scores it (skipped when its report exists).
    func evaluate(_ cell: ExperimentCell, _ sni: ExperimentConfig.SNIDownstream, progress: (String) -> Void) throws {
        let report = cell.directory + "/" + ExperimentReport.sniReport
        if FileManager.default.fileExists(atPath: report) { return }
        let checkpoint = try PretrainedCheckpoint<T5Config>.load(
            run: cell.directory, purpose: "the experiment's sni: section (it fine-tunes a T5)")
        let directory = (report as NSString).deletingLastPathComponent
        try OwnedFolder(directory, kind: .fineTuning).open()
        let outcome = try SNIEvaluation.run(
            checkpoint, data: SNIData(root: sni.dataDirectory), recipe: sni.recipe, seed: sni.seed,
            randomInitialisation: false
        ) { progress("\(cell.label): \($0)") }
        try SNIEvaluation.write(outcome, to: directory)
    }

    func evaluate(_ cell: ExperimentCell, _ glue: ExperimentConfig.Downstream, progress: (String) -> Void) throws {
        let path = cell.directory + "/" + ExperimentReport.glueReport
        if FileManager.default.fileExists(atPath: path) { return }
        let checkpoint = try PretrainedCheckpoint<CrammedBERTConfig>.load(run: cell.directory)
        // A cell that reproduces the original code is fine-tuned as the original code fine-tunes.
        let reproduce = try config(for: cell).reproduce
        let firstTwo = FineTuningRecipe.paper(.superglue, reproduce: reproduce).firstTwoFieldsOnly
        let all = GLUE.tasks + SuperGLUE.tasks(keepFirstTwoFieldsOnly: firstTwo)
        let tasks = try glue.tasks.map { name -> DownstreamTask in
            guard let t = all.first(where: { $0.name.lowercased() == name.lowercased() })
            else {
                throw InputError(experiment.source, "glue.tasks: no task '\(name)'")
            }
            return glue.maxTrainExamples.map { t.limitingTraining(to: $0) } ?? t
        }
        let report = try DownstreamEvaluation.run(
            checkpoint, tasks: tasks, dataDirectory: glue.dataDirectory, seeds: glue.seeds,
            randomInitialisation: false,
            recipe: { suite in
                var r = FineTuningRecipe.paper(suite, reproduce: reproduce)
                if let e = glue.epochs { r.epochs = e }
                return r
            }
        ) { progress("\(cell.label): \($0)") }
        try JSONCoding.write(report, to: path)
    }
}
