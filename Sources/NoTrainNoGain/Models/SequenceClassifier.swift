import Engine

/// crammed BERT with cramming's fine-tuning head (`arch_modifications` of `bert/eval.py`): the hidden
/// state of each sequence's
/// first token → Linear(d → 1024) → tanh → dropout → Linear(1024 → classes). One output with a
/// squared-error loss for regression (STS-B), else cross-entropy. Dropout (0.1 in the encoder and
/// the head) is active while fine-tuning and off for evaluation.
public final class SequenceClassifier: Module {
    public let encoder: CrammedBERT
    public let dense: Linear
    public let output: Linear
    public let classes: Int
    public let headDropout: Float

    public init(encoder: CrammedBERT, classes: Int, headWidth: Int = 1024, headDropout: Float = 0.1, seed: UInt64) {
        self.encoder = encoder
        self.classes = classes
        self.headDropout = headDropout
        var g = SeededGenerator(seed: seed)
        dense = Linear(encoder.config.hidden, headWidth, std: encoder.config.initStd, bias: true, generator: &g)
        output = Linear(headWidth, classes, std: encoder.config.initStd, bias: true, generator: &g)
    }

    /// Outputs [B, classes] for ids [B, S] with `lengths` valid tokens each; dropout when `dropoutSeed` is given.
    public func callAsFunction(_ ids: Tensor, lengths: Tensor, dropoutSeed: UInt64?) -> Tensor {
        let b = ids.shape[0], s = ids.shape[1]
        let firstTokens = Tensor(int32: (0..<b).map { Int32($0 * s) }, shape: [b])
        let hidden = encoder.encode(ids, keyLengths: lengths, dropoutSeed: dropoutSeed, outputRows: firstTokens)
        let pooled = dense(hidden).tanh().dropout(
            probability: dropoutSeed == nil ? 0 : headDropout, seed: (dropoutSeed ?? 0) &+ 0xC1A5)
        return output(pooled)
    }

    public var parameters: [Parameter] {
        encoder.parameters + dense.parameters.prefixed("classifier.dense")
            + output.parameters.prefixed("classifier.out")
    }
}
