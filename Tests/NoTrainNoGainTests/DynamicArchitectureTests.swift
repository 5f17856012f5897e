import Engine
import Foundation
import NoTrainNoGain
import Testing

@Suite("Layer stacking and layer dropping", .serialized)
struct DynamicArchitectureTests {
    let config = CrammedBERTConfig(
        layers: 4, hidden: 16, heads: 2, intermediate: 32, vocabularySize: 40, maxSequenceLength: 12)

    func context(
        _ model: CrammedBERT, _ optimizer: ArenaOptimizer, progress: Double, step: Int = 0,
        events: UnsafeMutablePointer<[String]>? = nil
    ) -> MethodContext {
        MethodContext(model: model, optimizer: optimizer, progress: progress, step: step, seed: 1) { line, _, _ in
            events?.pointee.append(line)
        }
    }

    func batch(seed: UInt64) -> PretrainingBatch {
        var g = SeededGenerator(seed: seed)
        let tokens = (0..<(2 * 12)).map { _ in Int32(7 + g.int(below: 33)) }
        var b = MLMMasking(maskTokenID: 6, vocabularySize: 40, specialTokenIDs: Array(0..<7))
            .mask(tokens, sequenceLength: 12, exampleIndices: [0, 1], generator: &g)
        b.labels[3] = tokens[3]
        return b
    }

    @Test func stackingCopiesBlocksExactlyAndFreshensTheirOptimiserState() {
        let model = CrammedBERT(config, seed: 1)
        let arena = ParameterArena(model.parameters)
        let optimizer = AdamW(arena)
        let stacking = LayerStacking(initialBlocks: 1, fractions: [0.25, 0.5])
        // Train block 0 for two steps.
        for s in 0..<2 {
            let blocks = stacking.blocks(
                forMicroBatch: s, chosen: nil, context: context(model, optimizer, progress: 0.1))
            #expect(blocks == [0])
            model.loss(batch(seed: UInt64(s)), activeBlocks: blocks).loss.backward()
            #expect(model.blocks[1].qkv.weight.hasGrad == false)
            optimizer.step(learningRate: 1e-2)
            arena.zeroGrad()
        }
        let block0 = model.parameters(ofBlock: 0).map { $0.tensor.scalars() }
        stacking.willStep(context(model, optimizer, progress: 0.2))
        #expect(stacking.activeCount == 1)
        stacking.willStep(context(model, optimizer, progress: 0.26))
        #expect(stacking.activeCount == 2)
        #expect(model.parameters(ofBlock: 1).map { $0.tensor.scalars() } == block0)  // A → A A
        // Old block keeps its state; the new one has none.
        let first = arena.parameters.firstIndex { $0.name == "bert.encoder.layer.0.attention.self.qkv.weight" }!
        let second = arena.parameters.firstIndex { $0.name == "bert.encoder.layer.1.attention.self.qkv.weight" }!
        #expect(optimizer.steps[first] == 2 && optimizer.steps[second] == 0)
        // Both events at once if progress jumps past both fractions: 2 → 4, repeat-stacking A A → A A A A.
        stacking.willStep(context(model, optimizer, progress: 0.9))
        #expect(stacking.activeCount == 4)
        #expect(model.parameters(ofBlock: 3).map { $0.tensor.scalars() } == block0)
        // Gradients reach every active block afterwards.
        model.loss(
            batch(seed: 9),
            activeBlocks: stacking.blocks(
                forMicroBatch: 9, chosen: nil,
                context: context(model, optimizer, progress: 0.9))
        ).loss.backward()
        #expect((0..<4).allSatisfy { model.blocks[$0].ffnIn.weight.hasGrad })
        #expect(stacking.evaluationBlocks(chosen: nil) == [0, 1, 2, 3])
    }

    @Test func keepAndDropProbabilitiesFollowTheFormulas() {
        let drop = LayerDropping(minimumTheta: 0.5, gamma: 100)
        #expect(drop.keepProbability(progress: 0) == 1)
        #expect(abs(drop.keepProbability(progress: 0.01) - (0.5 * exp(-1) + 0.5)) < 1e-12)
        #expect(abs(drop.keepProbability(progress: 1) - 0.5) < 1e-12)
        #expect(abs(drop.dropProbability(block: 3, of: 16, progress: 1) - 4.0 / 16 * 0.5) < 1e-12)
        #expect(drop.dropProbability(block: 15, of: 16, progress: 0) == 0)
    }

    @Test func empiricalDropFrequenciesMatchAndExpectedDepthIsReached() {
        let model = CrammedBERT(
            CrammedBERTConfig(layers: 16, hidden: 8, heads: 1, intermediate: 8, vocabularySize: 10), seed: 0)
        let optimizer = AdamW(ParameterArena(model.parameters))
        let drop = LayerDropping(minimumTheta: 0.5, gamma: 100)
        let samples = 20_000
        for progress in [0.005, 1.0] {
            var kept = [Int](repeating: 0, count: 16), total = 0
            let ctx = context(model, optimizer, progress: progress)
            for i in 0..<samples {
                let blocks = drop.blocks(forMicroBatch: i, chosen: nil, context: ctx)!
                total += blocks.count
                for b in blocks { kept[b] += 1 }
            }
            for b in 0..<16 {
                let expected = 1 - drop.dropProbability(block: b, of: 16, progress: progress)
                #expect(abs(Double(kept[b]) / Double(samples) - expected) < 0.012, "block \(b) at progress \(progress)")
            }
            if progress == 1 {
                // L − (1 − θ̄)(L + 1)/2 = 16 − 0.5·17/2 = 11.75
                #expect(abs(Double(total) / Double(samples) - 11.75) < 0.05)
            }
        }
        // Per-step sampling (T5): every micro-batch of a step draws the same set.
        let perStep = LayerDropping(perStep: true)
        let ctx = context(model, optimizer, progress: 1, step: 7)
        #expect(
            perStep.blocks(forMicroBatch: 1, chosen: nil, context: ctx)
                == perStep.blocks(forMicroBatch: 2, chosen: nil, context: ctx))
    }

    @Test func droppedBlocksGetNoGradientAndValidationUsesAll() {
        let model = CrammedBERT(config, seed: 2)
        let blocks = [0, 2]
        model.loss(batch(seed: 4), activeBlocks: blocks).loss.backward()
        for i in 0..<4 { #expect(model.blocks[i].qkv.weight.hasGrad == blocks.contains(i)) }
        #expect(LayerDropping().evaluationBlocks(chosen: nil) == nil)
    }

    @Test func runsChargeTheBlocksThatRanAndResumeExactly() throws {
        // Cost per micro-batch: 1 s per active layer, so the ledger shows the blocks that ran.
        let tiny = try TinyRun(budgetSeconds: 24)
        try #"{"source":"test","training_per_layers":[1,2],"forward_only":0.5,"micro_batch_size":8}"#
            .write(toFile: tiny.directory + "/cost.json", atomically: true, encoding: .utf8)
        for extra in [
            ["stacking.initial_blocks=1", "stacking.fractions=[0.25, 0.5]"],
            ["layer_drop.gamma=5"],
        ] {
            let straight = try PretrainingRun(
                config: try tiny.config(extra + ["run_directory=\(tiny.directory)/a\(extra.count)"]))
            try straight.train()
            let log = try MetricsLog.read(straight.directory + "/metrics.jsonl")
            let train = log.trainLines
            let charged = train.map { $0.activeBlocks * 2 }.reduce(0, +)  // 2 micro-batches per step
            #expect(abs(charged - straight.state.ledger[.training].charged.seconds) < 1e-9)
            if extra.count == 2 {
                // Stacking 1 → 2 when progress first reaches 0.25: 2 s per step until then.
                let events = log.methodEvents("stacking")
                #expect(
                    events.count == 1 && (events[0].fields["progress"]?.double ?? 0) >= 0.25
                        && (events[0].fields["progress"]?.double ?? 0) < 0.25 + 4.0 / 24)
                #expect(train.first!.activeBlocks == 1 && train.last!.activeBlocks == 2)
                // Logged under the step it is part of: the first step with 2 blocks.
                #expect(events[0].step == train.first { $0.activeBlocks == 2 }?.step)
            } else {
                #expect(log.start?.optimizerMissingGradient == .zeroGradientIfStateExists)
            }
            // Interrupt and resume: the same curve.
            try tiny.expectResumeMatches(
                straight, overrides: extra, directory: "\(tiny.directory)/b\(extra.count)", stopAfter: 3)
        }
    }
}
