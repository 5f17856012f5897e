import Engine
import Foundation
import NoTrainNoGain
import Testing

/// T5 v1.1 with span corruption on the shared trainer: the config's paper defaults, the T5 cost
/// table, batches, and tiny runs that learn, checkpoint with T5 names and resume exactly.
@Suite("T5 pre-training", .serialized)
struct T5PretrainingTests {
    static let model =
        "{kind: t5, layers: 2, hidden: 32, heads: 2, head_dim: 16, feed_forward: 48, vocabulary_size: 200, "
        + "relative_buckets: 8, max_distance: 16}"

    /// Inputs of 24 tokens: raw rows of 26 (4 noise tokens in 1 span), targets of 6.
    func tiny(_ budgetSeconds: Int, extra: String = "") throws -> TinyRun {
        try TinyRun(budgetSeconds: budgetSeconds, model: T5PretrainingTests.model, sequenceLength: 24, extra: extra)
    }

    func parse(_ yaml: String) throws -> PretrainingConfig {
        try PretrainingConfig.parse(yaml: yaml, source: "t5.yaml", baseDirectory: "/tmp")
    }

    func error(_ yaml: String) -> String {
        do { _ = try parse(yaml); return "no error" } catch { return "\(error)" }
    }

    let minimal = "model: {kind: t5}\ndata: {corpus: c.txt}\ntraining: {budget: 24h}\n"

    @Test func configDefaultsAreThePapersT5Recipe() throws {
        let c = try parse(minimal + "stacking: {}\nlayer_drop: {}")
        #expect(c.model == ModelConfig(T5Config.base) && c.model.layers == 12)
        #expect(c.data.sequenceLength == 512 && c.rowLength == 568 && c.data.documentsPerGroup == 1000)
        #expect(c.objective == ObjectiveConfig(SpanCorruption(noiseDensity: 0.15, meanNoiseSpanLength: 3)))
        // With layer dropping, AdamWScale's base lr is 1e-2 (2e-2 without).
        #expect(c.training.microBatchSize == 72 && c.training.batchSize == 144 && c.training.learningRate == 1e-2)
        #expect(try parse(minimal).training.learningRate == 2e-2)
        #expect(
            c.training.schedule == .cosineBudget && c.training.gradientClip == 1
                && c.training.costModel == .builtIn("paper-t5"))
        let o = c.optimizer.common
        #expect(c.optimizer.name == "adamw-scale" && o.beta1 == 0.9 && o.beta2 == 0.999 && o.weightDecay == 0)
        #expect(c.optimizer.settings(AdamWScale.Settings.self)?.epsilon == 1e-6 && o.rmsScaledLr)
        let stacking = c.methods.settings(LayerStacking.Settings.self)
        #expect(stacking?.initialBlocks == 3 && stacking?.fractions == [0.125, 0.30])
        let drop = try #require(c.methods.settings(LayerDropping.Settings.self))
        #expect(drop.gamma == 20 && drop.thetaBar == 0.5 && drop.perStep && drop.droppedBlocks == .skip)

        let sophiaConfig = try parse(minimal + "optimizer: {name: sophia}").optimizer
        let sophia = try #require(sophiaConfig.settings(Sophia.Settings.self))
        #expect(sophia.rho == 0.01 && sophiaConfig.common.weightDecay == 0 && sophiaConfig.common.rmsScaledLr)
        #expect(sophia.hessianBatchTokens == 5120 && sophia.hessianMicroBatches == 2 && sophia.hessianInterval == 10)
        #expect(sophia.clipHessianGradient)
        let lion = try parse(minimal + "optimizer: {name: lion}").optimizer.common
        #expect(lion.weightDecay == 0 && lion.rmsScaledLr && lion.beta2 == 0.99)

        #expect(
            error("model: {kind: t5, intermediate: 8}\ndata: {corpus: c.txt}\ntraining: {budget: 1h}")
                == "t5.yaml: model.intermediate: only applies to model.kind crammed-bert (this config uses t5)")
        #expect(
            error("model: {kind: t5, intermedate: 8}\ndata: {corpus: c.txt}\ntraining: {budget: 1h}").hasPrefix(
                "t5.yaml: model.intermedate: unknown key"))
        #expect(
            error("data: {corpus: c.txt, noise_density: 0.2}\ntraining: {budget: 1h}")
                == "t5.yaml: data.noise_density: only applies to model.kind t5 (this config uses crammed-bert)")
        #expect(
            error(
                minimal.replacingOccurrences(
                    of: "corpus: c.txt", with: "corpus: c.txt, tokenizer: t.json, tokenizer_vocabulary_size: 100"))
                == "t5.yaml: data.tokenizer_vocabulary_size: only applies with tokenizer: train")
        #expect(
            error(minimal + "optimizer: {name: lion, epsilon: 1.0e-8}")
                == "t5.yaml: optimizer.epsilon: only applies to optimizer adamw or adamw-scale (this config uses lion)")
    }

    @Test func paperT5CostTableChargesPerStepAndPerOptimizer() throws {
        let t = try CostTable.builtIn("paper-t5").load()
        func close(_ a: RST, _ b: Double) -> Bool { abs(a.seconds - b) < 1e-12 }
        #expect(close(t.training(activeLayers: 12, sequences: 144), 1.031))
        // One micro-batch of 72.
        #expect(close(t.training(activeLayers: 12, sequences: 72, optimizer: "adamw-scale"), 0.5155))
        #expect(close(t.training(activeLayers: 12, sequences: 144, optimizer: "lion"), 1.043))
        #expect(close(t.training(activeLayers: 12, sequences: 144, optimizer: "sophia"), 1.156))
        #expect(
            close(t.training(activeLayers: 3, sequences: 144), 0.291)
                && close(t.training(activeLayers: 1, sequences: 144), 0.129))
        #expect(t.forwardOnly == nil && t.hessianInStepCost == true)
        // 24 RST hours of AdamWScale at full depth: ⌈86400 / 1.031⌉ = 83,802 steps.
        #expect(Int(86400 / t.training(activeLayers: 12, sequences: 144).seconds) == 83_802)
    }

    @Test func spanCorruptionBatchesFeedTheDecoderTheTargetsShiftedRight() {
        let objective = SpanCorruptionObjective(
            corruption: SpanCorruption(), eosID: 1, sentinelIDs: (0..<10).map { Int32(99 - $0) })
        let rows = (0..<52).map { Int32(3 + $0) }
        var g = SeededGenerator(seed: 1)
        let b = objective.batch(rows, rowLength: 26, exampleIndices: [5, 9], generator: &g)
        #expect(b.sequenceLength == 24 && b.targetLength == 6 && b.exampleIndices == [5, 9])
        let decoder = b.decoderInputIDs()
        for r in 0..<2 {
            let inputs = Array(b.inputIDs[(r * 24)..<((r + 1) * 24)]),
                targets = Array(b.labels[(r * 6)..<((r + 1) * 6)])
            #expect(inputs.last == 1 && targets.first == 99 && targets.last == 1)
            #expect(decoder[r * 6] == 0 && Array(decoder[(r * 6 + 1)..<((r + 1) * 6)]) == Array(targets.dropLast()))
            // Every raw token exactly once across inputs and targets.
            let seen = (inputs + targets).filter { $0 >= 3 && $0 < 90 }.sorted()
            #expect(seen == Array(rows[(r * 26)..<((r + 1) * 26)]))
        }
    }

    @Test func aTinyT5LearnsCheckpointsWithT5NamesAndResumesExactly() throws {
        let tiny = try tiny(40)
        let config = try tiny.config(["training.learning_rate=2.0e-2"])
        #expect(config.rowLength == 26)
        let run = try PretrainingRun(config: config)
        try run.train()
        #expect(run.state.step == 20)
        let v = run.state.validations
        #expect(v.last!.loss < v.first!.loss - 1, "validation \(v.map(\.loss))")
        #expect(v.last!.accuracy > v.first!.accuracy)
        let (tensors, metadata) = try SafeTensors.read(run.checkpointDirectory + "/model.safetensors")
        #expect(metadata["ntng_model"] == "t5")
        for name in [
            "shared.weight", "encoder.block.1.layer.0.SelfAttention.q.weight",
            "decoder.block.0.layer.1.EncDecAttention.k.weight",
            "decoder.block.1.layer.2.DenseReluDense.wi_1.weight", "encoder.final_layer_norm.weight", "lm_head.weight",
            "encoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight",
        ] {
            #expect(tensors[name] != nil, "\(name) missing")
        }
        #expect { try PretrainedCheckpoint<CrammedBERTConfig>.load(run: run.directory) } throws: {
            "\($0)".contains("holds a t5 model")
        }
        try tiny.expectResumeMatches(
            run, overrides: ["training.learning_rate=2.0e-2"], directory: tiny.directory + "/resumed", stopAfter: 7)
    }

    @Test func stackingAndPerStepDroppingActOnEncoderAndDecoderTogether() throws {
        let tiny = try tiny(24)
        try #"{"source":"test","training_per_layers":[1,2],"forward_only":0.5,"micro_batch_size":8}"#
            .write(toFile: tiny.directory + "/cost.json", atomically: true, encoding: .utf8)
        for extra in [["stacking.initial_blocks=1", "stacking.fractions=[0.25]"], ["layer_drop.gamma=5"]] {
            let straight = try PretrainingRun(
                config: try tiny.config(extra + ["run_directory=\(tiny.directory)/a\(extra.count)"]))
            try straight.train()
            let active = try MetricsLog.read(straight.directory + "/metrics.jsonl").trainLines.map(\.activeBlocks)
            // Both micro-batches of a step run the same blocks (T5 draws once per step).
            #expect(active.allSatisfy { $0 == $0.rounded() }, "\(extra): \(active)")
            #expect(abs(active.map { $0 * 2 }.reduce(0, +) - straight.state.ledger[.training].charged.seconds) < 1e-9)
            if extra.count == 2 {
                #expect(active.first == 1 && active.last == 2, "stacking: \(active)")
            } else {
                #expect(active.contains { $0 < 2 }, "dropping: \(active)")
            }
            try tiny.expectResumeMatches(
                straight, overrides: extra, directory: "\(tiny.directory)/b\(extra.count)", stopAfter: 3)
        }
    }

    @Test func sophiasHessianPassesFoldIntoItsStepCostWhereTheTableSaysSo() throws {
        let tiny = try tiny(30)
        try
            (#"{"source":"t5-like","training_per_layers":[1,1],"micro_batch_size":8,"#
            + #""optimizer_step_factors":{"sophia":1.5},"hessian_in_step_cost":true}"#)
            .write(toFile: tiny.directory + "/cost.json", atomically: true, encoding: .utf8)
        let run = try PretrainingRun(
            config: try tiny.config([
                "optimizer.name=sophia", "optimizer.hessian_interval=2",
                "training.learning_rate=1.0e-3",
            ]))
        try run.train()
        // 1.5 RST s per micro-batch, 2 per step: 10 steps in 30 s; Hessian batches recorded, not charged.
        #expect(run.state.step == 10)
        #expect(run.state.ledger[.hessian].charged == .zero && run.state.ledger[.hessian].count == 10)
        #expect(run.state.validations.last!.loss < run.state.validations.first!.loss)
        // Without a forward-only figure, selection methods are refused up front.
        #expect {
            try PretrainingRun(
                config: try tiny.config(["batch_selection.method=sb", "run_directory=\(tiny.directory)/sb"]))
        } throws: { "\($0)".contains("needs a forward-only cost") }
    }

    @Test func aValidationCorpusReplacesHeldOutRows() throws {
        let tiny = try tiny(4)
        let validationText = (0..<40).map { _ in "the big red dog ran home and the small cat sat on a mat." }.joined(
            separator: "\n\n")
        try validationText.write(toFile: tiny.directory + "/valid.txt", atomically: true, encoding: .utf8)
        let yaml = try String(contentsOfFile: tiny.configPath, encoding: .utf8)
            .replacingOccurrences(
                of: "validation_fraction: 0.1", with: "validation_corpus: valid.txt\n  validation_max_sequences: 5")
        try yaml.write(toFile: tiny.directory + "/separate.yaml", atomically: true, encoding: .utf8)
        let config = try PretrainingConfig.load(
            path: tiny.directory + "/separate.yaml", overrides: ["data.tokenizer_vocabulary_size=180"])
        #expect(config.data.validationCorpus == [tiny.directory + "/valid.txt"])
        let run = try PretrainingRun(config: config)
        #expect(run.split.validation.isEmpty && run.validationSet.rows == [0, 1, 2, 3, 4])
        #expect(run.split.training.count == run.dataset.count)
        #expect(run.validationSet.dataset.tokens != run.dataset.tokens)
        // A tokenizer smaller than the model's vocabulary, sentinels at its own top.
        #expect(
            run.tokenizer.vocabularySize <= 180
                && run.tokenizer.sentinelID(0) == Int32(run.tokenizer.vocabularySize - 1))
        try run.train()
        #expect(run.state.validations.count == 2 && run.state.validations.allSatisfy { $0.loss.isFinite })
        #expect(throws: InputError.self) {
            try PretrainingConfig.load(path: tiny.configPath, overrides: ["data.validation_corpus=valid.txt"])
        }
    }

    @Test func calibrationMeasuresAT5PerActiveLayer() throws {
        let config = try tiny(10).config()
        let table = Calibration.measure(config, repeats: 1)
        #expect(table.trainingPerLayers.count == 2 && table.trainingPerLayers.allSatisfy { $0 > 0 })
        #expect((table.forwardOnly ?? 0) > 0 && table.source.contains("T5 2+2L/32d/2h"))
    }
}
