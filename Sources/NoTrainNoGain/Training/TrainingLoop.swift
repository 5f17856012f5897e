import Engine
import Foundation

/// The loop of a `PretrainingRun`: optimiser steps until the budget is used, with validation and
/// checkpoints on the RST clock and a line in the log every `log_every` steps.
extension PretrainingRun {
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
        var window = (start: clock.now, tokens: 0)
        var stepsThisSession = 0
        if state.step == 0 && state.validations.isEmpty { try validate() }
        while !state.budget.isExhausted {
            if let stop = stopAfterSteps, stepsThisSession >= stop {
                try checkpoint(reason: "stop")
                return summary(stoppedEarly: true)
            }
            let stepStart = clock.now
            let ledgerBefore = state.ledger
            let (outcome, blocksRun, tokens) = try takeStep()
            if let problem = outcome.nonFinite {
                try dropUpdate(problem, ledgerBefore: ledgerBefore)
            } else {
                state.consecutiveSkips = 0
            }
            window.tokens += tokens
            stepsThisSession += 1
            state.wallSeconds += seconds(clock.now - stepStart)
            if state.step % config.training.logEvery == 0 || state.budget.isExhausted {
                let tokensPerSecond = Double(window.tokens) / max(seconds(clock.now - window.start), 1e-9)
                try logTraining(outcome, activeBlocks: Double(blocksRun) / Double(accumulation), tokensPerSecond)
                window = (clock.now, 0)
            }
            if state.budget.progress >= state.nextValidation || state.budget.isExhausted {
                try validate()
                state.nextValidation = next(state.nextValidation, every: config.training.validateEvery)
            }
            if state.budget.progress >= state.nextCheckpoint && !state.budget.isExhausted {
                try checkpoint(reason: "cadence")
                state.nextCheckpoint = next(state.nextCheckpoint, every: config.training.checkpointEvery)
            }
        }
        try checkpoint(reason: "end")
        let s = summary(stoppedEarly: false)
        try log?.write(
            .end(
                .init(
                    step: state.step, rstSeconds: state.budget.consumed.seconds, tokens: state.tokensSeen,
                    finalValidationLoss: s.finalValidationLoss ?? .nan,
                    finalValidationAccuracy: s.finalValidationAccuracy ?? .nan, wallSeconds: state.wallSeconds,
                    ledger: state.ledger)))
        return s
    }

    /// One optimiser step: the plug-ins act, the micro-batches run (each charged for the blocks it
    /// ran), then the update. Returns its outcome, the blocks run over its micro-batches and the
    /// tokens it trained on.
    func takeStep() throws -> (TrainingStep.Outcome, blocksRun: Int, tokens: Int) {
        let context = methodContext()
        for m in methods { m.willStep(context) }
        optimizer.willStep(self)
        var blocksRun = 0, tokens = 0
        // Every process draws the blocks of, and charges, every micro-batch of the step (the draws
        // and the ledger do not depend on how many processes share the work), then runs its own.
        let microBatches = try nextTrainingBatch().map { batch in
            let blocks = trainingBlocks(microBatch: state.ledger[.training].count)
            let layers = blocks?.count ?? model.blockCount
            blocksRun += layers
            charge(
                .training,
                costModel.training(activeLayers: layers, sequences: batch.batchSize, optimizer: optimizer.name),
                free: false)
            state.tokensSeen += batch.tokenCount
            tokens += batch.tokenCount
            return (batch, blocks)
        }
        let step = TrainingStep(
            arena: arena, optimizer: optimizer, clip: config.training.gradientClip, communicator: communicator)
        let outcome = step.run(
            microBatches,
            loss: { batch, blocks in model.loss(batch, activeBlocks: blocks).loss },
            learningRate: {
                config.training.learningRate * config.training.schedule.factor(progress: state.budget.progress)
            })
        state.step += 1
        state.parameterSteps = optimizer.steps
        return (outcome, blocksRun, tokens)
    }

    /// A step whose update `TrainingStep` dropped for a non-finite loss or gradient norm: logged, then
    /// the run stops (`abort`, or too many in a row) or goes on with the step's micro-batches recorded
    /// as skipped (`skip-step`).
    func dropUpdate(_ problem: TrainingStep.NonFinite, ledgerBefore: Ledger) throws {
        state.consecutiveSkips += 1
        let policy = config.training.onNonfinite
        if policy == .skipStep {
            state.ledger.reclassify(state.ledger.since(ledgerBefore, .training), from: .training, to: .skipped)
        }
        try log?.write(
            .nonFinite(
                .init(
                    step: state.step, rstSeconds: state.budget.consumed.seconds, quantity: problem.quantity,
                    microBatch: problem.microBatch, value: problem.value, action: policy,
                    consecutive: state.consecutiveSkips)))
        let place = problem.microBatch.map { "micro-batch \($0 + 1) of \(accumulation) of " } ?? ""
        let what =
            "non-finite \(problem.quantity) (\(problem.value)) in \(place)step \(state.step) at "
            + "\(format(state.budget.consumed)) RST"
        let tooMany = state.consecutiveSkips >= config.training.maxConsecutiveSkips
        if policy == .skipStep && !tooMany {
            progress("\(what): update dropped (training.on_nonfinite: skip-step)")
            return
        }
        let why =
            policy == .abort
            ? "the update was not applied and the run stops (training.on_nonfinite: abort)"
            : "\(state.consecutiveSkips) steps in a row dropped (training.max_consecutive_skips); the run stops"
        let kept =
            lastCheckpointStep.map { "the last checkpoint (step \($0)) is kept in \(checkpointDirectory)" }
            ?? "no checkpoint was written before"
        throw TrainingStopped(
            description: "\(what): \(why); \(kept) — find the cause and --resume"
                + (policy == .abort ? ", or set training.on_nonfinite: skip-step" : ""))
    }

    /// The step's micro-batches: chosen by a batch-selection method, or the next ones of the stream.
    func nextTrainingBatch() throws -> [PretrainingBatch] {
        for m in methods {
            if let chosen = try m.nextBatch(from: self) {
                return chosen.microBatches(of: config.training.microBatchSize)
            }
        }
        return (0..<accumulation).map { _ in nextMicroBatch() }
    }

    func methodContext() -> MethodContext {
        MethodContext(
            model: model, optimizer: optimizer, progress: state.budget.progress, step: state.step,
            seed: config.training.seed
        ) { [self] line, event, fields in
            let fields = (try? JSONValue(encoding: fields))?.object ?? [:]
            // Logged under the step being taken (state.step counts finished steps), so that a resume
            // from the checkpoint at state.step drops the event with the step and logs it once again.
            let step = state.step + 1
            try? log?.write(
                .method(.init(name: event, step: step, rstSeconds: state.budget.consumed.seconds, fields: fields)))
            progress(line)
        }
    }

    /// The blocks the methods choose for training micro-batch `index` (nil = every block).
    func trainingBlocks(microBatch index: Int) -> [Int]? {
        let context = methodContext()
        return methods.reduce(nil as [Int]?) { $1.blocks(forMicroBatch: index, chosen: $0, context: context) }
    }

    /// The progress fraction of the next event of a cadence after `current` (∞ without one).
    func next(_ current: Double, every cadence: RST?) -> Double {
        guard let cadence else { return .infinity }
        var next = current
        while next <= state.budget.progress { next += cadence.seconds / state.budget.total.seconds }
        return next
    }

    func logTraining(_ outcome: TrainingStep.Outcome, activeBlocks: Double, _ tokensPerSecond: Double) throws {
        var fields: [String: JSONValue] = [:]
        for p in plugins { fields[p.pluginName] = p.logFields }
        try log?.write(
            .train(
                .init(
                    step: state.step, loss: outcome.meanLoss, lr: outcome.learningRate,
                    gradNorm: Double(outcome.gradientNorm), rstSeconds: state.budget.consumed.seconds,
                    progress: state.budget.progress, tokens: state.tokensSeen, tokensPerSecond: tokensPerSecond,
                    wallSeconds: state.wallSeconds, activeBlocks: activeBlocks, ledger: state.ledger,
                    plugins: fields)))
        progress(progressLine(loss: outcome.meanLoss, learningRate: outcome.learningRate, tokensPerSecond))
    }

    /// Validation loss — the plain mean of micro-batch losses over the validation rows — and token
    /// accuracy (correct predictions / predicted tokens). Corruption comes from a fixed seed, so
    /// every evaluation of a run, and of every method, sees the same inputs.
    /// With several processes, each evaluates its share of the micro-batches (all draw every mask).
    public func validationMetrics() -> (loss: Double, accuracy: Double) {
        let micro = config.training.microBatchSize
        let (rows, validation) = validationSet
        let batches = (validation.count + micro - 1) / micro
        // Per micro-batch: its loss, whether it had predicted tokens, correct and predicted tokens.
        var figures = [Double](repeating: 0, count: 4 * batches)
        var g = SeedStream.validationMasks.generator(0)
        for b in 0..<batches {
            let indices = Array(validation[(b * micro)..<min((b + 1) * micro, validation.count)])
            let batch = objective.batch(
                rows.rows(indices), rowLength: rows.sequenceLength, exampleIndices: indices, generator: &g)
            guard communicator.owns(b), batch.labels.contains(where: { $0 != PretrainingBatch.ignoreLabel }) else {
                continue
            }
            withoutGradients {
                let p = model.predictions(batch, activeBlocks: evaluationBlocks)
                let out = p.loss(batchSize: batch.batchSize)
                figures[4 * b] = Double(out.loss.item())
                figures[4 * b + 1] = 1
                figures[4 * b + 2] = Double(p.correctCount())
                figures[4 * b + 3] = Double(out.predictedTokens)
            }
        }
        communicator.sum(&figures)
        let counted = (0..<batches).filter { figures[4 * $0 + 1] > 0 }
        let correct = counted.reduce(0) { $0 + figures[4 * $1 + 2] }
        let predicted = counted.reduce(0) { $0 + figures[4 * $1 + 3] }
        return (
            counted.isEmpty ? .nan : counted.reduce(0) { $0 + figures[4 * $1] } / Double(counted.count),
            predicted > 0 ? correct / predicted : .nan
        )
    }

    func validate() throws {
        let (loss, accuracy) = validationMetrics()
        let rst = state.budget.consumed.seconds
        state.validations.append(.init(step: state.step, rstSeconds: rst, loss: loss, accuracy: accuracy))
        try log?.write(
            .validation(
                .init(
                    step: state.step, loss: loss, accuracy: accuracy, rstSeconds: rst, progress: state.budget.progress))
        )
        progress(
            "validation at step \(state.step) (\(format(state.budget.consumed)) RST): "
                + "loss \(String(format: "%.4f", loss)), "
                + "token accuracy \(String(format: "%.2f", 100 * accuracy))%")
    }

    func checkpoint(reason: String) throws {
        guard communicator.isRoot else {
            lastCheckpointStep = state.step
            return
        }
        state.plugins = [:]
        for p in plugins { state.plugins[p.pluginName] = try p.checkpointValues() }
        do {
            try Checkpointer.save(
                in: directory, keep: config.training.keepCheckpoints, model: model, optimizer: optimizer, state: state,
                pluginTensors: plugins.flatMap { $0.checkpointTensors() },
                metadata: ["ntng_step": "\(state.step)", "ntng_rst_seconds": "\(state.budget.consumed.seconds)"],
                storage: checkpointStorage)
        } catch {
            // A full disk, say: free what the half-written checkpoint took; the previous one is untouched.
            try? FileManager.default.removeItem(atPath: directory + "/" + Checkpointer.temporary)
            let kept =
                lastCheckpointStep.map { "the previous checkpoint (step \($0)) is intact in \(checkpointDirectory)" }
                ?? "no earlier checkpoint exists"
            throw TrainingStopped(
                description: "could not write the checkpoint of step \(state.step) (\(error)); \(kept) — "
                    + "free some disk space and --resume")
        }
        try log?.write(.checkpoint(.init(step: state.step, rstSeconds: state.budget.consumed.seconds, reason: reason)))
        lastCheckpointStep = state.step
    }

    func summary(stoppedEarly: Bool) -> Summary {
        Summary(
            steps: state.step, rstUsed: state.budget.consumed, finalValidationLoss: state.validations.last?.loss,
            finalValidationAccuracy: state.validations.last?.accuracy,
            tokensPerSecond: Double(state.tokensSeen) / max(state.wallSeconds, 1e-9), stoppedEarly: stoppedEarly)
    }

    func progressLine(loss: Double, learningRate: Double, _ tokensPerSecond: Double) -> String {
        let b = state.budget
        let wallPerRST = state.wallSeconds / max(b.consumed.seconds, 1e-9)
        let eta = formatWall(wallPerRST * b.remaining.seconds)
        return "step \(state.step) | loss \(String(format: "%.4f", loss)) | lr \(String(format: "%.2e", learningRate))"
            + " | RST \(format(b.consumed)) / \(format(b.total)) (\(String(format: "%.1f", 100 * b.progress))%)"
            + " | \(Int(tokensPerSecond)) tok/s | ETA \(eta)"
    }
}

/// A run stopped before its budget was used — by its non-finite policy, or a checkpoint it could not
/// write (the message says where, why and what is kept).
public struct TrainingStopped: Error, CustomStringConvertible {
    public let description: String
}

func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18 }

/// "1h02m", "4m10s", "12.5s".
public func format(_ r: RST) -> String { formatWall(r.seconds) }

func formatWall(_ s: Double) -> String {
    guard s.isFinite else { return "?" }
    if s >= 3600 { return String(format: "%dh%02dm", Int(s) / 3600, (Int(s) % 3600) / 60) }
    if s >= 60 { return String(format: "%dm%02ds", Int(s) / 60, Int(s) % 60) }
    return String(format: "%.1fs", s)
}
