import Engine
import NoTrainNoGain
import Testing

@Suite("T5 v1.1")
struct T5Tests {
    let config = T5Config(
        layers: 2, hidden: 16, heads: 2, headDim: 8, feedForward: 24, vocabularySize: 50, relativeBuckets: 8,
        maxDistance: 16)

    @Test func relativePositionBucketsMatchTheReference() {
        // Values from Hugging Face's `_relative_position_bucket` (32 buckets, max distance 128), run in PyTorch.
        let offsets = [
            -300, -128, -100, -64, -40, -20, -16, -12, -9, -8, -7, -1, 0, 1, 2, 7, 8, 9, 12, 16, 20, 40, 64, 100, 127,
            128, 300,
        ]
        let bidirectional = [
            15, 15, 15, 14, 12, 10, 10, 9, 8, 8, 7, 1, 0, 17, 18, 23, 24, 24, 25, 26, 26, 28, 30, 31, 31, 31, 31,
        ]
        let causal = [31, 31, 30, 26, 23, 17, 16, 12, 9, 8, 7, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        #expect(
            offsets.map { RelativePosition.bucket($0, bidirectional: true, buckets: 32, maxDistance: 128) }
                == bidirectional)
        #expect(
            offsets.map { RelativePosition.bucket($0, bidirectional: false, buckets: 32, maxDistance: 128) } == causal)
    }

    func batch() -> (Tensor, Tensor, Tensor) {
        var g = SeededGenerator(seed: 2)
        let inputs = Tensor(int32: (0..<(2 * 7)).map { _ in Int32(3 + g.int(below: 47)) }, shape: [2, 7])
        let targets = (0..<(2 * 4)).map { _ in Int32(3 + g.int(below: 47)) }
        var shifted = [Int32](repeating: 0, count: 8)
        for b in 0..<2 { for t in 1..<4 { shifted[b * 4 + t] = targets[b * 4 + t - 1] } }
        return (inputs, Tensor(int32: shifted, shape: [2, 4]), Tensor(int32: targets, shape: [8]))
    }

    @Test func shapesGradientsAndTheDecoderIsCausal() {
        let model = T5(config, seed: 1)
        let (inputs, decoderInputs, labels) = batch()
        let logits = model.logits(inputs: inputs, decoderInputs: decoderInputs)
        #expect(logits.shape == [2, 4, 50])
        softmaxCrossEntropy(logits: logits.reshaped([8, 50]), labels: labels).loss.backward()
        // Every parameter gets a gradient (both blocks, every bias table, both norms, the head).
        for p in model.parameters { #expect(p.tensor.hasGrad, "\(p.name)") }
        // Changing a later decoder input leaves earlier positions' logits unchanged.
        var altered = decoderInputs.int32Scalars()
        altered[3] = 7
        let other = withoutGradients {
            model.logits(inputs: inputs, decoderInputs: Tensor(int32: altered, shape: [2, 4])).scalars()
        }
        let before = withoutGradients { model.logits(inputs: inputs, decoderInputs: decoderInputs).scalars() }
        #expect(Array(other[0..<150]) == Array(before[0..<150]))  // positions 0–2 of sequence 0
        #expect(Array(other[150..<200]) != Array(before[150..<200]))
    }

    @Test func initialisationScalesFollowTheSpec() {
        let big = T5(
            T5Config(layers: 1, hidden: 64, heads: 4, headDim: 16, feedForward: 128, vocabularySize: 200), seed: 0)
        func std(_ t: Tensor) -> Double {
            let v = t.scalars().map(Double.init)
            return (v.map { $0 * $0 }.reduce(0, +) / Double(v.count)).squareRoot()
        }
        let attention = big.encoderBlocks[0].attention
        let qkv = attention.qkv.scalars().map(Double.init)
        let q = Array(qkv[0..<(64 * 64)]), k = Array(qkv[(64 * 64)..<(2 * 64 * 64)])
        func rms(_ x: [Double]) -> Double { (x.map { $0 * $0 }.reduce(0, +) / Double(x.count)).squareRoot() }
        #expect(abs(rms(q) - 1 / (64.0 * 16).squareRoot()) < 0.004)  // (d·d_kv)^−½
        #expect(abs(rms(k) - 1 / 8.0) < 0.01)  // d^−½
        #expect(abs(std(attention.output.weight) - 1 / 8.0) < 0.01)  // (h·d_kv)^−½ = 64^−½
        #expect(abs(std(big.encoderBlocks[0].feedForward.wo.weight) - 1 / 128.0.squareRoot()) < 0.01)
        #expect(abs(std(big.embedding.weight) - 1) < 0.05 && abs(std(big.lmHead.weight) - 1) < 0.05)
    }

    @Test func checkpointTensorsUseHuggingFaceT5Names() {
        let model = T5(config, seed: 1)
        let names = Set(model.checkpointTensors.map(\.0))
        for expected in [
            "shared.weight", "lm_head.weight", "encoder.final_layer_norm.weight", "decoder.final_layer_norm.weight",
            "encoder.block.0.layer.0.SelfAttention.q.weight", "encoder.block.0.layer.0.SelfAttention.v.weight",
            "encoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight",
            "encoder.block.0.layer.0.layer_norm.weight",
            "encoder.block.0.layer.1.DenseReluDense.wi_0.weight", "encoder.block.0.layer.1.DenseReluDense.wo.weight",
            "decoder.block.1.layer.1.EncDecAttention.q.weight", "decoder.block.1.layer.1.EncDecAttention.k.weight",
            "decoder.block.1.layer.1.EncDecAttention.o.weight", "decoder.block.0.layer.2.DenseReluDense.wi_1.weight",
            "decoder.block.0.layer.2.layer_norm.weight",
        ] {
            #expect(names.contains(expected), "\(expected)")
        }
        #expect(model.checkpointTensors.count == names.count)
        let v = model.checkpointTensors.first { $0.0 == "encoder.block.0.layer.0.SelfAttention.v.weight" }!.1
        #expect(v.shape == [16, 16] && v.scalars() == Array(model.encoderBlocks[0].attention.qkv.scalars()[512..<768]))
    }

    @Test func blocksStackAsEncoderDecoderPairs() {
        let model = T5(config, seed: 1)
        #expect(model.blockCount == 2)
        model.copyBlock(0, to: 1)
        #expect(
            model.decoderBlocks[1].crossAttention.kv.scalars() == model.decoderBlocks[0].crossAttention.kv.scalars())
        #expect(
            model.encoderBlocks[1].attention.relativeBias.scalars()
                == model.encoderBlocks[0].attention.relativeBias.scalars())
        let (inputs, decoderInputs, _) = batch()
        #expect(model.logits(inputs: inputs, decoderInputs: decoderInputs, activeBlocks: [0]).shape == [2, 4, 50])
    }
}
