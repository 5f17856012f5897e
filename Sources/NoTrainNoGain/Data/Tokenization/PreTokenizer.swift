import Foundation

/// Pre-tokenisers as Hugging Face `tokenizers` defines them: split normalised text into words
/// that the model then splits into pieces.
public indirect enum PreTokenizer: Equatable, Sendable {
    /// `\w+|[^\w\s]+`: runs of word characters, or runs of other non-space characters (cramming).
    case whitespace
    /// Splits on whitespace and isolates every punctuation character (HF BERT).
    case bert
    /// Splits on whitespace only.
    case whitespaceSplit
    /// SentencePiece style: spaces become "▁", a "▁" is put in front (scheme `always`, or `first`
    /// for the first piece only, or `never`), and with `split` the text is cut before every "▁".
    case metaspace(replacement: String, prependScheme: String, split: Bool)
    case sequence([PreTokenizer])

    /// U+2581, SentencePiece's word-boundary mark.
    public static let spaceMark = "▁"

    /// Words of `text`, in order.
    public func callAsFunction(_ text: String) -> [Substring] { split([Substring(text)]) }

    func split(_ pieces: [Substring]) -> [Substring] {
        switch self {
        case .sequence(let steps): return steps.reduce(pieces) { $1.split($0) }
        case .whitespace: return pieces.flatMap { PreTokenizer.runs($0) }
        case .bert: return pieces.flatMap { PreTokenizer.bertSplit($0) }
        case .whitespaceSplit: return pieces.flatMap { $0.split(whereSeparator: { $0.isWhitespace }) }
        case .metaspace(let replacement, let scheme, let split):
            return pieces.enumerated().flatMap { index, piece -> [Substring] in
                guard !piece.isEmpty else { return [] }
                var text = piece.replacingOccurrences(of: " ", with: replacement)
                if (scheme == "always" || (scheme == "first" && index == 0)) && !text.hasPrefix(replacement) {
                    text = replacement + text
                }
                guard split else { return [Substring(text)] }
                var words: [Substring] = [], current = ""
                for ch in text {
                    if String(ch) == replacement && !current.isEmpty { words.append(Substring(current)); current = "" }
                    current.append(ch)
                }
                if !current.isEmpty { words.append(Substring(current)) }
                return words
            }
        }
    }

    static func isWordCharacter(_ c: Unicode.Scalar) -> Bool {
        if c.isASCII {
            let v = c.value
            return (v >= 48 && v <= 57) || (v >= 65 && v <= 90) || (v >= 97 && v <= 122) || v == 95
        }
        let p = c.properties
        switch p.generalCategory {
        case .decimalNumber, .connectorPunctuation, .nonspacingMark, .spacingMark, .enclosingMark: return true
        default: return p.isAlphabetic || p.isJoinControl
        }
    }

    static func isSpace(_ c: Unicode.Scalar) -> Bool { c.properties.isWhitespace }

    /// Maximal runs of word characters and of non-word, non-space characters.
    static func runs(_ s: Substring) -> [Substring] {
        var out: [Substring] = []
        var start: String.Index?, kind = 0  // 1 = word, 2 = other
        var i = s.unicodeScalars.startIndex
        let scalars = s.unicodeScalars
        while i < scalars.endIndex {
            let c = scalars[i]
            let k = isSpace(c) ? 0 : (isWordCharacter(c) ? 1 : 2)
            if k != kind {
                if let st = start { out.append(s[st..<i]) }
                start = k == 0 ? nil : i
                kind = k
            }
            i = scalars.index(after: i)
        }
        if let st = start { out.append(s[st..<s.endIndex]) }
        return out
    }

    static func isBertPunctuation(_ c: Unicode.Scalar) -> Bool {
        let v = c.value
        if (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v) {
            return true
        }
        switch c.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
            .finalPunctuation, .otherPunctuation:
            return true
        default: return false
        }
    }

    /// Whitespace-separated words with each punctuation character as its own word.
    static func bertSplit(_ s: Substring) -> [Substring] {
        var out: [Substring] = []
        var start: String.Index?
        let scalars = s.unicodeScalars
        var i = scalars.startIndex
        while i < scalars.endIndex {
            let c = scalars[i]
            let next = scalars.index(after: i)
            if isSpace(c) {
                if let st = start { out.append(s[st..<i]); start = nil }
            } else if isBertPunctuation(c) {
                if let st = start { out.append(s[st..<i]); start = nil }
                out.append(s[i..<next])
            } else if start == nil {
                start = i
            }
            i = next
        }
        if let st = start { out.append(s[st..<s.endIndex]) }
        return out
    }
}
