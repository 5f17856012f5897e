/// The few Python `str` operations the SNI prompt and its metrics are defined with, with Python's
/// Unicode semantics, so that prompts and scores match Tk-Instruct's on any text.
enum PythonText {
    /// `string.punctuation`: the 32 ASCII punctuation characters.
    static let punctuation = Set(##"!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~"##.unicodeScalars)

    /// `str.isspace()` of one character: Unicode White_Space plus the separators U+001C…U+001F.
    static func isSpace(_ s: Unicode.Scalar) -> Bool {
        s.properties.isWhitespace || (0x1C...0x1F).contains(s.value)
    }

    /// `str.strip()`.
    static func strip(_ text: String) -> String {
        let scalars = Array(text.unicodeScalars)
        guard let first = scalars.firstIndex(where: { !isSpace($0) }),
            let last = scalars.lastIndex(where: { !isSpace($0) })
        else { return "" }
        return string(scalars[first...last])
    }

    /// `str.split()` (no argument): the runs of non-space characters.
    static func split(_ text: String) -> [String] {
        text.unicodeScalars.split(whereSeparator: isSpace).map { string($0) }
    }

    /// `str.lower()`: each character's full lowercase mapping, with capital sigma becoming final
    /// sigma (ς) after a cased letter and not before one, as Python applies Unicode's Final_Sigma.
    static func lower(_ text: String) -> String {
        let scalars = Array(text.unicodeScalars)
        var out = String.UnicodeScalarView()
        for (i, s) in scalars.enumerated() {
            if s == "\u{03A3}" && finalSigma(scalars, i) {
                out.append("\u{03C2}")
            } else {
                out.append(contentsOf: s.properties.lowercaseMapping.unicodeScalars)
            }
        }
        return String(out)
    }

    /// Final_Sigma: a cased letter before position `i` and none after it, skipping case-ignorables.
    static func finalSigma(_ scalars: [Unicode.Scalar], _ i: Int) -> Bool {
        func cased(_ range: some Sequence<Int>) -> Bool {
            for j in range where !scalars[j].properties.isCaseIgnorable { return scalars[j].properties.isCased }
            return false
        }
        return cased((0..<i).reversed()) && !cased((i + 1)..<scalars.count)
    }

    /// `text`, with a full stop when its last character is not ASCII punctuation (the collator's rule).
    static func stopped(_ text: String) -> String {
        guard let last = text.unicodeScalars.last, punctuation.contains(last) else { return text + "." }
        return text
    }

    static func string(_ scalars: some Sequence<Unicode.Scalar>) -> String {
        var out = String.UnicodeScalarView()
        out.append(contentsOf: scalars)
        return String(out)
    }
}
