import Engine
import Foundation
import NoTrainNoGain
import Testing

/// A non-finite loss or gradient never reaches the weights: the update is dropped, and the run
/// stops naming the step, micro-batch, RST and quantity (`abort`) or goes on (`skip-step`).
@Suite("Non-finite numbers", .serialized)
struct NonFiniteTests {
    /// Puts NaN into the first weight of the run's model.
    func poison(_ run: PretrainingRun) {
        let view = run.arena.view(of: run.arena.values, parameter: 0)
        var values = view.scalars()
        values[0] = .nan
        view.assign(values)
    }

    @Test func aNonFiniteLossDropsTheUpdateAndSaysWhere() {
        let arena = ParameterArena([Parameter("w", Tensor([1, 2], shape: [2], requiresGrad: true), role: .bias)])
        let optimizer = AdamW(arena)
        let w = arena.parameters[0].tensor
        let losses: [Float] = [1, .nan, 2]
        let outcome = TrainingStep(arena: arena, optimizer: optimizer, clip: 0.5).run(
            [0, 1, 2], loss: { k in (w * Tensor([losses[k], losses[k]], shape: [2])).sum() }, learningRate: { 0.1 })
        #expect(outcome.nonFinite?.microBatch == 1)
        #expect(outcome.nonFinite?.quantity == "training loss" && outcome.nonFinite?.value.isNaN == true)
        #expect(w.scalars() == [1, 2] && optimizer.steps == [0])  // nothing applied
        #expect(!w.hasGrad)  // gradients cleared for the next step
        let fine = TrainingStep(arena: arena, optimizer: optimizer, clip: 0.5).run(
            [0], loss: { _ in w.sum() }, learningRate: { 0.1 })
        #expect(fine.nonFinite == nil && w.scalars() != [1, 2] && optimizer.steps == [1])
    }

    @Test func abortStopsNamingTheCauseAndKeepsTheLastCheckpoint() throws {
        let tiny = try TinyRun(budgetSeconds: 20)
        try PretrainingRun(config: try tiny.config()).train(stopAfterSteps: 2)
        let resumed = try PretrainingRun(config: try tiny.config(), resume: true)
        poison(resumed)
        let error = #expect(throws: TrainingStopped.self) { try resumed.train() }
        let message = error.map { "\($0)" } ?? ""
        #expect(
            message.hasPrefix("non-finite training loss (nan) in micro-batch 1 of 2 of step 3 at 6.0s RST"),
            "\(message)")
        #expect(message.contains("training.on_nonfinite: abort") && message.contains("last checkpoint (step 2)"))
        let state = try JSONCoding.read(
            TrainingState.self, from: resumed.checkpointDirectory + "/state.json", what: "a state")
        #expect(state.step == 2)
        let event = try MetricsLog.read(resumed.directory + "/metrics.jsonl").compactMap {
            e -> RunEvent.NonFiniteStep? in
            if case .nonFinite(let n) = e { n } else { nil }
        }
        #expect(event.count == 1 && event[0].step == 3 && event[0].microBatch == 0 && event[0].action == .abort)
    }

    @Test func skipStepGoesOnUntilTooManyInARowAndRecordsTheSkippedRST() throws {
        let tiny = try TinyRun(budgetSeconds: 20)
        var lines: [String] = []
        let watched = try PretrainingRun(
            config: try tiny.config([
                "training.on_nonfinite=skip-step", "training.max_consecutive_skips=3",
                "run_directory=\(tiny.directory)/watched",
            ])
        ) { lines.append($0) }
        poison(watched)
        let error = #expect(throws: TrainingStopped.self) { try watched.train() }
        #expect(error.map { "\($0)" }?.contains("3 steps in a row dropped (training.max_consecutive_skips)") == true)
        #expect(lines.filter { $0.contains("update dropped (training.on_nonfinite: skip-step)") }.count == 2)
        // The dropped steps' micro-batches are recorded as skipped, not as training.
        let ledger = watched.state.ledger
        #expect(ledger[.skipped].count == 6 && ledger[.skipped].charged.seconds == 6 && ledger[.training].count == 0)
        #expect(ledger.totalCharged == watched.state.budget.consumed)
        let weights = watched.arena.values.scalars().dropFirst()
        #expect(weights.allSatisfy { $0.isFinite })
    }
}
