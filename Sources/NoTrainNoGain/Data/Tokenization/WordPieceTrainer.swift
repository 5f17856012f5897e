import Engine

/// Learns a WordPiece vocabulary the way Hugging Face's `WordPieceTrainer` does: byte-pair-style
/// merges of the most frequent adjacent pair, over words split into characters where every
/// character after the first carries the continuing-subword prefix ("##"). The vocabulary is the
/// special tokens (ids 0, 1, …), the alphabet (by code point), then the merges in order.
///
/// Pair counts are kept incrementally (each merge updates only the words that contain the pair),
/// with a lazily updated max-heap, so training on a few MB takes seconds. Ties between equally
/// frequent pairs go to the pair with the smaller ids, so training is deterministic.
public struct WordPieceTrainer: Sendable {
    public var vocabularySize: Int
    public var specialTokens: [String]
    public var minimumFrequency: Int = 0
    public var continuingSubwordPrefix = "##"
    /// Keep at most this many distinct characters (the most frequent); nil keeps all.
    public var limitAlphabet: Int?

    public init(vocabularySize: Int, specialTokens: [String]) {
        self.vocabularySize = vocabularySize
        self.specialTokens = specialTokens
    }

    /// The vocabulary (index = id) learnt from word frequencies.
    public func train(wordCounts: [String: Int]) -> [String] {
        var vocabulary: [String] = []
        var ids: [String: Int32] = [:]
        func add(_ token: String) -> Int32 {
            if let id = ids[token] { return id }
            let id = Int32(vocabulary.count)
            vocabulary.append(token)
            ids[token] = id
            return id
        }
        for s in specialTokens { _ = add(s) }

        // Alphabet: characters by frequency (limited), then sorted by code point.
        var charCounts: [Unicode.Scalar: Int] = [:]
        for (word, count) in wordCounts { for c in word.unicodeScalars { charCounts[c, default: 0] += count } }
        var alphabet = charCounts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key.value < $1.key.value }
            .map(\.key)
        if let limit = limitAlphabet, alphabet.count > limit { alphabet = Array(alphabet.prefix(limit)) }
        let kept = Set(alphabet)
        for c in alphabet.sorted(by: { $0.value < $1.value }) { _ = add(String(c)) }

        // Words as symbol-id sequences (unknown characters dropped), sorted for determinism.
        let sortedWords = wordCounts.sorted { $0.key < $1.key }
        var words: [[Int32]] = [], counts: [Int] = []
        for (word, count) in sortedWords {
            var symbols: [Int32] = []
            for (i, c) in word.unicodeScalars.enumerated() where kept.contains(c) {
                symbols.append(add(i == 0 ? String(c) : continuingSubwordPrefix + String(c)))
            }
            if !symbols.isEmpty {
                words.append(symbols)
                counts.append(count)
            }
        }

        @inline(__always) func key(_ a: Int32, _ b: Int32) -> UInt64 { UInt64(UInt32(a)) << 32 | UInt64(UInt32(b)) }
        var pairCounts: [UInt64: Int] = [:]
        var pairWords: [UInt64: [Int32]] = [:]
        for (w, symbols) in words.enumerated() where symbols.count > 1 {
            for i in 0..<(symbols.count - 1) {
                let k = key(symbols[i], symbols[i + 1])
                pairCounts[k, default: 0] += counts[w]
                pairWords[k, default: []].append(Int32(w))
            }
        }
        var heap = PairHeap()
        for (k, c) in pairCounts { heap.push(count: c, pair: k) }

        var lastVisit = [Int](repeating: -1, count: words.count)
        var mergeIndex = 0
        while vocabulary.count < vocabularySize, let top = heap.pop() {
            let current = pairCounts[top.pair] ?? 0
            if current != top.count {
                if current > 0 { heap.push(count: current, pair: top.pair) }
                continue
            }
            if current < max(minimumFrequency, 1) { break }
            let a = Int32(truncatingIfNeeded: top.pair >> 32), b = Int32(truncatingIfNeeded: top.pair & 0xFFFF_FFFF)
            var right = vocabulary[Int(b)]
            if right.hasPrefix(continuingSubwordPrefix) { right.removeFirst(continuingSubwordPrefix.count) }
            let merged = add(vocabulary[Int(a)] + right)
            mergeIndex += 1
            var touched: [UInt64: Int] = [:]
            for w32 in pairWords[top.pair] ?? [] {
                let w = Int(w32)
                guard lastVisit[w] != mergeIndex else { continue }
                lastVisit[w] = mergeIndex
                let old = words[w]
                guard old.count > 1 else { continue }
                var new: [Int32] = []
                new.reserveCapacity(old.count)
                var i = 0, changed = false
                while i < old.count {
                    if i + 1 < old.count && old[i] == a && old[i + 1] == b {
                        new.append(merged)
                        i += 2
                        changed = true
                    } else {
                        new.append(old[i])
                        i += 1
                    }
                }
                guard changed else { continue }
                let c = counts[w]
                for i in 0..<(old.count - 1) { touched[key(old[i], old[i + 1]), default: 0] -= c }
                if new.count > 1 {
                    for i in 0..<(new.count - 1) {
                        let k = key(new[i], new[i + 1])
                        touched[k, default: 0] += c
                        if new[i] == merged || new[i + 1] == merged { pairWords[k, default: []].append(w32) }
                    }
                }
                words[w] = new
            }
            for (k, delta) in touched where delta != 0 {
                let updated = (pairCounts[k] ?? 0) + delta
                if updated > 0 {
                    pairCounts[k] = updated
                    if delta > 0 { heap.push(count: updated, pair: k) }
                } else {
                    pairCounts[k] = nil
                }
            }
            pairCounts[top.pair] = nil
            pairWords[top.pair] = nil
        }
        return vocabulary
    }
}

/// Max-heap of (count, pair); among equal counts the smaller pair key comes first.
struct PairHeap {
    private var items: [(count: Int, pair: UInt64)] = []

    private static func above(_ x: (count: Int, pair: UInt64), _ y: (count: Int, pair: UInt64)) -> Bool {
        x.count != y.count ? x.count > y.count : x.pair < y.pair
    }

    mutating func push(count: Int, pair: UInt64) {
        items.append((count, pair))
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard PairHeap.above(items[i], items[parent]) else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> (count: Int, pair: UInt64)? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var best = i
                if l < items.count && PairHeap.above(items[l], items[best]) { best = l }
                if r < items.count && PairHeap.above(items[r], items[best]) { best = r }
                if best == i { break }
                items.swapAt(i, best)
                i = best
            }
        }
        return top
    }
}
