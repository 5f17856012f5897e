import Engine
import NoTrainNoGain
import Testing

@Suite("Crammed BERT model")
struct CrammedBERTTests {
    let config = CrammedBERTConfig(
        layers: 2, hidden: 16, heads: 2, intermediate: 32, vocabularySize: 40, maxSequenceLength: 12)

    func batch(seed: UInt64) -> PretrainingBatch {
        var g = SeededGenerator(seed: seed)
        let tokens = (0..<(3 * 12)).map { _ in Int32(7 + g.int(below: 33)) }
        let masking = MLMMasking(maskTokenID: 6, vocabularySize: 40, specialTokenIDs: Array(0..<7))
        var b = masking.mask(tokens, sequenceLength: 12, exampleIndices: [0, 1, 2], generator: &g)
        b.labels[0] = tokens[0]  // at least one masked position per batch
        return b
    }

    @Test func sparseLastBlockGivesTheSameLossAndGradientsAsTheFullComputation() {
        let model = CrammedBERT(config, seed: 1)
        let b = batch(seed: 2)
        let out = model.loss(b)
        out.loss.backward()
        let sparseLoss = out.loss.item()
        let sparseGrads = model.parameters.map { $0.tensor.grad!.scalars() }
        for p in model.parameters { p.tensor.zeroGrad() }

        // Reference: every position through every block, then select the masked rows.
        let ids = Tensor(int32: b.inputIDs, shape: [3, 12])
        let hidden = model.encode(ids).reshaped([36, 16])
        let positions = b.labels.indices.filter { b.labels[$0] != PretrainingBatch.ignoreLabel }
        let selected = hidden.gatherRows(Tensor(int32: positions.map(Int32.init), shape: [positions.count]))
        let logits = linear(model.headTransform(selected), model.tokenEmbedding.weight)
        let full = softmaxCrossEntropy(
            logits: logits, labels: Tensor(int32: positions.map { b.labels[$0] }, shape: [positions.count]))
        full.loss.backward()
        #expect(abs(full.loss.item() - sparseLoss) < 1e-5)
        for (p, g) in zip(model.parameters, sparseGrads) {
            let reference = p.tensor.grad!.scalars()
            let scale = max(reference.map(abs).max() ?? 0, 1e-6)
            let err = zip(reference, g).map { abs($0 - $1) }.max() ?? 0
            #expect(err <= 1e-4 * scale, "\(p.name): max difference \(err)")
        }
    }

    @Test func perSequenceLossesAverageToTheBatchLoss() {
        let model = CrammedBERT(config, seed: 1)
        let b = batch(seed: 3)
        let out = withoutGradients { model.loss(b) }
        var weighted = 0.0, count = 0
        for s in 0..<3 {
            let n = (0..<12).filter { b.labels[s * 12 + $0] != PretrainingBatch.ignoreLabel }.count
            weighted += Double(out.sequenceLosses[s]) * Double(n)
            count += n
        }
        #expect(count == out.predictedTokens)
        #expect(abs(weighted / Double(count) - Double(out.loss.item())) < 1e-5)
    }

    @Test func initialisationFollowsTheRecipe() {
        let model = CrammedBERT(
            CrammedBERTConfig(layers: 1, hidden: 64, heads: 4, intermediate: 128, vocabularySize: 500), seed: 0)
        let embedding = model.tokenEmbedding.weight.scalars()
        #expect(embedding[0..<64].allSatisfy { $0 == 0 })  // <pad> row
        let std = (embedding[64...].map { Double($0 * $0) }.reduce(0, +) / Double(embedding.count - 64)).squareRoot()
        #expect(abs(std - 0.02) < 0.001)
        #expect(abs(model.positionScale.item() - 1 / 8) < 1e-7)
        #expect(model.blocks[0].norm1.weight.scalars().allSatisfy { $0 == 1 })
        // No biases in linear layers; decay everywhere but on norms.
        #expect(
            model.parameters.filter { !$0.decays }.allSatisfy {
                $0.name.contains("LayerNorm") || $0.name.contains("norm")
            })
    }

    @Test func parameterCountOfThePaperModelIsAbout120M() {
        let c = CrammedBERTConfig.paper
        let perBlock =
            2 * 2 * c.hidden + 3 * c.hidden * c.hidden + c.hidden * c.hidden + c.intermediate * c.hidden + c
            .intermediate / 2 * c.hidden
        let total =
            c.vocabularySize * c.hidden + 1 + 2 * c.hidden + c.layers * perBlock + 2 * c.hidden + c.hidden * c.hidden
        #expect(abs(Double(total) - 120.2e6) < 0.5e6)
    }

    @Test func checkpointTensorsUseHuggingFaceNamesAndSplitQKV() {
        let model = CrammedBERT(config, seed: 1)
        let names = model.checkpointTensors.map(\.0)
        #expect(names.contains("bert.embeddings.word_embeddings.weight"))
        #expect(names.contains("bert.encoder.layer.1.attention.self.query.weight"))
        #expect(names.contains("bert.encoder.layer.1.attention.self.value.weight"))
        #expect(names.contains("cls.predictions.transform.dense.weight"))
        #expect(!names.contains { $0.hasSuffix("qkv.weight") })
        let qkv = model.blocks[0].qkv.weight.scalars()
        let key = model.checkpointTensors.first { $0.0 == "bert.encoder.layer.0.attention.self.key.weight" }!.1
        #expect(key.shape == [16, 16] && key.scalars() == Array(qkv[256..<512]))
    }
}
