import Engine
import Foundation
@testable import NoTrainNoGain
import Testing

/// `reproduce: original-code`: every result-changing quirk of the original code becomes the default,
/// each with its own key, and each behaves as the original code does.
@Suite("Original-code mode", .serialized)
struct OriginalCodeTests {
    func parse(_ yaml: String, _ overrides: [String] = []) throws -> PretrainingConfig {
        try PretrainingConfig.parse(yaml: yaml, source: "x.yaml", baseDirectory: "/configs", overrides: overrides)
    }

    func config(_ kind: String, reproduce: String, _ extra: String = "") throws -> PretrainingConfig {
        try parse(
            "reproduce: \(reproduce)\nmodel: {kind: \(kind)}\ndata: {corpus: c.txt}\ntraining: {budget: 1h}\n"
                + "optimizer: {name: sophia}\nlayer_drop: {}\n" + extra)
    }

    @Test func theSwitchSetsEveryQuirksDefaultAndEachKeyStillWins() throws {
        for reproduce in ["intended", "original-code"] {
            let original = reproduce == "original-code"
            let bert = try config("crammed-bert", reproduce: reproduce)
            #expect(bert.reproduce.rawValue == reproduce)
            let sophia = try #require(bert.optimizer.settings(Sophia.Settings.self))
            #expect(sophia.hessianGradient == (original ? .lastMicroBatch : .mean))
            #expect(sophia.hessianLabels == (original ? .hiddenStates : .vocabulary))
            #expect(sophia.hessianAtStart)
            #expect(bert.optimizer.common.decayNormWeights == original)
            #expect(
                bert.methods.settings(LayerDropping.Settings.self)?.allDropped == (original ? .fullModel : .noBlocks))
            let t5 = try config("t5", reproduce: reproduce)
            let t5Sophia = try #require(t5.optimizer.settings(Sophia.Settings.self))
            #expect(t5Sophia.hessianAtStart == !original && t5Sophia.hessianGradient == .mean)
            #expect(t5Sophia.hessianLabels == .vocabulary && !t5.optimizer.common.decayNormWeights)
            #expect(t5.methods.settings(LayerDropping.Settings.self)?.allDropped == (original ? .fullModel : .noBlocks))
        }
        let chosen = try parse(
            "reproduce: original-code\ndata: {corpus: c.txt}\ntraining: {budget: 1h}\n",
            ["optimizer.name=sophia", "optimizer.hessian_gradient=mean", "optimizer.decay_norm_weights=false"])
        #expect(chosen.optimizer.settings(Sophia.Settings.self)?.hessianGradient == .mean)
        #expect(!chosen.optimizer.common.decayNormWeights)
        #expect(chosen.optimizer.settings(Sophia.Settings.self)?.hessianLabels == .hiddenStates)
        do {
            _ = try parse("reproduce: original\ndata: {corpus: c.txt}\ntraining: {budget: 1h}\n")
            Issue.record("no error")
        } catch {
            #expect("\(error)" == "x.yaml: reproduce: must be one of intended, original-code (got 'original')")
        }
    }

    /// The original BERT code zeroes gradients before every Hessian micro-batch: the estimate is the
    /// last micro-batch's gradient alone, undivided — the same h as a one-micro-batch pass over that
    /// micro-batch — while every micro-batch is still drawn and charged.
    @Test func sophiasLastMicroBatchEstimateIsTheLastMicroBatchsAlone() throws {
        let tiny = try TinyRun(budgetSeconds: 20)
        func run(_ overrides: [String]) throws -> PretrainingRun {
            try PretrainingRun(
                config: try tiny.config(
                    ["optimizer.name=sophia", "run_directory=\(Fixtures.temporaryDirectory())/r"] + overrides))
        }
        func pass(_ run: PretrainingRun) throws -> [Float] {
            let sophia = try #require(run.optimizer as? Sophia)
            sophia.curvaturePass(run)
            return sophia.hessian.scalars()
        }
        let last = try run(["optimizer.hessian_micro_batches=2", "optimizer.hessian_gradient=last-micro-batch"])
        let lastH = try pass(last)
        #expect(last.state.microBatches == 2 && last.state.ledger.entries[.hessian]?.charged.seconds == 2)
        let single = try run(["optimizer.hessian_micro_batches=1"])
        _ = single.drawMicroBatch()  // the first micro-batch is drawn and dropped
        #expect(try pass(single) == lastH)
        let mean = try run(["optimizer.hessian_micro_batches=2"])
        let meanH = try pass(mean)
        #expect(meanH != lastH && lastH.contains { $0 > 0 })
    }

    /// nanoT5 checks `current_train_step % sophia_freq == 0` after each optimiser step, counting from
    /// 1 (`t5/t5/utils/train.py`): the first refresh comes after the 10th step, none before step 0.
    @Test func t5SophiasFirstRefreshComesAfterTheFirstKSteps() throws {
        let arena = ParameterArena([Parameter("w", Tensor([1, 2], shape: [2], requiresGrad: true), role: .weight)])
        var settings = Sophia.Settings()
        let intended = Sophia(arena, batchTokens: 1, hessianInterval: 10, curvature: settings)
        settings.hessianAtStart = false
        let original = Sophia(arena, batchTokens: 1, hessianInterval: 10, curvature: settings)
        #expect((0..<31).filter { intended.wantsCurvatureUpdate(beforeStep: $0) } == [0, 10, 20, 30])
        #expect((0..<31).filter { original.wantsCurvatureUpdate(beforeStep: $0) } == [10, 20, 30])
    }

    /// Both original codes read an empty list of active layers as "every layer"
    /// (`scriptable_bert.py`, `t5/t5/models/t5.py`).
    @Test func aDrawThatDropsEveryBlockRunsTheFullModelInTheOriginalCode() {
        let model = CrammedBERT(
            CrammedBERTConfig(layers: 1, hidden: 8, heads: 1, intermediate: 8, vocabularySize: 10), seed: 0)
        let optimizer = AdamW(ParameterArena(model.parameters))
        let context = MethodContext(model: model, optimizer: optimizer, progress: 1, step: 0, seed: 1) { _, _, _ in }
        // θ̄ = 0 at the end of the budget: the only block is dropped with probability 1.
        let intended = LayerDropping(minimumTheta: 0, gamma: 1e6)
        let original = LayerDropping(minimumTheta: 0, gamma: 1e6, allDropped: .fullModel)
        for i in 0..<20 {
            #expect(intended.blocks(forMicroBatch: i, chosen: nil, context: context) == [])
            #expect(original.blocks(forMicroBatch: i, chosen: nil, context: context) == [0])
        }
    }

    /// cramming exempts parameters by name (`limited_decay_keys: [bias, LayerNorm.bias,
    /// LayerNorm.weight]`) and names its norms `norm1`, `norm2`, so norm gains were decayed.
    @Test func normGainsDecayOnlyWhenAsked() {
        func gainAfterOneStep(decayNormWeights: Bool) -> Float {
            let gain = Tensor([1, 1], shape: [2], requiresGrad: true)
            let arena = ParameterArena([Parameter("norm1.weight", gain, role: .normWeight)])
            (gain * Tensor([0, 0], shape: [2])).sum().backward()
            let adamw = AdamW(arena, AdamW.Hyperparameters(weightDecay: 0.5))
            adamw.decaysNormWeights = decayNormWeights
            adamw.step(learningRate: 0.1)
            return gain.scalars()[0]
        }
        #expect(gainAfterOneStep(decayNormWeights: false) == 1)
        #expect(abs(gainAfterOneStep(decayNormWeights: true) - 0.95) < 1e-7)
        let config = OptimizerConfig.paper(
            AdamW.Settings.self,
            for: RecipeContext(model: ModelConfig(CrammedBERTConfig.paper), reproduce: .originalCode))
        let arena = ParameterArena([Parameter("w", Tensor([1], shape: [1], requiresGrad: true), role: .weight)])
        #expect(config.make(arena, batchTokens: 1).decaysNormWeights)
    }
}
