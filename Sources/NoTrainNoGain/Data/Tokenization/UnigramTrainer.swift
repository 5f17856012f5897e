import Engine
import Foundation

/// Learns a Unigram vocabulary as SentencePiece's trainer does (Kudo 2018):
///
/// 1. seed: every substring of the (Metaspace-split) words up to `maxPieceLength` characters, the
///    most frequent `seedSize` of them by frequency × length, plus every character;
/// 2. EM: the expected count of every piece over all segmentations of every word (forward–backward
///    on the word's lattice, weighted by the word's frequency), then log p = log(count / total);
/// 3. prune: the pieces whose removal loses least likelihood go — a piece's loss is its frequency
///    times the log-probability drop when its occurrences are re-segmented into the alternative
///    pieces of its own best segmentation — keeping `shrinkingFactor` of them per round, until the
///    vocabulary fits; characters always stay.
///
/// Words are weighted by frequency, so training on a few MB takes seconds.
public struct UnigramTrainer: Sendable {
    public var vocabularySize: Int
    public var specialTokens: [String]
    public var maxPieceLength = 16
    public var seedSize = 200_000
    public var shrinkingFactor = 0.75
    public var emIterations = 2

    public init(vocabularySize: Int, specialTokens: [String]) {
        self.vocabularySize = vocabularySize
        self.specialTokens = specialTokens
    }

    /// (piece, log probability) pairs, best first (special tokens are not included).
    public func train(wordCounts: [String: Int]) -> [(String, Double)] {
        let target = max(vocabularySize - specialTokens.count, 1)
        let words = wordCounts.sorted { $0.key < $1.key }.map { (Array($0.key.unicodeScalars), Double($0.value)) }
        // 1. Seed pieces.
        var characters: [String: Double] = [:], substrings: [String: Double] = [:]
        for (scalars, count) in words {
            for i in scalars.indices {
                characters[String(scalars[i]), default: 0] += count
                var piece = String(scalars[i])
                for j in (i + 1)..<min(scalars.count, i + maxPieceLength) {
                    piece.unicodeScalars.append(scalars[j])
                    substrings[piece, default: 0] += count
                }
            }
        }
        let seeds = substrings.filter { $0.value > 1 }.sorted {
            $0.value * Double($0.key.unicodeScalars.count) != $1.value * Double($1.key.unicodeScalars.count)
                ? $0.value * Double($0.key.unicodeScalars.count) > $1.value * Double($1.key.unicodeScalars.count)
                : $0.key < $1.key
        }.prefix(seedSize)
        var pieces: [String: Double] = characters
        for (p, f) in seeds { pieces[p] = f * Double(p.unicodeScalars.count) }
        let required = Set(characters.keys)
        var logp = normalized(pieces)

        // 2–3. EM and pruning rounds.
        while true {
            for _ in 0..<emIterations {
                let expected = expectations(words, logp)
                var kept = expected.filter { $0.value > 0.5 || required.contains($0.key) }
                for c in required where kept[c] == nil { kept[c] = 1e-3 }
                logp = normalized(kept)
            }
            if logp.count <= target { break }
            let next = max(target, Int(Double(logp.count) * shrinkingFactor))
            logp = prune(words, logp, keep: next, required: required)
            if logp.count <= target {
                logp = normalized(expectations(words, logp).merging(required.map { ($0, 1e-3) }) { a, _ in a })
                break
            }
        }
        // Drop the weakest non-character pieces if there are still too many.
        var ranked = logp.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        if ranked.count > target {
            let chars = ranked.filter { required.contains($0.key) },
                others = ranked.filter { !required.contains($0.key) }
            ranked = (chars + others.prefix(max(0, target - chars.count))).sorted {
                $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key
            }
        }
        return ranked.map { ($0.key, $0.value) }
    }

    func normalized(_ counts: [String: Double]) -> [String: Double] {
        let total = UnigramTrainer.sum(counts)
        return counts.mapValues { log(max($0, 1e-12) / total) }
    }

    /// The sum of the values in key order: a dictionary's own order changes from process to process
    /// (its hashing is seeded per process), and so would the rounding of a sum in that order — and
    /// with it the trained vocabulary.
    static func sum(_ values: [String: Double]) -> Double {
        values.sorted { $0.key < $1.key }.reduce(0) { $0 + $1.value }
    }

    /// Expected count of every piece: Σ_words count · P(piece used | word) by forward–backward.
    func expectations(_ words: [([Unicode.Scalar], Double)], _ logp: [String: Double]) -> [String: Double] {
        let maxLength = maxPieceLength
        let partial = Parallel.mapRanges(words.count, grain: 256) { range -> [String: Double] in
            var expected: [String: Double] = [:]
            for w in range {
                let (s, count) = words[w]
                let n = s.count
                var edges: [(Int, Int, String, Double)] = []  // start, end, piece, log p
                for i in 0..<n {
                    var piece = ""
                    for j in i..<min(n, i + maxLength) {
                        piece.unicodeScalars.append(s[j])
                        if let lp = logp[piece] { edges.append((i, j + 1, piece, lp)) }
                    }
                }
                var alpha = [Double](repeating: -.infinity, count: n + 1), beta = alpha
                alpha[0] = 0
                for e in edges.sorted(by: { $0.0 < $1.0 }) { alpha[e.1] = logAdd(alpha[e.1], alpha[e.0] + e.3) }
                beta[n] = 0
                for e in edges.sorted(by: { $0.1 > $1.1 }) { beta[e.0] = logAdd(beta[e.0], beta[e.1] + e.3) }
                let z = alpha[n]
                guard z > -.infinity else { continue }
                for e in edges {
                    let p = exp(alpha[e.0] + e.3 + beta[e.1] - z)
                    if p > 1e-12 { expected[e.2, default: 0] += count * p }
                }
            }
            return expected
        }
        return partial.reduce(into: [:]) { total, part in total.merge(part, uniquingKeysWith: +) }
    }

    /// Keeps the `keep` pieces whose removal would cost most likelihood (characters always).
    func prune(
        _ words: [([Unicode.Scalar], Double)], _ logp: [String: Double], keep: Int, required: Set<String>
    ) -> [String: Double] {
        // Hard (Viterbi) frequencies of the pieces over the corpus.
        var frequency: [String: Double] = [:]
        for (s, count) in words {
            for piece in viterbi(s, logp, excluding: nil) { frequency[piece, default: 0] += count }
        }
        let total = UnigramTrainer.sum(frequency)
        var loss: [String: Double] = [:]
        for (piece, lp) in logp where !required.contains(piece) {
            let f = frequency[piece] ?? 0
            guard f > 0 else { loss[piece] = -.infinity; continue }
            let alternatives = viterbi(Array(piece.unicodeScalars), logp, excluding: piece)
            let newTotal = total + f * Double(alternatives.count - 1)
            let alternativeLog = alternatives.map { log(((frequency[$0] ?? 0) + f) / newTotal) }.reduce(0, +)
            loss[piece] = f * (lp - alternativeLog)
        }
        let keptOthers = loss.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(
            max(0, keep - required.count)
        ).map(\.key)
        var out: [String: Double] = [:]
        for p in keptOthers { out[p] = logp[p] }
        for c in required { out[c] = logp[c] ?? log(1e-12) }
        return out
    }

    /// The best segmentation of `s` by log probability, optionally without one piece.
    func viterbi(_ s: [Unicode.Scalar], _ logp: [String: Double], excluding: String?) -> [String] {
        let n = s.count
        var best = [Double](repeating: -.infinity, count: n + 1),
            back = [(Int, String)](repeating: (-1, ""), count: n + 1)
        best[0] = 0
        for i in 0..<n where best[i] > -.infinity {
            var piece = ""
            for j in i..<min(n, i + maxPieceLength) {
                piece.unicodeScalars.append(s[j])
                guard piece != excluding, let lp = logp[piece] else { continue }
                if best[i] + lp > best[j + 1] { best[j + 1] = best[i] + lp; back[j + 1] = (i, piece) }
            }
        }
        var out: [String] = [], e = n
        while e > 0, back[e].0 >= 0 { out.append(back[e].1); e = back[e].0 }
        return out.reversed()
    }
}

@inline(__always) func logAdd(_ a: Double, _ b: Double) -> Double {
    if a == -.infinity { return b }
    if b == -.infinity { return a }
    return max(a, b) + log1p(exp(-abs(a - b)))
}
