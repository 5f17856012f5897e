import Engine
import Testing

@testable import NoTrainNoGain

/// The cached (incremental) decoder against recomputing the whole prefix at every step.
struct T5GenerationTests {
    // 8 buckets, max distance 16: causal distances of 4 and more fall in the logarithmic buckets.
    let model = T5(
        T5Config(
            layers: 2, hidden: 32, heads: 4, headDim: 8, feedForward: 48, vocabularySize: 40, relativeBuckets: 8,
            maxDistance: 16), seed: 3)
    let sources: [[Int32]] = [[5, 9, 13, 2, 7, 30, 1], [11, 1], [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 1]]

    /// Logits [B, V] at the last position, recomputing encoder and decoder over the whole prefix
    /// (each source alone, so padding plays no part).
    func recomputed(_ prefixes: [[Int32]]) -> [[Float]] {
        zip(sources, prefixes).map { source, prefix in
            withoutGradients {
                let logits = model.logits(
                    inputs: Tensor(int32: source, shape: [1, source.count]),
                    decoderInputs: Tensor(int32: prefix, shape: [1, prefix.count])
                ).scalars()
                return Array(logits.suffix(40))
            }
        }
    }

    @Test func cachedStepsGiveTheLogitsOfAFullRecompute() {
        var g = SeededGenerator(seed: 9)
        let decoder = T5IncrementalDecoder(model, sources: sources, capacity: 24)
        var prefixes = sources.map { _ in [T5.padID] }
        var largest: Float = 0
        for _ in 0..<24 {
            let cached = decoder.step(prefixes.map { $0.last! }).scalars()
            for (b, expected) in recomputed(prefixes).enumerated() {
                for (v, e) in expected.enumerated() { largest = max(largest, abs(cached[b * 40 + v] - e)) }
            }
            for b in prefixes.indices { prefixes[b].append(Int32(2 + g.int(below: 38))) }
        }
        // Float32 sums in a different order: the stated tolerance is 1e-4 on logits of order 1–10.
        #expect(largest < 1e-4, "largest logit difference \(largest)")
    }

    /// Greedy decoding by recomputation: the reference the cached version must reproduce token for token.
    func greedyByRecompute(maxLength: Int, eosID: Int32) -> [[Int32]] {
        var prefixes = sources.map { _ in [T5.padID] }
        var finished = sources.map { _ in false }
        for _ in 0..<(maxLength - 1) where finished.contains(false) {
            for (b, logits) in recomputed(prefixes).enumerated() where !finished[b] {
                let next = Int32(
                    logits.indices.max { logits[$0] < logits[$1] || (logits[$0] == logits[$1] && $0 > $1) }!)
                prefixes[b].append(next)
                finished[b] = next == eosID
            }
        }
        return prefixes.map { Array($0.dropFirst()) }
    }

    @Test func greedyDecodingMatchesRecomputationAndStopsAtEOS() {
        let free = model.greedyDecode(sources, maxLength: 20, eosID: -1)
        #expect(free.allSatisfy { $0.count == 19 })
        #expect(free == greedyByRecompute(maxLength: 20, eosID: -1))
        // Decoding a source alone or in a padded batch gives the same tokens.
        for (b, source) in sources.enumerated() {
            #expect(model.greedyDecode([source], maxLength: 20, eosID: -1)[0] == free[b])
        }
        // With a token sequence 0 produces at step 5 as end-of-sequence: every sequence stops at its first
        // occurrence (kept) and is otherwise the same.
        let eos = free[0][5]
        let stopped = model.greedyDecode(sources, maxLength: 20, eosID: eos)
        for (b, tokens) in free.enumerated() {
            let cut = tokens.firstIndex(of: eos).map { Array(tokens[...$0]) } ?? tokens
            #expect(stopped[b] == cut)
        }
        #expect(stopped[0].count <= 6 && stopped == greedyByRecompute(maxLength: 20, eosID: eos))
        #expect(model.greedyDecode(sources, maxLength: 1, eosID: 1) == [[], [], []])
    }
}
