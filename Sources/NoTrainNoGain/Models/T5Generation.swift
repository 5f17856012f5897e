import Engine

/// T5's decoder run one position at a time for a batch of encoder inputs, as Hugging Face's
/// `generate(use_cache=True)` runs it: the encoder once; per decoder block, the cross-attention keys
/// and values of the encoder output once, and a cache [B, capacity, 2·H·D] that each step appends its
/// self-attention keys and values to; the step's query takes its relative-position bias from its own
/// position `t` against keys 0…t. Step t costs O(t) attention instead of a whole-prefix recompute.
final class T5IncrementalDecoder {
    let model: T5
    let batch: Int
    let capacity: Int
    let encoderLengths: Tensor
    let crossKeysValues: [Tensor]
    let selfCaches: [Tensor]
    private(set) var position = 0

    /// `sources`: the encoder inputs (each non-empty), right-padded with `T5.padID` into one batch.
    init(_ model: T5, sources: [[Int32]], capacity: Int) {
        precondition(!sources.isEmpty && sources.allSatisfy { !$0.isEmpty } && capacity > 0)
        self.model = model
        batch = sources.count
        self.capacity = capacity
        let padded = PaddedIDs(sources, pad: T5.padID)
        encoderLengths = padded.lengths
        crossKeysValues = withoutGradients {
            let encoded = model.encode(inputs: padded.ids, inputLengths: padded.lengths)
            return model.decoderBlocks.map { $0.crossAttention.keysValues(encoded) }
        }
        selfCaches = model.decoderBlocks.map { _ in
            Tensor.zeros([sources.count, capacity, 2 * model.config.innerWidth])
        }
    }

    /// Feeds the token at the current position of every sequence and returns the next-token logits [B, V].
    func step(_ tokens: [Int32]) -> Tensor {
        precondition(tokens.count == batch && position < capacity, "decoder step \(position) of \(capacity)")
        let t = position
        position += 1
        return withoutGradients {
            let lengths = Tensor(int32: [Int32](repeating: Int32(t + 1), count: batch), shape: [batch])
            var y = model.embedding(Tensor(int32: tokens, shape: [batch, 1]))
            for (i, block) in model.decoderBlocks.enumerated() {
                y = block.attention.step(y, cache: selfCaches[i], position: t, keyLengths: lengths)
                y = block.crossAttention(y, keysValues: crossKeysValues[i], encoderLengths: encoderLengths)
                y = block.feedForward(y)
            }
            return model.lmHead(model.decoderNorm(y)).reshaped([batch, model.config.vocabularySize])
        }
    }
}

extension T5 {
    /// Greedy decoding (Hugging Face `generate` with one beam and `max_length` = `maxLength`, which
    /// counts the decoder's start token, so at most `maxLength` − 1 tokens are generated): starting
    /// from `T5.padID`, each step takes the most likely next token (the first on ties); a sequence ends
    /// at `eosID`, which it keeps, and the batch stops when every sequence has ended.
    public func greedyDecode(_ sources: [[Int32]], maxLength: Int = 128, eosID: Int32) -> [[Int32]] {
        guard maxLength > 1 else { return sources.map { _ in [] } }
        let decoder = T5IncrementalDecoder(self, sources: sources, capacity: maxLength - 1)
        let vocabulary = config.vocabularySize
        var outputs = [[Int32]](repeating: [], count: sources.count)
        var finished = [Bool](repeating: false, count: sources.count)
        var tokens = [Int32](repeating: T5.padID, count: sources.count)
        for _ in 0..<(maxLength - 1) {
            let logits = decoder.step(tokens).scalars()
            for b in 0..<sources.count {
                guard !finished[b] else {
                    tokens[b] = T5.padID
                    continue
                }
                let row = logits[(b * vocabulary)..<((b + 1) * vocabulary)]
                var best = row.startIndex
                for j in row.indices where row[j] > row[best] { best = j }
                tokens[b] = Int32(best - row.startIndex)
                outputs[b].append(tokens[b])
                finished[b] = tokens[b] == eosID
            }
            if !finished.contains(false) { break }
        }
        return outputs
    }
}
