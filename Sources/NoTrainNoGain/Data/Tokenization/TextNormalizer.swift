import Foundation

/// Text normalisers as Hugging Face `tokenizers` defines them (the `normalizer` of a
/// `tokenizer.json`). Each is a String → String function; ASCII text takes fast byte-level paths.
///
/// cramming's WordPiece tokenizer (`tokenizer_preparation.py`) uses
/// `Sequence[Replace("``", "\""), Replace("''", "\""), NFD, Lowercase, StripAccents,
/// Replace(/ {2,}/, " "), Replace(/[^\x00-\x7F]+/, "")]`; HF BERT files use `BertNormalizer`.
public indirect enum TextNormalizer: Equatable, Sendable {
    case sequence([TextNormalizer])
    case nfd, nfc, nfkd, nfkc
    case lowercase
    /// Removes non-spacing marks (after NFD, this strips accents).
    case stripAccents
    case replace(pattern: ReplacePattern, content: String)
    /// HF's BertNormalizer: clean control characters and whitespace, pad CJK characters with spaces,
    /// strip accents (when `stripAccents` is true, or nil and `lowercase`), lowercase.
    case bert(cleanText: Bool, handleChineseChars: Bool, stripAccents: Bool?, lowercase: Bool)
    /// SentencePiece's compiled rules (T5's `nmt_nfkc`), as HF converts SentencePiece models.
    case precompiled(PrecompiledCharsmap)
    /// Removes whitespace (Unicode White_Space) at the start and/or the end.
    case strip(left: Bool, right: Bool)

    public enum ReplacePattern: Equatable, Sendable {
        case string(String)
        case regex(String)
    }

    /// The normaliser of cramming's tokenizer.
    public static let cramming = TextNormalizer.sequence([
        .replace(pattern: .string("``"), content: "\""), .replace(pattern: .string("''"), content: "\""),
        .nfd, .lowercase, .stripAccents,
        .replace(pattern: .regex(" {2,}"), content: " "), .replace(pattern: .regex("[^\\x00-\\x7F]+"), content: ""),
    ])

    public func callAsFunction(_ text: String) -> String {
        switch self {
        case .sequence(let steps):
            return steps.reduce(text) { $1($0) }
        case .nfd: return text.isASCII ? text : text.decomposedStringWithCanonicalMapping
        case .nfc: return text.isASCII ? text : text.precomposedStringWithCanonicalMapping
        case .nfkd: return text.isASCII ? text : text.decomposedStringWithCompatibilityMapping
        case .nfkc: return text.isASCII ? text : text.precomposedStringWithCompatibilityMapping
        case .lowercase: return TextNormalizer.lowercased(text)
        case .stripAccents: return TextNormalizer.removingNonspacingMarks(text)
        case .replace(let pattern, let content):
            return TextNormalizer.replace(text, pattern, content)
        case .bert(let clean, let chinese, let strip, let lower):
            var s = text
            if clean { s = TextNormalizer.cleanText(s) }
            if chinese { s = TextNormalizer.padChineseCharacters(s) }
            if strip ?? lower {
                s = TextNormalizer.removingNonspacingMarks(s.isASCII ? s : s.decomposedStringWithCanonicalMapping)
            }
            if lower { s = TextNormalizer.lowercased(s) }
            return s
        case .precompiled(let charsmap): return charsmap(text)
        case .strip(let left, let right):
            var scalars = Substring(text).unicodeScalars
            while left, let first = scalars.first, first.properties.isWhitespace { scalars.removeFirst() }
            while right, let last = scalars.last, last.properties.isWhitespace { scalars.removeLast() }
            return String(scalars)
        }
    }

    // MARK: Pieces

    static func replace(_ text: String, _ pattern: ReplacePattern, _ content: String) -> String {
        switch pattern {
        case .string(let literal):
            return literal.isEmpty ? text : text.replacingOccurrences(of: literal, with: content)
        case .regex(" {2,}"):
            // Runs of two or more spaces → content (byte-level fast path).
            var out: [UInt8] = []
            out.reserveCapacity(text.utf8.count)
            var run = 0
            for b in text.utf8 {
                if b == 32 { run += 1; continue }
                if run == 1 { out.append(32) } else if run > 1 { out.append(contentsOf: content.utf8) }
                run = 0
                out.append(b)
            }
            if run == 1 { out.append(32) } else if run > 1 { out.append(contentsOf: content.utf8) }
            return String(decoding: out, as: UTF8.self)
        case .regex("[^\\x00-\\x7F]+"):
            if text.isASCII { return text }
            var out: [UInt8] = [], inRun = false
            for b in text.utf8 {
                if b >= 0x80 {
                    if !inRun { out.append(contentsOf: content.utf8) }
                    inRun = true
                } else {
                    inRun = false
                    out.append(b)
                }
            }
            return String(decoding: out, as: UTF8.self)
        case .regex(let r):
            guard let regex = try? Regex(r) else { return text }
            return text.replacing(regex, with: content)
        }
    }

    static func lowercased(_ text: String) -> String {
        if text.isASCII {
            return String(decoding: text.utf8.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }, as: UTF8.self)
        }
        return text.lowercased()
    }

    static func removingNonspacingMarks(_ text: String) -> String {
        if text.isASCII { return text }
        var out = String.UnicodeScalarView()
        for s in text.unicodeScalars where s.properties.generalCategory != .nonspacingMark { out.append(s) }
        return String(out)
    }

    /// Drops NUL, U+FFFD and control/format/unassigned/private-use characters; maps whitespace to ' '.
    static func cleanText(_ s: String) -> String {
        var out = String.UnicodeScalarView()
        for c in s.unicodeScalars {
            if c == "\t" || c == "\n" || c == "\r" { out.append(" "); continue }
            if c.value == 0 || c.value == 0xFFFD { continue }
            switch c.properties.generalCategory {
            case .control, .format, .unassigned, .privateUse, .surrogate: continue
            default: break
            }
            out.append(c.properties.isWhitespace ? " " : c)
        }
        return String(out)
    }

    static func isChinese(_ v: UInt32) -> Bool {
        (0x4E00...0x9FFF).contains(v) || (0x3400...0x4DBF).contains(v) || (0x20000...0x2A6DF).contains(v)
            || (0x2A700...0x2B73F).contains(v) || (0x2B740...0x2B81F).contains(v) || (0x2B820...0x2CEAF).contains(v)
            || (0xF900...0xFAFF).contains(v) || (0x2F800...0x2FA1F).contains(v)
    }

    static func padChineseCharacters(_ s: String) -> String {
        if s.isASCII { return s }
        var out = String.UnicodeScalarView()
        for c in s.unicodeScalars {
            if isChinese(c.value) {
                out.append(" "); out.append(c); out.append(" ")
            } else {
                out.append(c)
            }
        }
        return String(out)
    }
}

extension String {
    /// True when every byte is ASCII.
    var isASCII: Bool { utf8.allSatisfy { $0 < 0x80 } }
}
