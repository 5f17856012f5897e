import Engine
import Foundation

/// One pre-training run under an RST budget (spec §1, §7): crammed BERT with masked LM, or T5
/// with span corruption — the same loop, clock, ledger and checkpoints for both:
///
///     until the budget is used up:
///         for each of batch/micro micro-batches:
///             draw the next rows, corrupt them (seeded by the micro-batch index)
///             forward, backward (loss / accumulation steps); charge t_fb[active layers] RST
///         clip the gradient norm; optimiser step with lr = peak · schedule(consumed / budget)
///         validate / checkpoint when their RST cadence is crossed (neither is charged)
///
/// Every schedule reads the RST clock only, so the same config always takes the same number of
/// steps. `--resume` restores weights, moments, counters, data position and budget from the last
/// checkpoint and continues exactly as the uninterrupted run would.
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
    public let methods: [TrainingMethod]
    /// Selective backprop or RHO-loss, if configured.
    public let selection: BatchSelection?
    public internal(set) var state: TrainingState
    /// Masked LM (BERT) or span corruption (T5).
    let objective: any PretrainingObjective
    let log: MetricsLog
    let progress: (String) -> Void

    public var checkpointDirectory: String { directory + "/checkpoint" }

    /// With `irreducibleLossModel`, the run trains an IL model for RHO-loss: on the held-out rows
    /// (`data.reserve_fraction`) instead of the training rows, without batch selection.
    public init(
        config: PretrainingConfig, resume: Bool = false, overwrite: Bool = false, irreducibleLossModel: Bool = false,
        progress: @escaping (String) -> Void = { _ in }
    ) throws {
        self.config = config
        self.progress = progress
        directory = config.runDirectory
        let fm = FileManager.default
        if fm.fileExists(atPath: directory) && !resume {
            guard overwrite else {
                throw ConfigError(
                    "run directory \(directory) already exists: pass --resume to continue it or --overwrite to start again"
                )
            }
            try fm.removeItem(atPath: directory)
        }
        if resume && !fm.fileExists(atPath: directory + "/checkpoint/state.json") {
            throw ConfigError("nothing to resume: \(directory)/checkpoint has no checkpoint")
        }
        try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)

        costModel = try CostModel.named(config.training.costModel)
        guard costModel.maxLayers >= config.model.layers else {
            throw ConfigError(
                "training.cost_model (\(config.training.costModel)) covers 1…\(costModel.maxLayers) layers, the model has \(config.model.layers)"
            )
        }
        let data = try PretrainingData.prepare(config, progress: progress)
        tokenizer = data.tokenizer
        dataset = data.dataset
        let fullSplit = try config.split(rows: dataset.count)
        validationSet =
            data.validationDataset.map { v in (v, Array(0..<min(v.count, config.data.validationMaximumSequences))) }
            ?? (dataset, fullSplit.validation)
        split = irreducibleLossModel ? try fullSplit.trainingOnReserved() : fullSplit
        objective = try config.objective(tokenizer: tokenizer)
        model = config.model.make(seed: config.training.seed)
        arena = ParameterArena(model.parameters)
        optimizer = config.optimizer.make(arena, batchTokens: config.training.batchSize * config.data.sequenceLength)
        try tokenizer.save(directory + "/tokenizer.json")
        var methods: [TrainingMethod] = []
        if let st = config.stacking {
            methods.append(LayerStacking(initialBlocks: st.initialBlocks, fractions: st.fractions))
        }
        if let ld = config.layerDrop {
            methods.append(LayerDropping(minimumTheta: ld.thetaBar, gamma: ld.gamma, perStep: ld.perStep))
            optimizer.missingGradient = ld.droppedBlocks
        }
        self.methods = methods
        if config.batchSelection != nil && !irreducibleLossModel && costModel.forwardOnly == nil {
            throw ConfigError(
                "batch_selection needs a forward-only cost, which \(config.training.costModel) lacks; calibrate one with `ntng calibrate`"
            )
        }
        switch irreducibleLossModel ? nil : config.batchSelection {
        case .none: selection = nil
        case .some(let c) where c.method == .sb: selection = SelectiveBackprop(beta: c.beta, historySize: c.history)
        case .some(let c):
            selection = RhoLoss(
                megaBatchMultiple: c.megaBatch,
                irreducible: try IrreducibleLosses.load(c.ilLosses!, rows: dataset.count))
        }

        var initial = TrainingState(budget: Budget(total: config.training.budget))
        initial.costModelSource = costModel.source
        initial.parameterSteps = optimizer.steps
        initial.nextValidation =
            config.training.validateEvery.map { $0.seconds / config.training.budget.seconds } ?? .infinity
        initial.nextCheckpoint =
            config.training.checkpointEvery.map { $0.seconds / config.training.budget.seconds } ?? .infinity
        if resume {
            state = try Checkpointer.load(from: directory + "/checkpoint", model: model, optimizer: optimizer)
            if let selection {
                try selection.restoreState(try Checkpointer.loadMethodState(from: directory + "/checkpoint"))
            }
            (optimizer as? Sophia)?.restoreCurvatureUpdates(state.curvatureUpdates)
            if let stacking = methods.first(where: { $0 is LayerStacking }) as? LayerStacking,
                let n = state.stackedBlocks
            {
                stacking.restore(activeCount: n)
            }
            guard state.budget.total == config.training.budget else {
                throw ConfigError(
                    "the checkpoint's budget is \(state.budget.total), the config's \(config.training.budget); resume with the same budget"
                )
            }
            progress(
                "resumed at step \(state.step), \(format(state.budget.consumed)) of \(format(state.budget.total)) RST used"
            )
        } else {
            state = initial
        }
        log = try MetricsLog(path: directory + "/metrics.jsonl", keepThroughStep: resume ? state.step : nil)
        if !resume {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try encoder.encode(config).write(to: URL(fileURLWithPath: directory + "/config.json"))
            var start: [String: Any] = [
                "step": 0, "parameters": arena.parameters.scalarCount, "model": config.model.summary,
                "row_length": dataset.sequenceLength, "train_rows": split.training.count,
                "validation_rows": validationSet.rows.count, "cost_model": costModel.source,
                "tokenizer": data.tokenizerSource, "budget_rst_seconds": config.training.budget.seconds,
                "optimizer": optimizer.name, "missing_gradient": config.optimizer.missingGradient.rawValue,
                "rms_scaled_lr": config.optimizer.rmsScaledLearningRate,
            ]
            if optimizer is Sophia {
                start["hessian_labels"] = config.optimizer.hessianLabels.rawValue
                start["free_hessian"] = config.optimizer.freeHessian
            }
            start["methods"] =
                methods.map { ["name": $0.name, "settings": $0.description] as [String: Any] }
                + (selection.map {
                    [
                        [
                            "name": $0.name, "settings": $0.description,
                            "free_selection": config.batchSelection!.freeSelection,
                        ]
                    ]
                } ?? [])
            start["irreducible_loss_model"] = irreducibleLossModel
            start["optimizer_missing_gradient"] = optimizer.missingGradient.rawValue
            log.write("start", start)
        }
        progress(
            "model: \(config.model.summary), \(arena.parameters.scalarCount) parameters; data: \(split.training.count) training rows, \(validationSet.rows.count) validation rows\(data.validationDataset == nil ? "" : " (validation corpus)")"
        )
        progress("budget: \(format(config.training.budget)) RST, cost model: \(costModel.source)")
        if let s = selection {
            progress(
                "batch selection: \(s.name) \(s.description.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", "))\(config.batchSelection!.freeSelection ? ", selection not charged" : "")"
            )
        }
        if irreducibleLossModel {
            progress("training the irreducible-loss model on \(split.training.count) held-out rows")
        }
        for m in methods {
            progress(
                "method: \(m.name) \(m.description.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", "))"
            )
        }
        progress(
            "optimizer: \(optimizer.name)"
                + (optimizer is Sophia
                    ? " (Hessian every \(config.optimizer.hessianInterval) steps on \(config.optimizer.hessianMicroBatches) fresh micro-batches, labels from \(config.optimizer.hessianLabels.rawValue)\(config.optimizer.freeHessian ? ", not charged" : ""))"
                    : ""))
    }

    var accumulation: Int { config.training.batchSize / config.training.microBatchSize }

    func methodContext() -> MethodContext {
        MethodContext(
            model: model, optimizer: optimizer, progress: state.budget.progress, step: state.step,
            seed: config.training.seed
        ) { [log, progress] line, fields in
            var f = fields
            f["rst_seconds"] = self.state.budget.consumed.seconds
            log.write(fields["event"] as? String ?? "method", f)
            progress(line)
        }
    }

    /// The blocks the methods choose for training micro-batch `index` (nil = every block).
    func trainingBlocks(microBatch index: Int) -> [Int]? {
        let context = methodContext()
        return methods.reduce(nil as [Int]?) { $1.blocks(forMicroBatch: index, chosen: $0, context: context) }
    }

    /// The blocks validation (and Sophia's Hessian pass) run: every active block.
    var evaluationBlocks: [Int]? { methods.reduce(nil as [Int]?) { $1.evaluationBlocks(chosen: $0) } }

    /// Validation loss — the plain mean of micro-batch losses over the validation rows — and token
    /// accuracy (correct predictions / predicted tokens). Corruption comes from a fixed seed, so
    /// every evaluation of a run, and of every method, sees the same inputs.
    public func validationMetrics() -> (loss: Double, accuracy: Double) {
        let micro = config.training.microBatchSize
        var losses: [Double] = [], correct = 0, predicted = 0
        var g = SeededGenerator(seed: 0x5EED_0F_7A11D)
        var start = 0
        let (rows, validation) = validationSet
        while start < validation.count {
            let indices = Array(validation[start..<min(start + micro, validation.count)])
            let batch = objective.batch(
                rows.rows(indices), rowLength: rows.sequenceLength, exampleIndices: indices, generator: &g)
            if batch.labels.contains(where: { $0 != PretrainingBatch.ignoreLabel }) {
                withoutGradients {
                    let p = model.predictions(batch, activeBlocks: evaluationBlocks)
                    let out = p.loss(batchSize: batch.batchSize)
                    losses.append(Double(out.loss.item()))
                    correct += p.correctCount()
                    predicted += out.predictedTokens
                }
            }
            start += micro
        }
        return (
            losses.isEmpty ? .nan : losses.reduce(0, +) / Double(losses.count),
            predicted > 0 ? Double(correct) / Double(predicted) : .nan
        )
    }

    /// The next micro-batch of training rows, corrupted with a generator seeded by its index.
    func nextMicroBatch() -> PretrainingBatch {
        let micro = config.training.microBatchSize
        let indices = split.trainingRows(state.dataPosition..<(state.dataPosition + micro))
        state.dataPosition += micro
        var g = SeededGenerator(seed: config.training.seed &+ UInt64(state.microBatches) &* 0x9E37_79B9_7F4A_7C15 &+ 1)
        state.microBatches += 1
        return objective.batch(
            dataset.rows(indices), rowLength: dataset.sequenceLength, exampleIndices: indices, generator: &g)
    }

    public struct Summary: Sendable {
        public var steps: Int
        public var rstUsed: RST
        public var finalValidationLoss: Double?
        public var finalValidationAccuracy: Double?
        public var tokensPerSecond: Double
        public var stoppedEarly: Bool
    }

    /// Trains until the budget is used (or `stopAfterSteps` steps, leaving a checkpoint to resume).
    @discardableResult
    public func train(stopAfterSteps: Int? = nil) throws -> Summary {
        let clock = ContinuousClock()
        var windowStart = clock.now, windowTokens = 0
        var stepsThisSession = 0
        if state.step == 0 && state.validations.isEmpty { try validate() }
        while !state.budget.isExhausted {
            if let stop = stopAfterSteps, stepsThisSession >= stop {
                try checkpoint(reason: "stop")
                return summary(stoppedEarly: true)
            }
            let stepStart = clock.now
            let context = methodContext()
            for m in methods { m.willStep(context) }
            state.stackedBlocks = (methods.first { $0 is LayerStacking } as? LayerStacking)?.activeCount
            if let sophia = optimizer as? Sophia, sophia.wantsCurvatureUpdate(beforeStep: state.step) {
                curvaturePass(sophia)
            }
            var blocksRun = 0
            let microBatches =
                try selection.map { try $0.nextBatch(from: self).microBatches(of: config.training.microBatchSize) }
                ?? (0..<accumulation).map { _ in nextMicroBatch() }
            let outcome = TrainingStep(arena: arena, optimizer: optimizer, clip: config.training.gradientClip).run(
                microBatches,
                loss: { batch in
                    let blocks = trainingBlocks(microBatch: state.ledger[.training].count)
                    let layers = blocks?.count ?? config.model.layers
                    blocksRun += layers
                    state.budget.consume(
                        state.ledger.charge(
                            .training,
                            costModel.training(
                                activeLayers: layers, sequences: batch.batchSize,
                                optimizer: optimizer.name)))
                    state.tokensSeen += batch.tokenCount
                    windowTokens += batch.tokenCount
                    return model.loss(batch, activeBlocks: blocks).loss
                },
                learningRate: {
                    config.training.learningRate * config.training.schedule.factor(progress: state.budget.progress)
                })
            let (lossSum, learningRate, norm) = (
                outcome.meanLoss * Double(accumulation), outcome.learningRate, outcome.gradientNorm
            )
            state.step += 1
            stepsThisSession += 1
            state.parameterSteps = optimizer.steps
            state.curvatureUpdates = (optimizer as? Sophia)?.curvatureUpdates ?? 0
            state.wallSeconds += seconds(clock.now - stepStart)

            if state.step % config.training.logEvery == 0 || state.budget.isExhausted {
                let window = seconds(clock.now - windowStart)
                let tokensPerSecond = Double(windowTokens) / max(window, 1e-9)
                log.write(
                    "train",
                    [
                        "step": state.step, "loss": lossSum / Double(accumulation), "lr": learningRate,
                        "grad_norm": Double(norm), "rst_seconds": state.budget.consumed.seconds,
                        "progress": state.budget.progress, "tokens": state.tokensSeen,
                        "tokens_per_second": tokensPerSecond, "wall_seconds": state.wallSeconds,
                        "active_blocks": Double(blocksRun) / Double(accumulation), "ledger": ledgerSummary,
                        "kept_fraction": state.selectionSeen > 0
                            ? Double(state.selectionKept) / Double(state.selectionSeen) : 1,
                    ])
                progress(
                    progressLine(
                        loss: lossSum / Double(accumulation), learningRate: learningRate,
                        tokensPerSecond: tokensPerSecond))
                windowStart = clock.now
                windowTokens = 0
            }
            if state.budget.progress >= state.nextValidation || state.budget.isExhausted {
                try validate()
                if let every = config.training.validateEvery {
                    while state.nextValidation <= state.budget.progress {
                        state.nextValidation += every.seconds / state.budget.total.seconds
                    }
                }
            }
            if state.budget.progress >= state.nextCheckpoint && !state.budget.isExhausted {
                try checkpoint(reason: "cadence")
                if let every = config.training.checkpointEvery {
                    while state.nextCheckpoint <= state.budget.progress {
                        state.nextCheckpoint += every.seconds / state.budget.total.seconds
                    }
                }
            }
        }
        try checkpoint(reason: "end")
        let s = summary(stoppedEarly: false)
        log.write(
            "end",
            [
                "step": state.step, "rst_seconds": state.budget.consumed.seconds, "tokens": state.tokensSeen,
                "final_validation_loss": s.finalValidationLoss ?? Double.nan,
                "final_validation_accuracy": s.finalValidationAccuracy ?? Double.nan, "wall_seconds": state.wallSeconds,
                "ledger": ledgerSummary,
            ])
        return s
    }

    /// The ledger as {kind: {count, charged_rst_seconds, waived_rst_seconds}}.
    var ledgerSummary: [String: Any] {
        var out: [String: Any] = [:]
        for (kind, e) in state.ledger.entries {
            out[kind.rawValue] = [
                "count": e.count, "charged_rst_seconds": e.charged.seconds, "waived_rst_seconds": e.waived.seconds,
            ]
        }
        return out
    }

    func validate() throws {
        let (loss, accuracy) = validationMetrics()
        state.validations.append(
            .init(step: state.step, rstSeconds: state.budget.consumed.seconds, loss: loss, accuracy: accuracy))
        log.write(
            "validation",
            [
                "step": state.step, "loss": loss, "accuracy": accuracy, "rst_seconds": state.budget.consumed.seconds,
                "progress": state.budget.progress,
            ])
        progress(
            "validation at step \(state.step) (\(format(state.budget.consumed)) RST): loss \(String(format: "%.4f", loss)), "
                + "token accuracy \(String(format: "%.2f", 100 * accuracy))%")
    }

    func checkpoint(reason: String) throws {
        try Checkpointer.save(
            to: checkpointDirectory, model: model, optimizer: optimizer, state: state,
            methodState: selection?.stateTensors() ?? [],
            metadata: ["ntng_step": "\(state.step)", "ntng_rst_seconds": "\(state.budget.consumed.seconds)"])
        log.write("checkpoint", ["step": state.step, "rst_seconds": state.budget.consumed.seconds, "reason": reason])
    }

    func summary(stoppedEarly: Bool) -> Summary {
        Summary(
            steps: state.step, rstUsed: state.budget.consumed, finalValidationLoss: state.validations.last?.loss,
            finalValidationAccuracy: state.validations.last?.accuracy ?? nil,
            tokensPerSecond: Double(state.tokensSeen) / max(state.wallSeconds, 1e-9), stoppedEarly: stoppedEarly)
    }

    func progressLine(loss: Double, learningRate: Double, tokensPerSecond: Double) -> String {
        let b = state.budget
        let wallPerRST = state.wallSeconds / max(b.consumed.seconds, 1e-9)
        let eta = formatWall(wallPerRST * b.remaining.seconds)
        return "step \(state.step) | loss \(String(format: "%.4f", loss)) | lr \(String(format: "%.2e", learningRate))"
            + " | RST \(format(b.consumed)) / \(format(b.total)) (\(String(format: "%.1f", 100 * b.progress))%)"
            + " | \(Int(tokensPerSecond)) tok/s | ETA \(eta)"
    }
}

func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18 }

/// "1h02m", "4m10s", "12.5s".
func format(_ r: RST) -> String { formatWall(r.seconds) }

func formatWall(_ s: Double) -> String {
    guard s.isFinite else { return "?" }
    if s >= 3600 { return String(format: "%dh%02dm", Int(s) / 3600, (Int(s) % 3600) / 60) }
    if s >= 60 { return String(format: "%dm%02ds", Int(s) / 60, Int(s) % 60) }
    return String(format: "%.1fs", s)
}

extension PretrainingRun: BatchSource {
    public var microBatchSize: Int { config.training.microBatchSize }
    public var batchSize: Int { config.training.batchSize }
    public var seed: UInt64 { config.training.seed }

    public func drawMicroBatch() -> PretrainingBatch { nextMicroBatch() }

    public func scoreSequences(_ batch: PretrainingBatch) -> [Float] {
        let losses = withoutGradients { model.loss(batch, activeBlocks: evaluationBlocks).sequenceLosses }
        state.budget.consume(
            state.ledger.charge(
                .selection, costModel.forward(sequences: batch.batchSize),
                free: config.batchSelection?.freeSelection ?? false))
        return losses
    }

    public func recordSelection(seen: Int, kept: Int) {
        state.selectionSeen += seen
        state.selectionKept += kept
    }
}
