import Engine
import Foundation
@testable import NoTrainNoGain
import Testing

/// The real model classes and optimisers against an independent PyTorch implementation, as llm.c
/// checks its model: `scripts/golden_models.py` loads ntng's initial weights (a safetensors
/// checkpoint with ntng's names) and a batch, and computes in float64 the logits, the loss, every
/// stored tensor's gradient and the tensors after 3 optimiser steps on that batch. Here the same is
/// computed by `CrammedBERT` with the paper's AdamW and by `T5` with AdamWScale, in float32.
///
/// Regenerate: `NTNG_WRITE_GOLDEN=1 swift test --filter GoldenModelTests` (writes the initial
/// weights and the batches), then `/tmp/torchvenv/bin/python scripts/golden_models.py`.
@Suite("Whole models vs PyTorch", .serialized)
struct GoldenModelTests {
    struct BatchFile: Codable {
        var inputIds: [Int32]
        var labels: [Int32]
        var batchSize: Int
        var sequenceLength: Int
        var targetLength: Int
        var heads: Int
        var relativeBuckets: Int?
        var maxDistance: Int?
        var learningRate: Float
        var weightDecay: Float
    }

    /// One model's case: the model, its batch, its optimiser and the fixture folder.
    struct Case {
        let name: String
        let model: any PretrainingModel
        let batch: PretrainingBatch
        let optimizer: OptimizerConfig
        let learningRate: Float
        let file: BatchFile
        var folder: String { Fixtures.path("golden/\(name)") }
    }

    /// Crammed BERT with a wide initialisation (std 0.3, not 0.02) so activations are O(1) and every
    /// nonlinearity shows, and AdamW's weight decay at 0.5 so whom it spares shows within 3 steps.
    static func crammedBERT() -> Case {
        let config = CrammedBERTConfig(
            layers: 2, hidden: 16, heads: 2, intermediate: 24, vocabularySize: 40, maxSequenceLength: 8,
            initStd: 0.3)
        // Two sequences of 8 tokens (no padding id 0), 6 predicted positions.
        let batch = PretrainingBatch(
            inputIDs: [5, 9, 4, 17, 33, 2, 8, 11, 21, 4, 6, 39, 12, 4, 25, 30],
            labels: [-100, 13, -100, -100, 7, -100, -100, -100, 3, -100, -100, -100, 28, 19, -100, 11],
            batchSize: 2, sequenceLength: 8, exampleIndices: [0, 1])
        var optimizer = OptimizerConfig.paper(AdamW.Settings.self, for: RecipeContext(model: ModelConfig(config)))
        optimizer.common.weightDecay = 0.5
        return Case(
            name: "crammed-bert", model: CrammedBERT(config, seed: 7), batch: batch, optimizer: optimizer,
            learningRate: 1e-2,
            file: BatchFile(
                inputIds: batch.inputIDs, labels: batch.labels, batchSize: 2, sequenceLength: 8, targetLength: 8,
                heads: 2, learningRate: 1e-2, weightDecay: 0.5))
    }

    /// T5 v1.1 (its own bias table per block, cross-attention) with the paper's AdamWScale (no weight
    /// decay, the step scaled by each tensor's RMS).
    static func t5() -> Case {
        let config = T5Config(
            layers: 2, hidden: 16, heads: 2, headDim: 8, feedForward: 24, vocabularySize: 40, relativeBuckets: 8,
            maxDistance: 16)
        // Inputs of 10 tokens, targets of 6 (every target token is predicted).
        let batch = PretrainingBatch(
            inputIDs: [5, 9, 4, 17, 39, 33, 2, 8, 11, 1, 21, 4, 6, 38, 12, 4, 25, 30, 7, 1],
            labels: [39, 3, 14, 38, 27, 1, 38, 10, 39, 22, 5, 1], batchSize: 2, sequenceLength: 10, targetLength: 6,
            exampleIndices: [0, 1])
        return Case(
            name: "t5", model: T5(config, seed: 11), batch: batch,
            optimizer: .paper(AdamWScale.Settings.self, for: RecipeContext(model: ModelConfig(config))),
            learningRate: 1e-2,
            file: BatchFile(
                inputIds: batch.inputIDs, labels: batch.labels, batchSize: 2, sequenceLength: 10, targetLength: 6,
                heads: 2, relativeBuckets: 8, maxDistance: 16, learningRate: 1e-2, weightDecay: 0))
    }

    func floats(_ entry: SafeTensors.Entry) -> [Float] {
        entry.data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    /// |a − b| ≤ atol + rtol·|b| for every element, reporting the worst.
    func expectClose(
        _ a: [Float], _ b: [Float], _ what: String, rtol: Float = 2e-4, atol: Float = 2e-6,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(a.count == b.count, "\(what): \(a.count) vs \(b.count) values", sourceLocation: sourceLocation)
        var worst: (excess: Float, i: Int) = (0, -1)
        for i in 0..<min(a.count, b.count) {
            let excess = abs(a[i] - b[i]) - (atol + rtol * abs(b[i]))
            if excess > worst.excess { worst = (excess, i) }
        }
        #expect(
            worst.i < 0, "\(what)[\(worst.i)]: \(worst.i < 0 ? 0 : a[worst.i]) vs \(worst.i < 0 ? 0 : b[worst.i])",
            sourceLocation: sourceLocation)
    }

    /// The model's checkpoint tensors with each parameter's gradient in place of its value: the
    /// gradients under the checkpoint's names and shapes (fused projections split as stored).
    func checkpointGradients(_ model: any PretrainingModel, _ arena: ParameterArena) -> [String: [Float]] {
        let values = arena.values.scalars()
        arena.values.backend.copy(arena.gradients, into: arena.values, accumulate: false)
        let gradients = Dictionary(uniqueKeysWithValues: model.checkpointTensors.map { ($0.0, $0.1.scalars()) })
        arena.values.backend.copy(Tensor(values, shape: [values.count]), into: arena.values, accumulate: false)
        return gradients
    }

    @Test(arguments: ["crammed-bert", "t5"])
    func theModelAndItsOptimiserMatchPyTorch(name: String) throws {
        let c = name == "t5" ? GoldenModelTests.t5() : GoldenModelTests.crammedBERT()
        let model = c.model, batch = c.batch
        if ProcessInfo.processInfo.environment["NTNG_WRITE_GOLDEN"] != nil {
            try FileManager.default.createDirectory(atPath: c.folder, withIntermediateDirectories: true)
            try SafeTensors.write(model.checkpointTensors, to: c.folder + "/initial.safetensors")
            try JSONCoding.write(c.file, to: c.folder + "/batch.json")
            return
        }
        let arena = ParameterArena(model.parameters)
        // The fixture's weights are this class's initialisation, bit for bit.
        let initial = try SafeTensors.read(c.folder + "/initial.safetensors").tensors
        let ours = model.checkpointTensors
        #expect(Set(initial.keys) == Set(ours.map(\.0)))
        for (name, tensor) in ours { #expect(floats(initial[name]!) == tensor.scalars(), "\(name)") }
        let expected = try SafeTensors.read(c.folder + "/expected.safetensors").tensors

        let predictions = model.predictions(batch, activeBlocks: nil)
        expectClose(predictions.logits.scalars(), floats(expected["logits"]!), "logits")
        let loss = predictions.loss(batchSize: batch.batchSize).loss
        expectClose([loss.item()], floats(expected["loss"]!), "loss", rtol: 1e-5)
        loss.backward()
        for (name, gradient) in checkpointGradients(model, arena) {
            expectClose(gradient, floats(try #require(expected["grad." + name], "\(name)")), "grad \(name)")
        }

        let step = TrainingStep(
            arena: arena, optimizer: c.optimizer.make(arena, batchTokens: batch.tokenCount), clip: 0)
        arena.zeroGrad()
        for _ in 0..<3 {
            _ = step.run([batch], loss: { model.loss($0).loss }, learningRate: { Double(c.learningRate) })
        }
        for (name, tensor) in model.checkpointTensors {
            expectClose(tensor.scalars(), floats(expected["after3." + name]!), "after 3 steps \(name)", rtol: 1e-4)
        }
    }
}
