/// The model of a tokenizer: WordPiece (BERT) or Unigram (T5, SentencePiece).
public enum TokenizerModel: Sendable {
    case wordPiece(WordPiece)
    case unigram(Unigram)

    public var vocabulary: [String] {
        switch self {
        case .wordPiece(let m): return m.vocabulary
        case .unigram(let m): return m.vocabulary
        }
    }

    public var ids: [String: Int32] {
        switch self {
        case .wordPiece(let m): return m.ids
        case .unigram(let m): return m.ids
        }
    }

    public var count: Int { vocabulary.count }

    @inline(__always)
    public func encode(word: Substring, into out: inout [Int32]) {
        switch self {
        case .wordPiece(let m): m.encode(word: word, into: &out)
        case .unigram(let m): m.encode(word: word, into: &out)
        }
    }

    /// Text of a sequence of pieces: WordPiece attaches "##" continuations to the previous piece;
    /// Unigram pieces are concatenated and "▁" becomes a space.
    public func decode(_ pieces: [String]) -> String {
        switch self {
        case .wordPiece(let m):
            var out = ""
            for token in pieces {
                if token.hasPrefix(m.continuingSubwordPrefix) && !out.isEmpty {
                    out += token.dropFirst(m.continuingSubwordPrefix.count)
                } else {
                    out += out.isEmpty ? token : " " + token
                }
            }
            return out
        case .unigram:
            let text = pieces.joined().replacingOccurrences(of: PreTokenizer.spaceMark, with: " ")
            return text.hasPrefix(" ") ? String(text.dropFirst()) : text
        }
    }
}
