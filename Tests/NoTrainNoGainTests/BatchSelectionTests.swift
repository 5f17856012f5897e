import Engine
import Foundation
import NoTrainNoGain
import Testing

/// A batch source over synthetic sequences whose loss is given by a function of their index.
final class FakeSource: BatchSource {
    let microBatchSize: Int, batchSize: Int, seed: UInt64 = 3
    let loss: (Int) -> Float
    var drawn: [PretrainingBatch] = []
    var scored = 0, charged = 0
    init(micro: Int, batch: Int, loss: @escaping (Int) -> Float) {
        microBatchSize = micro
        batchSize = batch
        self.loss = loss
    }
    func drawMicroBatch() -> PretrainingBatch {
        let start = drawn.count * microBatchSize
        let indices = Array(start..<(start + microBatchSize))
        let b = PretrainingBatch(
            inputIDs: indices.flatMap { [Int32($0), 7] }, labels: indices.flatMap { [Int32(-100), Int32($0 % 50)] },
            batchSize: microBatchSize, sequenceLength: 2, exampleIndices: indices)
        drawn.append(b)
        return b
    }
    func scoreSequences(_ batch: PretrainingBatch) -> [Float] { scored += 1; return batch.exampleIndices.map(loss) }
    func chargeSelectionForward(sequences: Int, free: Bool) { charged += sequences }
}

@Suite("Batch selection")
struct BatchSelectionTests {
    @Test func percentileMatchesScipyRankKind() {
        // scipy.stats.percentileofscore(a, x, kind='rank') / 100, values from scipy 1.17.1.
        let cases: [([Float], Float, Double)] = [
            ([1, 2, 3, 4], 3, 0.75), ([1, 2, 3, 3, 4], 3, 0.70), ([5, 1, 2, 2, 9], 2, 0.50),
            ([5, 1, 2, 2, 9], 0, 0.0), ([5, 1, 2, 2, 9], 9, 1.0), ([1.5, 0.5], 1.5, 1.0),
        ]
        for (a, x, expected) in cases {
            #expect(abs(SelectiveBackprop.percentile(of: x, in: a.sorted()) - expected) < 1e-12, "\(a) \(x)")
        }
    }

    @Test func keepProbabilitiesUseTheHistoryIncludingTheCurrentBatchAndRaiseToBeta() {
        let sb = SelectiveBackprop(beta: 2, historySize: 4)
        _ = sb.keepProbabilities([1, 2])
        // History [1, 2, 3, 10]: 10 → 100%, 3 → (2 + 3 + 1)·50/4 = 75%.
        let p = sb.keepProbabilities([3, 10])
        #expect(abs(p[0] - 0.75 * 0.75) < 1e-12 && p[1] == 1)
        // The oldest losses leave the history (size 4): [3, 10, 0, 0.5]; 0 → (0 + 1 + 1)·50/4 = 25%,
        // 0.5 → (1 + 2 + 1)·50/4 = 50%.
        let q = sb.keepProbabilities([0, 0.5])
        #expect(sb.history == [3, 10, 0, 0.5])
        #expect(abs(q[0] - 0.0625) < 1e-12 && abs(q[1] - 0.25) < 1e-12)
    }

    @Test func selectiveBackpropTrainsOnKeptSequencesWithTheirMasksAndCarriesLeftoversOver() throws {
        // Losses scattered over 0…100 by a hash of the index.
        let source = FakeSource(micro: 8, batch: 16, loss: { Float(($0 * 7919) % 101) })
        let sb = SelectiveBackprop(beta: 1, historySize: 5000)
        let first = try #require(try sb.nextBatch(from: source)), second = try #require(try sb.nextBatch(from: source))
        #expect(first.count == 16 && second.count == 16)
        // Every trained sequence is a drawn one, with the ids and labels it was scored with, in order.
        let drawn = Dictionary(uniqueKeysWithValues: source.drawn.flatMap(\.sequences).map { ($0.exampleIndex, $0) })
        for s in first + second { #expect(drawn[s.exampleIndex] == s) }
        #expect((first + second).map(\.exampleIndex) == (first + second).map(\.exampleIndex).sorted())  // buffer order
        #expect(source.scored == source.drawn.count && source.charged == 8 * source.drawn.count)
        #expect(sb.counts.kept == 32 + sb.buffer.count && sb.counts.seen == 8 * source.drawn.count)
        // About half are kept with β = 1.
        #expect(sb.counts.keptFraction > 0.3 && sb.counts.keptFraction < 0.8)
    }

    @Test func rhoTakesTheTopKByReducibleLossOfAMegaBatch() throws {
        #expect(RhoLoss.topK([0.1, 5, -2, 5, 3], 3) == [1, 3, 4])
        // Training loss = index, irreducible = 2·index for even indices: reducible = −index (even), index (odd).
        let il = IrreducibleLosses(
            source: "test",
            losses: Dictionary(uniqueKeysWithValues: (0..<64).map { ($0, $0 % 2 == 0 ? Float(2 * $0) : 0) }), rows: 64)
        let source = FakeSource(micro: 4, batch: 8, loss: { Float($0) })
        let rho = RhoLoss(megaBatchMultiple: 2, irreducible: il)
        let chosen = try #require(try rho.nextBatch(from: source))
        // Mega-batch = indices 0…15; the 8 largest reducible losses are the odd ones, largest first.
        #expect(chosen.map(\.exampleIndex) == [15, 13, 11, 9, 7, 5, 3, 1])
        #expect(source.scored == 4 && source.charged == 16 && rho.counts.seen == 16 && rho.counts.kept == 8)
        let missing = RhoLoss(irreducible: IrreducibleLosses(source: "il.safetensors", losses: [:], rows: 64))
        #expect { try missing.nextBatch(from: FakeSource(micro: 4, batch: 8, loss: { _ in 0 })) } throws: {
            "\($0)".contains("no irreducible loss for example 0")
        }
    }

    @Test func selectiveBackpropRunIsChargedForSelectionAndResumesExactly() throws {
        let tiny = try TinyRun(budgetSeconds: 20)
        let base = ["batch_selection.method=sb"]
        let run = try PretrainingRun(config: try tiny.config(base))
        try run.train()
        let l = run.state.ledger
        // Each selection forward of 8 sequences costs 0.5 s; training 1 s per micro-batch of 8.
        #expect(l[.selection].count > 0 && l[.selection].charged.seconds == 0.5 * Double(l[.selection].count))
        #expect(l[.training].count == 2 * run.state.step)
        let sb = try #require(run.methods.first as? SelectiveBackprop)
        #expect(l[.selection].count * 8 == sb.counts.seen)
        #expect(sb.counts.keptFraction > 0.3 && sb.counts.keptFraction < 0.75)
        // The log's training lines carry the method's kept fraction.
        let logged = try MetricsLog.read(run.directory + "/metrics.jsonl").trainLines.last?.plugins
        #expect(logged?["selective-backprop"]?["kept_fraction"]?.double == sb.counts.keptFraction)
        // Free selection: waived, so more steps fit.
        let free = try PretrainingRun(
            config: try tiny.config(
                base + ["batch_selection.free_selection=true", "run_directory=\(tiny.directory)/free"]))
        try free.train()
        #expect(free.state.ledger[.selection].charged == .zero && free.state.step == 10)
        // Resume keeps the loss history and the buffer of kept sequences.
        try tiny.expectResumeMatches(run, overrides: base, directory: "\(tiny.directory)/resumed", stopAfter: 3)
    }

    @Test func rhoPipelineTrainsTheILModelExtractsInReadOrderAndSelects() throws {
        let tiny = try TinyRun(budgetSeconds: 12)
        let reserve = ["data.reserve_fraction=0.2"]
        // 1. The IL model trains on the held-out rows only.
        var ilConfig = try tiny.config(reserve)
        ilConfig.runDirectory += "-il"
        let il = try PretrainingRun(config: ilConfig, irreducibleLossModel: true)
        let target = try PretrainingRun(config: try tiny.config(reserve + ["run_directory=\(tiny.directory)/probe"]))
        #expect(il.split.training == target.split.reserved && il.split.validation == target.split.validation)
        #expect(Set(il.split.training).isDisjoint(with: target.split.training))
        try il.train()
        // 2. Extraction reads the target's rows in the order the target reads them.
        var read: [Int] = []
        while read.count < target.split.training.count { read += target.drawMicroBatch().exampleIndices }
        #expect(Array(read.prefix(target.split.training.count)) == IrreducibleLossExtraction.readOrder(target.split))
        let path = tiny.directory + "/il.safetensors"
        let n = try IrreducibleLossExtraction.run(
            config: try tiny.config(reserve), modelCheckpoint: il.checkpointDirectory + "/model.safetensors",
            output: path, microBatch: 5)
        #expect(n == target.split.training.count)
        let losses = try IrreducibleLosses.load(path, rows: target.dataset.count)
        #expect(
            target.split.training.allSatisfy { losses[$0] != nil }
                && target.split.validation.allSatisfy { losses[$0] == nil })
        // 3. The target run selects with them; each selection forward is charged.
        let rho = try PretrainingRun(
            config: try tiny.config(
                reserve + [
                    "batch_selection.method=rho", "batch_selection.il_losses=\(path)",
                    "run_directory=\(tiny.directory)/rho",
                ]))
        try rho.train()
        // Per step: 4 selection forwards (2× the batch of 16 in micro-batches of 8) at 0.5 s
        // + 2 training micro-batches at 1 s.
        #expect(rho.state.step == 3 && rho.state.ledger[.selection].count == 12)
        let counts = try #require(rho.methods.first as? RhoLoss).counts
        #expect(counts.kept * 2 == counts.seen)
    }
}
