import Engine
import NoTrainNoGain
import Testing

@Suite("MLM masking (15%, 80/10/10)")
struct MaskingTests {
    let masking = MLMMasking(maskTokenID: 6, vocabularySize: 1000, specialTokenIDs: [0, 1, 2, 3, 4, 5, 6])

    func sample(seed: UInt64) -> (tokens: [Int32], batch: PretrainingBatch) {
        var g = SeededGenerator(seed: 100)
        // 5% special tokens (<sep>), the rest ordinary ids.
        let tokens = (0..<(4000 * 128)).map { _ in g.uniform() < 0.05 ? Int32(5) : Int32(7 + g.int(below: 993)) }
        var m = SeededGenerator(seed: seed)
        return (tokens, masking.mask(tokens, sequenceLength: 128, exampleIndices: Array(0..<4000), generator: &m))
    }

    @Test func selectionAndReplacementRatesMatchTheRecipe() {
        let (tokens, batch) = sample(seed: 1)
        var eligible = 0, selected = 0, masked = 0, random = 0, kept = 0
        for i in tokens.indices {
            if tokens[i] == 5 {
                #expect(batch.labels[i] == PretrainingBatch.ignoreLabel && batch.inputIDs[i] == 5)
                continue
            }
            eligible += 1
            if batch.labels[i] == PretrainingBatch.ignoreLabel {
                #expect(batch.inputIDs[i] == tokens[i])
                continue
            }
            selected += 1
            #expect(batch.labels[i] == tokens[i])
            if batch.inputIDs[i] == 6 {
                masked += 1
            } else if batch.inputIDs[i] == tokens[i] {
                kept += 1
            } else {
                random += 1
            }
        }
        let rate = Double(selected) / Double(eligible)
        #expect(abs(rate - 0.15) < 0.002, "selection rate \(rate)")
        // Random replacements may draw the original id (1 in 1000), which counts as kept here.
        #expect(abs(Double(masked) / Double(selected) - 0.8) < 0.006)
        #expect(abs(Double(random) / Double(selected) - 0.1) < 0.005)
        #expect(abs(Double(kept) / Double(selected) - 0.1) < 0.005)
    }

    @Test func sameSeedSameMasksOtherSeedOtherMasks() {
        #expect(sample(seed: 7).batch == sample(seed: 7).batch)
        #expect(sample(seed: 7).batch.labels != sample(seed: 8).batch.labels)
    }
}

@Suite("RST budget, cost model, schedules")
struct BudgetTests {
    @Test func oneCycleRisesToPeakAtHalfAndReachesExactlyZeroAtTheEnd() {
        let s = LearningRateSchedule.budgetOneCycle
        #expect(s.factor(progress: 0) == 0)
        #expect(s.factor(progress: 0.25) == 0.5)
        #expect(s.factor(progress: 0.5) == 1)
        #expect(s.factor(progress: 0.75) == 0.5)
        #expect(s.factor(progress: 1) == 0)
        #expect(s.factor(progress: 1.3) == 0)
        // f = ⌊p·2·10⁶⌋/2·10⁶: constant within a 1/2e6 step.
        #expect(s.factor(progress: 0.1000001) == s.factor(progress: 0.1000002))
        #expect(s.factor(progress: 0.9999) > 0)
    }

    @Test func cosineBudgetWarmsUpFromHalfAndDecaysToTheFloor() {
        let s = LearningRateSchedule.cosineBudget
        #expect(s.factor(progress: 0) == 0.5)
        #expect(abs(s.factor(progress: 5000.0 / 65536) - 0.75) < 1e-12)
        #expect(s.factor(progress: 10_000.0 / 65536) == 1)
        #expect(abs(s.factor(progress: (10_000.0 + 27_768) / 65536) - 0.5) < 1e-9)
        #expect(s.factor(progress: 1) == 1e-5)
    }

    @Test func paperCostTableFixesTheSevenLayerTypoAndScalesBySequences() {
        let c = CostModel.paperBERT
        #expect(c.maxLayers == 16)
        #expect(c.training(activeLayers: 16, sequences: 128) == RST(seconds: 0.2253))
        #expect(c.training(activeLayers: 7, sequences: 128) == RST(seconds: 0.1052))
        #expect(c.training(activeLayers: 4, sequences: 64).seconds == 0.06508 / 2)
        #expect(c.forward(sequences: 128) == RST(seconds: 0.09285))
        // 12 micro-batches per update: 24 RST hours hold ≈ 31,957 updates (the original code's RST table).
        let updates = RST.hours(24).seconds / (12 * 0.2253)
        #expect(Int(updates) == 31_957)
    }

    @Test func ledgerSeparatesKindsAndWaivesFreeCharges() {
        var ledger = Ledger()
        let a = ledger.charge(.training, RST(seconds: 0.25))
        let b = ledger.charge(.selection, RST(seconds: 0.1))
        let c = ledger.charge(.hessian, RST(seconds: 0.5), free: true)
        #expect(a.seconds == 0.25 && b.seconds == 0.1 && c == .zero)
        #expect(ledger[.training].count == 1 && ledger[.hessian].waived.seconds == 0.5)
        #expect(ledger.totalCharged.seconds == 0.35)
    }

    @Test func budgetStopsAtTheTotal() {
        var b = Budget(total: RST(seconds: 1))
        var steps = 0
        while !b.isExhausted { b = Budget(total: b.total, consumed: b.consumed + RST(seconds: 0.3)); steps += 1 }
        #expect(steps == 4)
        #expect(b.progress > 1)
    }

    @Test func durationsParse() {
        #expect(RST(parsing: "24h") == .hours(24))
        #expect(RST(parsing: "90m") == .minutes(90))
        #expect(RST(parsing: "1h30m") == .minutes(90))
        #expect(RST(parsing: "45s")?.seconds == 45)
        #expect(RST(parsing: "12.5")?.seconds == 12.5)
        #expect(RST(parsing: "-5m") == nil)
        #expect(RST(parsing: "5 minutes") == nil)
        #expect(RST(parsing: "") == nil)
    }
}

extension RST {
    static func seconds(_ s: Double) -> RST { RST(seconds: s) }
}

@Suite("T5 span corruption")
struct SpanCorruptionTests {
    let corruption = SpanCorruption()

    @Test func lengthsMatchThePaper() {
        let (raw, targets) = corruption.rawLength(forInputLength: 512)
        #expect(raw == 568 && targets == 114)
        #expect(corruption.lengths(rawLength: 568) == (inputs: 512, targets: 114))
        // Other lengths follow the same formula: 128 inputs need 142 raw tokens.
        let small = corruption.rawLength(forInputLength: 128)
        #expect(
            corruption.lengths(rawLength: small.raw).inputs <= 128
                && corruption.lengths(rawLength: small.raw + 1).inputs > 128)
    }

    @Test func everyTokenAppearsOnceAndSentinelsAreInOrder() {
        var g = SeededGenerator(seed: 1)
        let sentinel = { (k: Int) in Int32(1000 - k) }
        for _ in 0..<50 {
            let tokens = (0..<568).map { Int32($0 + 3) }
            let (inputs, targets) = corruption.corrupt(tokens, eos: 1, sentinel: sentinel, generator: &g)
            #expect(inputs.count == 512 && targets.count == 114)
            #expect(inputs.last == 1 && targets.last == 1)
            let inputSentinels = inputs.filter { $0 > 900 }, targetSentinels = targets.filter { $0 > 900 }
            #expect(inputSentinels == (0..<28).map(sentinel) && targetSentinels == inputSentinels)
            // Every original token exactly once across inputs and targets, in order within each.
            let plain = (inputs + targets).filter { $0 > 1 && $0 < 900 }
            #expect(plain.sorted() == tokens)
            #expect(inputs.filter { $0 > 1 && $0 < 900 } == inputs.filter { $0 > 1 && $0 < 900 }.sorted())
            // Rebuilding: replace each input sentinel by its span from the targets gives the original row.
            var spans: [Int32: [Int32]] = [:], current: Int32 = -1
            for t in targets.dropLast() { if t > 900 { current = t } else { spans[current, default: []].append(t) } }
            #expect(inputs.dropLast().flatMap { $0 > 900 ? spans[$0]! : [$0] } == tokens)
            // Inputs start with non-noise.
            #expect(inputs[0] < 900)
        }
    }

    @Test func segmentationCutsIntoNonEmptyRuns() {
        var g = SeededGenerator(seed: 3)
        for (n, k) in [(85, 28), (10, 1), (5, 5)] {
            let runs = SpanCorruption.randomSegmentation(n, k, &g)
            #expect(runs.count == k && runs.reduce(0, +) == n && runs.allSatisfy { $0 >= 1 })
        }
    }
}
