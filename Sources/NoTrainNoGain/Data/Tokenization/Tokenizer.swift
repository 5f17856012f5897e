import Engine

/// A tokenizer pipeline (Hugging Face `tokenizers` layout), WordPiece or Unigram:
/// added tokens are matched in the raw text first; the rest is normalised, split into words by
/// the pre-tokeniser, split into pieces by the model; the post-processor adds special tokens.
public final class Tokenizer: Sendable {
    public struct AddedToken: Equatable, Sendable {
        public var id: Int32
        public var content: String
        public var special: Bool
        public var normalized: Bool
        public var lstrip: Bool
        public var rstrip: Bool
        public var singleWord: Bool

        public init(
            id: Int32, content: String, special: Bool = true, normalized: Bool = false,
            lstrip: Bool = false, rstrip: Bool = false, singleWord: Bool = false
        ) {
            self.id = id
            self.content = content
            self.special = special
            self.normalized = normalized
            self.lstrip = lstrip
            self.rstrip = rstrip
            self.singleWord = singleWord
        }
    }

    public let normalizer: TextNormalizer?
    public let preTokenizer: PreTokenizer?
    public let model: TokenizerModel
    public let postProcessor: TemplateProcessor?
    public let addedTokens: [AddedToken]
    /// Added tokens longest first, for matching.
    private let matchOrder: [AddedToken]

    public init(
        normalizer: TextNormalizer?, preTokenizer: PreTokenizer?, model: TokenizerModel,
        postProcessor: TemplateProcessor?, addedTokens: [AddedToken]
    ) {
        self.normalizer = normalizer
        self.preTokenizer = preTokenizer
        self.model = model
        self.postProcessor = postProcessor
        self.addedTokens = addedTokens
        matchOrder = addedTokens.filter { !$0.content.isEmpty }.sorted { $0.content.utf8.count > $1.content.utf8.count }
    }

    public var vocabularySize: Int { model.count }

    public func id(of token: String) -> Int32? { model.ids[token] }

    /// Ids of the special tokens (never masked).
    public var specialIDs: [Int32] { addedTokens.filter(\.special).map(\.id) }

    /// The id of the first of `names` that the vocabulary has.
    public func firstID(_ names: [String]) -> Int32? { names.lazy.compactMap { self.model.ids[$0] }.first }

    public var padID: Int32? { firstID(["<pad>", "[PAD]"]) }
    public var maskID: Int32? { firstID(["<mask>", "[MASK]"]) }
    public var clsID: Int32? { firstID(["<cls>", "[CLS]", "<s>"]) }
    public var sepID: Int32? { firstID(["<sep>", "[SEP]", "</s>"]) }
    public var eosID: Int32? { firstID(["</s>", "<sep>", "[SEP]"]) }

    /// Ids of `text` without special-token templates.
    public func encodeWithoutTemplate(_ text: String) -> [Int32] {
        var out: [Int32] = []
        for segment in splitOnAddedTokens(text) {
            switch segment {
            case .token(let id): out.append(id)
            case .text(let t):
                let normal = normalizer.map { $0(t) } ?? t
                let words = preTokenizer.map { $0(normal) } ?? [Substring(normal)]
                for w in words where !w.isEmpty { model.encode(word: w, into: &out) }
            }
        }
        return out
    }

    /// Ids of `text` (and `pair`) with the post-processor's special tokens.
    public func encode(_ text: String, pair: String? = nil, addSpecialTokens: Bool = true) -> [Int32] {
        let a = encodeWithoutTemplate(text), b = pair.map(encodeWithoutTemplate)
        guard addSpecialTokens, let post = postProcessor else { return a + (b ?? []) }
        return post.apply(a, b)
    }

    /// Text of `ids` (the model's decoder: WordPiece continuations attach, Unigram's "▁" are spaces).
    public func decode(_ ids: [Int32], skipSpecialTokens: Bool = true) -> String {
        let special = Set(addedTokens.filter(\.special).map(\.id))
        let vocabulary = model.vocabulary
        return model.decode(
            ids.filter { $0 >= 0 && Int($0) < vocabulary.count && !(skipSpecialTokens && special.contains($0)) }
                .map { vocabulary[Int($0)] })
    }

    /// Ids of many documents without templates, in parallel.
    public func encodeAll(_ texts: [String]) -> [[Int32]] {
        var out = [[Int32]](repeating: [], count: texts.count)
        out.withUnsafeMutableBufferPointer { buffer in
            let b = buffer
            Parallel.ranges(texts.count) { r in for i in r { b[i] = self.encodeWithoutTemplate(texts[i]) } }
        }
        return out
    }

    enum Segment { case text(String), token(Int32) }

    /// Splits raw text at occurrences of added tokens (longest match first).
    func splitOnAddedTokens(_ text: String) -> [Segment] {
        guard !matchOrder.isEmpty, text.contains(where: { _ in true }) else { return [.text(text)] }
        var segments: [Segment] = []
        let bytes = Array(text.utf8)
        var pending: [UInt8] = []
        var i = 0
        outer: while i < bytes.count {
            for t in matchOrder {
                let c = Array(t.content.utf8)
                if bytes.count - i >= c.count && bytes[i] == c[0] && Array(bytes[i..<(i + c.count)]) == c {
                    if t.lstrip { while pending.last == 32 { pending.removeLast() } }
                    if !pending.isEmpty { segments.append(.text(String(decoding: pending, as: UTF8.self))) }
                    pending = []
                    segments.append(.token(t.id))
                    i += c.count
                    if t.rstrip { while i < bytes.count && bytes[i] == 32 { i += 1 } }
                    continue outer
                }
            }
            pending.append(bytes[i])
            i += 1
        }
        if !pending.isEmpty { segments.append(.text(String(decoding: pending, as: UTF8.self))) }
        return segments
    }
}
