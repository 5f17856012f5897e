/// The WordPiece model (Hugging Face `tokenizers` semantics): each word is split greedily into the
/// longest vocabulary pieces from the left; pieces after the first carry the continuing-subword
/// prefix ("##"). A word with a part no piece covers, or longer than `maxInputCharsPerWord`
/// characters, becomes the unknown token.
public final class WordPiece: Sendable {
    public let vocabulary: [String]
    public let ids: [String: Int32]
    public let unknownToken: String
    public let unknownID: Int32
    public let continuingSubwordPrefix: String
    public let maxInputCharsPerWord: Int
    /// Word-initial pieces, and continuation pieces with the prefix removed.
    private let initial: ByteTrie
    private let continuation: ByteTrie

    public init(
        vocabulary: [String], unknownToken: String, continuingSubwordPrefix: String = "##",
        maxInputCharsPerWord: Int = 100
    ) throws {
        var ids: [String: Int32] = [:]
        for (i, token) in vocabulary.enumerated() {
            guard ids[token] == nil else { throw InputError("tokenizer", "vocabulary lists '\(token)' twice") }
            ids[token] = Int32(i)
        }
        guard let unk = ids[unknownToken] else {
            throw InputError("tokenizer", "unknown token '\(unknownToken)' is not in the vocabulary")
        }
        self.vocabulary = vocabulary
        self.ids = ids
        self.unknownToken = unknownToken
        self.unknownID = unk
        self.continuingSubwordPrefix = continuingSubwordPrefix
        self.maxInputCharsPerWord = maxInputCharsPerWord
        var initial = ByteTrie(), continuation = ByteTrie()
        for (i, token) in vocabulary.enumerated() {
            if !continuingSubwordPrefix.isEmpty, token.hasPrefix(continuingSubwordPrefix),
                token.count > continuingSubwordPrefix.count
            {
                continuation.insert(Array(token.utf8.dropFirst(continuingSubwordPrefix.utf8.count)), id: Int32(i))
            } else {
                initial.insert(Array(token.utf8), id: Int32(i))
            }
        }
        self.initial = initial
        self.continuation = continuation
    }

    /// Appends the ids of `word` to `out`.
    public func encode(word: Substring, into out: inout [Int32]) {
        if word.unicodeScalars.count > maxInputCharsPerWord {
            out.append(unknownID)
            return
        }
        let bytes = Array(word.utf8)
        let mark = out.count
        var start = 0
        while start < bytes.count {
            let trie = start == 0 ? initial : continuation
            guard let (id, end) = trie.longestMatch(bytes, from: start) else {
                out.removeSubrange(mark...)
                out.append(unknownID)
                return
            }
            out.append(id)
            start = end
        }
    }

    public var count: Int { vocabulary.count }
}

/// A byte trie for longest-prefix matching; edges live in one hash map keyed by (node, byte).
struct ByteTrie: Sendable {
    private var edges: [UInt64: Int32] = [:]
    private var tokens: [Int32] = [-1]  // token id at each node, −1 if none

    mutating func insert(_ bytes: [UInt8], id: Int32) {
        var node: Int32 = 0
        for b in bytes {
            let key = UInt64(node) << 8 | UInt64(b)
            if let next = edges[key] {
                node = next
            } else {
                let next = Int32(tokens.count)
                tokens.append(-1)
                edges[key] = next
                node = next
            }
        }
        tokens[Int(node)] = id
    }

    func child(_ node: Int32, _ byte: UInt8) -> Int32? { edges[UInt64(node) << 8 | UInt64(byte)] }
    func token(_ node: Int32) -> Int32 { tokens[Int(node)] }

    /// The longest token starting at `start`: its id and end index.
    func longestMatch(_ bytes: [UInt8], from start: Int) -> (Int32, Int)? {
        var node: Int32 = 0, best: (Int32, Int)?
        var i = start
        while i < bytes.count, let next = edges[UInt64(node) << 8 | UInt64(bytes[i])] {
            node = next
            i += 1
            let t = tokens[Int(node)]
            if t >= 0 { best = (t, i) }
        }
        return best
    }
}
