/// The Unigram language-model tokenizer (Kudo 2018; SentencePiece, Hugging Face `Unigram`): every
/// piece has a log probability, and a word is segmented into the pieces with the highest total by
/// Viterbi. A character that no single-character piece covers becomes the unknown token with score
/// min(score) − 10, and consecutive unknowns are fused into one, as Hugging Face does.
public final class Unigram: Sendable {
    public let vocabulary: [String]
    public let scores: [Double]
    public let ids: [String: Int32]
    public let unknownID: Int32
    private let trie: ByteTrie
    private let unknownScore: Double

    public init(vocabulary: [(String, Double)], unknownID: Int) throws {
        guard unknownID >= 0 && unknownID < vocabulary.count else {
            throw InputError("tokenizer", "unk_id \(unknownID) is outside the vocabulary of \(vocabulary.count)")
        }
        var ids: [String: Int32] = [:], trie = ByteTrie()
        for (i, (piece, _)) in vocabulary.enumerated() {
            guard ids[piece] == nil else { throw InputError("tokenizer", "vocabulary lists '\(piece)' twice") }
            ids[piece] = Int32(i)
            if i != unknownID && !piece.isEmpty { trie.insert(Array(piece.utf8), id: Int32(i)) }
        }
        self.vocabulary = vocabulary.map(\.0)
        scores = vocabulary.map(\.1)
        self.ids = ids
        self.unknownID = Int32(unknownID)
        self.trie = trie
        unknownScore = (scores.min() ?? 0) - 10
    }

    public var count: Int { vocabulary.count }

    /// Appends the best segmentation of `word` to `out`.
    public func encode(word: Substring, into out: inout [Int32]) {
        let bytes = Array(word.utf8)
        let n = bytes.count
        guard n > 0 else { return }
        // best[e]: best score of a segmentation of bytes[0..<e], its last piece start and id.
        var bestScore = [Double](repeating: -.infinity, count: n + 1)
        var start = [Int](repeating: -1, count: n + 1), piece = [Int32](repeating: -1, count: n + 1)
        bestScore[0] = 0
        var s = 0
        while s < n {
            if bestScore[s] > -.infinity {
                let charEnd = s + ByteTrie.utf8Length(bytes[s])
                var single = false
                trie.forEachPrefix(bytes, from: s) { id, end in
                    let candidate = bestScore[s] + scores[Int(id)]
                    if start[end] < 0 || candidate > bestScore[end] {
                        bestScore[end] = candidate
                        start[end] = s
                        piece[end] = id
                    }
                    if end == charEnd { single = true }
                }
                if !single {
                    let candidate = bestScore[s] + unknownScore
                    let end = min(charEnd, n)
                    if start[end] < 0 || candidate > bestScore[end] {
                        bestScore[end] = candidate
                        start[end] = s
                        piece[end] = unknownID
                    }
                }
            }
            s += ByteTrie.utf8Length(bytes[s])
        }
        var path: [Int32] = []
        var e = n
        while e > 0 {
            let id = piece[e]
            if !(id == unknownID && path.last == unknownID) { path.append(id) }  // fuse consecutive unknowns
            e = start[e]
        }
        out += path.reversed()
    }
}

extension ByteTrie {
    /// Calls `body(id, end)` for every piece that starts at `start`, shortest first.
    func forEachPrefix(_ bytes: [UInt8], from start: Int, _ body: (Int32, Int) -> Void) {
        var node: Int32 = 0
        var i = start
        while i < bytes.count, let next = child(node, bytes[i]) {
            node = next
            i += 1
            let t = token(node)
            if t >= 0 { body(t, i) }
        }
    }

    /// Bytes in the UTF-8 character that starts with `lead`.
    static func utf8Length(_ lead: UInt8) -> Int {
        lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4
    }
}
