import Engine
import Foundation

/// One pre-training run under an RST budget (paper §2): crammed BERT with masked LM, or T5 with
/// span corruption — the same loop, clock, ledger and checkpoints for every model kind, optimiser
/// and method:
///
///     until the budget is used up:
///         methods act (stacking events, drop draws); the optimiser acts (Sophia's Hessian pass)
///         a method chooses the step's sequences (selective backprop, RHO-loss), or the next rows
///         for each micro-batch:
///             forward, backward (loss / accumulation steps); charge t_fb[active blocks] RST
///         clip the gradient norm; optimiser step with lr = peak · schedule(consumed / budget)
///         validate / checkpoint when their RST cadence is crossed (neither is charged)
///
/// The loop knows the plug-ins only by their protocols (`ModelKind`, `OptimizerSettings`,
/// `TrainingMethod`), each of which charges its own extra passes and keeps its own state. Every
/// schedule reads the RST clock only, so the same config always takes the same number of steps.
/// `--resume` restores weights, moments, counters, data position, budget and plug-in state from the
/// last checkpoint and continues exactly as the uninterrupted run would.
public final class PretrainingRun {
    public let config: PretrainingConfig
    public let directory: String
    public let tokenizer: Tokenizer
    public let dataset: PackedDataset
    public let split: DataSplit
    /// The validation rows: held-out rows of `dataset`, or the first rows of the validation corpus.
    public let validationSet: (dataset: PackedDataset, rows: [Int])
    public let model: any PretrainingModel
    public let arena: ParameterArena
    public let optimizer: ArenaOptimizer
    public let costModel: CostModel
    /// Efficient-training methods in the order they act (empty for the baseline).
    public let methods: [any TrainingMethod]
    public internal(set) var state: TrainingState
    /// The step of the last checkpoint written or resumed from (nil: none yet).
    public internal(set) var lastCheckpointStep: Int?
    /// How checkpoints reach the disk (tests swap in a failing one).
    var checkpointStorage = DurableStorage.disk
    /// Held while this run object lives: no other process trains in the folder meanwhile (rank 0's).
    let lock: RunLock?
    /// The processes training this run (data parallelism); one by default.
    public let communicator: any Communicator
    /// Masked LM (BERT) or span corruption (T5).
    let objective: any PretrainingObjective
    /// The run's log (rank 0 writes it).
    let log: MetricsLog?
    let progress: (String) -> Void

    public var checkpointDirectory: String { directory + "/checkpoint" }

    /// The plug-ins with state of their own (saved in checkpoints, logged on training lines).
    var plugins: [any RunPlugin] { [optimizer] + methods }

    /// With `irreducibleLossModel`, the run trains an IL model for RHO-loss: on the held-out rows
    /// (`data.reserve_fraction`) instead of the training rows, without batch selection. With several
    /// processes (`communicator`), rank 0 prepares the folder and the data cache first, the others
    /// then read them; rank 0 alone prints, logs and checkpoints.
    public init(
        config: PretrainingConfig, resume: Bool = false, overwrite: Bool = false, irreducibleLossModel: Bool = false,
        communicator: any Communicator = SingleProcess(), progress: @escaping (String) -> Void = { _ in }
    ) throws {
        self.config = config
        self.communicator = communicator
        self.progress = communicator.isRoot ? progress : { _ in }
        directory = config.runDirectory
        try communicator.requireSameRun(config)
        lock =
            communicator.isRoot
            ? try PretrainingRun.prepareDirectory(directory, resume: resume, overwrite: overwrite, progress: progress)
            : nil
        costModel = try config.training.costModel.load()
        guard costModel.maxLayers >= config.model.layers else {
            throw InputError(
                "training.cost_model (\(config.training.costModel)) covers 1…\(costModel.maxLayers) layers, "
                    + "the model has \(config.model.layers)")
        }
        if !communicator.isRoot { communicator.barrier() }
        let data = try PretrainingData.prepare(config, progress: self.progress)
        if communicator.isRoot { communicator.barrier() }
        tokenizer = data.tokenizer
        dataset = data.dataset
        let fullSplit = try config.split(rows: dataset.count)
        validationSet =
            data.validationDataset.map { ($0, Array(0..<min($0.count, config.data.validationMaxSequences))) }
            ?? (dataset, fullSplit.validation)
        split = irreducibleLossModel ? try fullSplit.trainingOnReserved() : fullSplit
        objective = try config.makeObjective(tokenizer: tokenizer)
        model = config.model.make(seed: SeedStream.modelInitialisation.seed(config.training.seed))
        arena = ParameterArena(model.parameters)
        optimizer = config.optimizer.make(
            arena, batchTokens: config.training.batchSize * config.data.sequenceLength)
        if communicator.isRoot { try tokenizer.save(directory + "/tokenizer.json") }
        let methodSettings = irreducibleLossModel ? config.methods.withoutDataSelection : config.methods
        let setup = MethodSetup(model: config.model, costModel: costModel, datasetRows: dataset.count)
        methods = try methodSettings.all.map { try $0.make(setup) }
        for m in methods { m.prepare(optimizer: optimizer) }
        state =
            resume
            ? try PretrainingRun.restore(
                from: directory + "/checkpoint", config: config, model: model, optimizer: optimizer,
                plugins: [optimizer] + methods)
            : PretrainingRun.initialState(config, costModel: costModel, optimizer: optimizer)
        if !resume && communicator.isRoot { try JSONCoding.write(config, to: directory + "/config.json") }
        log =
            communicator.isRoot
            ? try MetricsLog(
                path: directory + "/metrics.jsonl", keepThroughStep: resume ? state.step : nil,
                tensorBoard: directory + "/" + TensorBoardLog.folderName) : nil
        lastCheckpointStep = resume ? state.step : nil
        if resume {
            progress(
                "resumed at step \(state.step), "
                    + "\(format(state.budget.consumed)) of \(format(state.budget.total)) RST used"
            )
        } else {
            try log?.write(.start(try startEvent(data, methodSettings, irreducibleLossModel: irreducibleLossModel)))
        }
        try announce(data, methodSettings, irreducibleLossModel: irreducibleLossModel)
    }

    /// A new run needs a folder of its own: a new or empty one, or — with `overwrite` — one of an
    /// earlier run, whose ntng files are deleted (anything else in it stays); a resumed run needs a
    /// run folder with a complete checkpoint (`Checkpointer.recover`). The folder is locked for this
    /// process before anything in it changes. See `OwnedFolder` for the folders ntng never touches.
    static func prepareDirectory(
        _ directory: String, resume: Bool, overwrite: Bool, progress: (String) -> Void
    ) throws -> RunLock {
        let folder = OwnedFolder(directory, kind: .run)
        if resume {
            guard folder.isOwned else {
                throw InputError(
                    directory, "is not a run of ntng (no \(OwnedFolder.markerName) marker); nothing to resume")
            }
            try folder.refuseProtected()
            let lock = try RunLock(run: directory)
            if let note = try Checkpointer.recover(run: directory) { progress(note) }
            return lock
        }
        guard folder.isOwned else {
            try folder.open()
            return try RunLock(run: directory)
        }
        guard overwrite else {
            throw InputError(
                "run directory \(directory) already holds a run: "
                    + "pass --resume to continue it or --overwrite to start again")
        }
        try folder.refuseProtected()
        let lock = try RunLock(run: directory)
        let kept = try folder.empty()
        if !kept.isEmpty {
            progress("kept in \(directory), as ntng did not write them: \(kept.joined(separator: ", "))")
        }
        return lock
    }

    static func initialState(
        _ config: PretrainingConfig, costModel: CostModel, optimizer: ArenaOptimizer
    )
        -> TrainingState
    {
        var state = TrainingState(budget: Budget(total: config.training.budget))
        state.costModelSource = costModel.source
        state.parameterSteps = optimizer.steps
        let budget = config.training.budget.seconds
        state.nextValidation = config.training.validateEvery.map { $0.seconds / budget } ?? .infinity
        state.nextCheckpoint = config.training.checkpointEvery.map { $0.seconds / budget } ?? .infinity
        return state
    }

    /// The checkpoint's state, with the weights, moments and every plug-in's state restored.
    static func restore(
        from checkpoint: String, config: PretrainingConfig, model: any PretrainingModel, optimizer: ArenaOptimizer,
        plugins: [any RunPlugin]
    ) throws -> TrainingState {
        let state = try Checkpointer.load(from: checkpoint, model: model, optimizer: optimizer)
        let tensors = try Checkpointer.loadPluginTensors(from: checkpoint)
        for p in plugins { try p.restore(values: state.plugins[p.pluginName], tensors: tensors) }
        guard state.budget.total == config.training.budget else {
            throw InputError(
                "the checkpoint's budget is \(state.budget.total), the config's \(config.training.budget); "
                    + "resume with the same budget")
        }
        return state
    }

    func startEvent(
        _ data: PretrainingData, _ methods: MethodConfigs, irreducibleLossModel: Bool
    ) throws
        -> RunEvent.Start
    {
        RunEvent.Start(
            reproduce: config.reproduce, parameters: arena.parameters.scalarCount, model: config.model.summary,
            rowLength: dataset.sequenceLength,
            trainRows: split.training.count, validationRows: validationSet.rows.count, costModel: costModel.source,
            tokenizer: data.tokenizerSource, budgetRstSeconds: config.training.budget.seconds,
            optimizer: .init(name: config.optimizer.name, settings: try JSONValue(encoding: config.optimizer)),
            optimizerMissingGradient: optimizer.missingGradient,
            methods: try methods.all.map { .init(name: type(of: $0).name, settings: try JSONValue(encoding: $0)) },
            irreducibleLossModel: irreducibleLossModel)
    }

    /// What the run is, on the console.
    func announce(_ data: PretrainingData, _ methods: MethodConfigs, irreducibleLossModel: Bool) throws {
        progress(
            "model: \(config.model.summary), \(arena.parameters.scalarCount) parameters; data: "
                + "\(split.training.count) training rows, \(validationSet.rows.count) validation rows"
                + (data.validationDataset == nil ? "" : " (validation corpus)"))
        progress("budget: \(format(config.training.budget)) RST, cost model: \(costModel.source)")
        if config.reproduce == .originalCode {
            progress("reproduce: original-code — the original code's quirks are the defaults (README: the table)")
        }
        if irreducibleLossModel {
            progress("training the irreducible-loss model on \(split.training.count) held-out rows")
        }
        for m in methods.all { progress("method: \(type(of: m).name) \(try JSONValue(encoding: m).settingsLine)") }
        var optimizerSettings = try JSONValue(encoding: config.optimizer).object ?? [:]
        optimizerSettings["name"] = nil
        optimizerSettings["missing_gradient"] = .string(optimizer.missingGradient.rawValue)
        progress(
            "optimizer: \(config.optimizer.name), peak lr \(config.training.learningRate) "
                + "(\(config.learningRateOrigin)), \(JSONValue.object(optimizerSettings).settingsLine)")
    }

    var accumulation: Int { config.training.accumulation }

    /// Training micro-batches draw from the run's stream in order; the corruption of each is seeded
    /// by its index.
    func nextMicroBatch() -> PretrainingBatch {
        let micro = config.training.microBatchSize
        let indices = split.trainingRows(state.dataPosition..<(state.dataPosition + micro))
        state.dataPosition += micro
        var g = SeedStream.trainingMasks.generator(config.training.seed, state.microBatches)
        state.microBatches += 1
        return objective.batch(
            dataset.rows(indices), rowLength: dataset.sequenceLength, exampleIndices: indices, generator: &g)
    }
}

extension PretrainingRun: TrainerContext {
    public var microBatchSize: Int { config.training.microBatchSize }
    public var batchSize: Int { config.training.batchSize }
    public var seed: UInt64 { config.training.seed }
    public var step: Int { state.step }
    public var microBatchesDrawn: Int { state.microBatches }
    public var gradientClip: Double { config.training.gradientClip }

    /// The blocks validation (and Sophia's Hessian pass) run: every active block.
    public var evaluationBlocks: [Int]? { methods.reduce(nil as [Int]?) { $1.evaluationBlocks(chosen: $0) } }

    public func drawMicroBatch() -> PretrainingBatch { nextMicroBatch() }

    public func scoreSequences(_ batch: PretrainingBatch) -> [Float] {
        withoutGradients { model.loss(batch, activeBlocks: evaluationBlocks).sequenceLosses }
    }

    public func scoreSequences(_ batches: [PretrainingBatch]) -> [[Float]] {
        let starts = batches.reduce(into: [0]) { $0.append($0.last! + $1.batchSize) }
        var scores = [Double](repeating: 0, count: starts.last!)
        for (k, batch) in batches.enumerated() where communicator.owns(k) {
            for (i, s) in scoreSequences(batch).enumerated() { scores[starts[k] + i] = Double(s) }
        }
        communicator.sum(&scores)
        return batches.indices.map { k in scores[starts[k]..<starts[k + 1]].map { Float($0) } }
    }

    public func chargeSelectionForward(sequences: Int, free: Bool) {
        charge(.selection, costModel.forward(sequences: sequences), free: free)
    }

    public func charge(_ kind: Ledger.Kind, _ cost: RST, free: Bool) { state.charge(kind, cost, free: free) }
}

extension JSONValue {
    /// An object's members as "key=value, …" for a console line.
    var settingsLine: String {
        guard let object else { return "" }
        return object.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.compactText)" }.joined(separator: ", ")
    }

    var compactText: String {
        switch self {
        case .null: "null"
        case .bool(let b): "\(b)"
        case .number(let x): x == x.rounded() && abs(x) < 1e15 ? "\(Int(x))" : "\(x)"
        case .string(let s): s
        case .array(let a): "[" + a.map(\.compactText).joined(separator: ", ") + "]"
        case .object: "{" + settingsLine + "}"
        }
    }
}
