import Engine

/// T5 v1.1 for span-corruption pre-training (the original code's `t5/t5/models/t5.py`, Hugging Face's
/// `google/t5-v1_1-base` configuration):
///
///     encoder: E[inputs] → L × (pre-RMSNorm self-attention with relative bias, gated-GELU FFN) → RMSNorm
///     decoder: E[targets shifted right] → L × (causal self-attention with relative bias,
///              cross-attention to the encoder, gated-GELU FFN) → RMSNorm → lm_head (untied)
///
/// Every block has its own relative-bias table (NTNG's change, needed for stacking and dropping);
/// dropout is 0. Encoder and decoder blocks at the same depth form one position of the block stack,
/// so stacking copies both and dropping drops both.
public final class T5: PretrainingModel {
    public static let padID: Int32 = 0
    public var shape: any ModelKind { config }
    public let config: T5Config
    public let embedding: Embedding
    public let encoderBlocks: [T5EncoderBlock]
    public let encoderNorm: RMSNorm
    public let decoderBlocks: [T5DecoderBlock]
    public let decoderNorm: RMSNorm
    public let lmHead: Linear

    public init(_ config: T5Config, seed: UInt64) {
        precondition(config.problems().isEmpty, config.problems().joined(separator: "; "))
        self.config = config
        var g = SeededGenerator(seed: seed)
        embedding = Embedding(config.vocabularySize, config.hidden, std: 1, paddingIndex: nil, generator: &g)
        encoderBlocks = (0..<config.layers).map { _ in T5EncoderBlock(config, &g) }
        encoderNorm = RMSNorm(config.hidden, epsilon: config.normEpsilon)
        decoderBlocks = (0..<config.layers).map { _ in T5DecoderBlock(config, &g) }
        decoderNorm = RMSNorm(config.hidden, epsilon: config.normEpsilon)
        lmHead = Linear(config.hidden, config.vocabularySize, std: 1, generator: &g)
    }

    /// The decoder's final hidden states [B, St, d] for inputs [B, Si] and decoder inputs [B, St]
    /// (int32), running `activeBlocks` of the encoder and the decoder alike.
    public func decode(
        inputs: Tensor, decoderInputs: Tensor, inputLengths: Tensor? = nil, activeBlocks: [Int]? = nil
    ) -> Tensor {
        let order = activeBlocks ?? Array(encoderBlocks.indices)
        let encoded = encode(inputs: inputs, inputLengths: inputLengths, activeBlocks: order)
        var y = embedding(decoderInputs)
        for i in order { y = decoderBlocks[i](y, encoded: encoded, encoderLengths: inputLengths) }
        return decoderNorm(y)
    }

    /// The encoder's output [B, Si, d] for inputs [B, Si] (int32; `inputLengths` [B] valid tokens each).
    public func encode(inputs: Tensor, inputLengths: Tensor? = nil, activeBlocks: [Int]? = nil) -> Tensor {
        var x = embedding(inputs)
        for i in activeBlocks ?? Array(encoderBlocks.indices) { x = encoderBlocks[i](x, lengths: inputLengths) }
        return encoderNorm(x)
    }

    /// Logits [B, St, V] (see `decode`).
    public func logits(
        inputs: Tensor, decoderInputs: Tensor, inputLengths: Tensor? = nil, activeBlocks: [Int]? = nil
    ) -> Tensor {
        lmHead(
            decode(inputs: inputs, decoderInputs: decoderInputs, inputLengths: inputLengths, activeBlocks: activeBlocks)
        )
    }

    /// The fine-tuning loss of Hugging Face's `T5ForConditionalGeneration(labels=…)`: sources and
    /// targets right-padded, decoder inputs = targets shifted right behind `T5.padID`, cross-entropy
    /// averaged over the batch's real target tokens (padding ignored). Returns the loss and that count.
    public func sequenceToSequenceLoss(sources: [[Int32]], targets: [[Int32]]) -> (loss: Tensor, tokens: Int) {
        precondition(sources.count == targets.count && targets.allSatisfy { !$0.isEmpty })
        let inputs = PaddedIDs(sources, pad: T5.padID)
        let decoderInputs = PaddedIDs(targets.map { [T5.padID] + $0.dropLast() }, pad: T5.padID)
        let labels = PaddedIDs(targets, pad: -100)
        let logits = self.logits(inputs: inputs.ids, decoderInputs: decoderInputs.ids, inputLengths: inputs.lengths)
        let ce = softmaxCrossEntropy(
            logits: logits.reshaped([targets.count * labels.width, config.vocabularySize]),
            labels: labels.ids.reshaped([targets.count * labels.width]))
        return (ce.loss, ce.count)
    }

    /// Decoder hidden states [B·St, d] for a span-corruption batch (decoder inputs: targets shifted right).
    func decode(_ batch: PretrainingBatch, activeBlocks: [Int]?) -> Tensor {
        precondition(!batch.labels.contains(PretrainingBatch.ignoreLabel), "T5 batches predict every target token")
        let inputs = Tensor(int32: batch.inputIDs, shape: [batch.batchSize, batch.sequenceLength])
        let decoderInputs = Tensor(
            int32: batch.decoderInputIDs(startID: T5.padID), shape: [batch.batchSize, batch.targetLength])
        return decode(inputs: inputs, decoderInputs: decoderInputs, activeBlocks: activeBlocks)
            .reshaped([batch.batchSize * batch.targetLength, config.hidden])
    }

    /// Logits at every target position of a span-corruption batch.
    public func predictions(_ batch: PretrainingBatch, activeBlocks: [Int]? = nil) -> Predictions {
        Predictions(
            logits: lmHead(decode(batch, activeBlocks: activeBlocks)), labels: batch.labels,
            rows: (0..<Int32(batch.batchSize)).flatMap { [Int32](repeating: $0, count: batch.targetLength) })
    }

    /// The decoder's final hidden states at every target position, [B·St, d].
    public func finalHiddenStates(_ batch: PretrainingBatch, activeBlocks: [Int]? = nil) -> Tensor {
        decode(batch, activeBlocks: activeBlocks)
    }

    public var parameters: [Parameter] {
        embedding.parameters.prefixed("shared")
            + encoderBlocks.enumerated().flatMap { $1.parameters.prefixed("encoder.block.\($0)") }
            + encoderNorm.parameters.prefixed("encoder.final_layer_norm")
            + decoderBlocks.enumerated().flatMap { $1.parameters.prefixed("decoder.block.\($0)") }
            + decoderNorm.parameters.prefixed("decoder.final_layer_norm")
            + lmHead.parameters.prefixed("lm_head")
    }

    /// Checkpoint tensors: Hugging Face T5 names, fused projections split into q/k/v/wi_0/wi_1
    /// views; the per-block relative-bias tables keep their names
    /// (`….SelfAttention.relative_attention_bias.weight`, HF keeps only block 0's).
    public var checkpointTensors: [(String, Tensor)] {
        let inner = config.innerWidth, d = config.hidden, ff = config.feedForward
        func split(_ p: Parameter, _ names: [String], rows: Int) -> [(String, Tensor)] {
            let prefix = p.name.split(separator: ".").dropLast(2).joined(separator: ".")
            return names.enumerated().map { i, n in
                (
                    "\(prefix).\(n).weight",
                    p.tensor.storageView((i * rows * d)..<((i + 1) * rows * d), shape: [rows, d])
                )
            }
        }
        return parameters.flatMap { p -> [(String, Tensor)] in
            let name = p.name
            if name.hasSuffix("layer.0.qkv.weight") {
                return split(p, ["SelfAttention.q", "SelfAttention.k", "SelfAttention.v"], rows: inner)
            }
            if name.hasSuffix("layer.1.kv.weight") {
                return split(p, ["EncDecAttention.k", "EncDecAttention.v"], rows: inner)
            }
            if name.hasSuffix(".wi.weight") {
                return split(p, ["DenseReluDense.wi_0", "DenseReluDense.wi_1"], rows: ff)
            }
            return [(T5.huggingFaceName(name), p.tensor)]
        }
    }

    /// Our parameter names → HF's where they differ (o, q, wo, norms, bias table).
    static func huggingFaceName(_ name: String) -> String {
        var n = name
        let rules: [(String, String)] = [
            ("layer.0.o.", "layer.0.SelfAttention.o."),
            ("layer.0.relative_attention_bias", "layer.0.SelfAttention.relative_attention_bias"),
            ("layer.1.q.", "layer.1.EncDecAttention.q."), ("layer.1.o.", "layer.1.EncDecAttention.o."),
            (".wo.", ".DenseReluDense.wo."),
        ]
        for (from, to) in rules where n.contains(from) { n = n.replacingOccurrences(of: from, with: to) }
        return n
    }
}

extension T5: BlockStack {
    public var blockCount: Int { encoderBlocks.count }
    public func parameters(ofBlock index: Int) -> [Parameter] {
        encoderBlocks[index].parameters + decoderBlocks[index].parameters
    }
}

import Foundation
