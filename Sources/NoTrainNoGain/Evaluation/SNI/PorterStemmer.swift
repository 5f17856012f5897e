/// The Porter stemmer as NLTK implements it in its default mode (`PorterStemmer()`, i.e.
/// `NLTK_EXTENSIONS`), which `rouge_score` applies with `use_stemmer=True` and so Tk-Instruct's
/// ROUGE-L does (Porter 1980, "An algorithm for suffix stripping", with NLTK's departures: a pool of
/// irregular forms, `ies`/`ied` on four-letter words, y → i only after a consonant, the `alli`,
/// `fulli` and `logi` rules, and words of one or two letters left alone).
///
/// It works on lowercase ASCII words (ROUGE's tokens are `[a-z0-9]+`); other bytes count as
/// consonants, as they do in NLTK.
public enum PorterStemmer {
    static let irregular: [String: String] = [
        "sky": "sky", "skies": "sky", "dying": "die", "lying": "lie", "tying": "tie", "news": "news",
        "innings": "inning", "inning": "inning", "outings": "outing", "outing": "outing", "cannings": "canning",
        "canning": "canning", "howe": "howe", "proceed": "proceed", "exceed": "exceed", "succeed": "succeed",
    ]

    public static func stem(_ word: String) -> String {
        let lower = word.lowercased()
        if let form = irregular[lower] { return form }
        guard word.count > 2 else { return lower }
        var w = Array(lower.utf8)
        w = step1a(w)
        w = step1b(w)
        w = step1c(w)
        w = step2(w)
        w = step3(w)
        w = step4(w)
        w = step5a(w)
        w = step5b(w)
        return String(decoding: w, as: UTF8.self)
    }

    typealias Word = [UInt8]

    static func isVowel(_ c: UInt8) -> Bool { c == 97 || c == 101 || c == 105 || c == 111 || c == 117 }

    /// Consonant flags of every letter: `y` is a consonant at the start or after a vowel.
    static func consonants(_ w: Word) -> [Bool] {
        var flags: [Bool] = []
        flags.reserveCapacity(w.count)
        for (i, c) in w.enumerated() {
            if isVowel(c) {
                flags.append(false)
            } else if c == UInt8(ascii: "y") {
                flags.append(i == 0 ? true : !flags[i - 1])
            } else {
                flags.append(true)
            }
        }
        return flags
    }

    static func isConsonant(_ w: Word, _ i: Int) -> Bool { consonants(Array(w[...i]))[i] }

    /// m: the number of vowel–consonant sequences in [C](VC){m}[V].
    static func measure(_ stem: Word) -> Int {
        let f = consonants(stem)
        var m = 0
        for i in f.indices.dropFirst() where !f[i - 1] && f[i] { m += 1 }
        return m
    }

    static func containsVowel(_ stem: Word) -> Bool { consonants(stem).contains(false) }

    static func endsDoubleConsonant(_ w: Word) -> Bool {
        w.count >= 2 && w[w.count - 1] == w[w.count - 2] && isConsonant(w, w.count - 1)
    }

    /// *o: consonant–vowel–consonant at the end, the last not w, x or y (NLTK: also a two-letter
    /// vowel–consonant word).
    static func endsCVC(_ w: Word) -> Bool {
        let n = w.count
        if n >= 3 {
            let f = consonants(w)
            if f[n - 3] && !f[n - 2] && f[n - 1] && !Array("wxy".utf8).contains(w[n - 1]) { return true }
        }
        return n == 2 && !isConsonant(w, 0) && isConsonant(w, 1)
    }

    static func ends(_ w: Word, _ suffix: String) -> Bool {
        let s = Array(suffix.utf8)
        return w.count >= s.count && Array(w[(w.count - s.count)...]) == s
    }

    static func dropping(_ w: Word, _ n: Int) -> Word { Array(w[..<(w.count - n)]) }

    /// The first rule whose suffix ends the word decides: replaced if its condition holds, else the
    /// word stays (a `*d` suffix means a double consonant).
    static func apply(
        _ w: Word, _ rules: [(suffix: String, replacement: String, condition: ((Word) -> Bool)?)]
    )
        -> Word
    {
        for rule in rules {
            if rule.suffix == "*d" {
                guard endsDoubleConsonant(w) else { continue }
                let stem = dropping(w, 2)
                return rule.condition?(stem) ?? true ? stem + Array(rule.replacement.utf8) : w
            }
            guard ends(w, rule.suffix) else { continue }
            let stem = dropping(w, rule.suffix.utf8.count)
            return rule.condition?(stem) ?? true ? stem + Array(rule.replacement.utf8) : w
        }
        return w
    }

    static func positive(_ stem: Word) -> Bool { measure(stem) > 0 }

    static func step1a(_ w: Word) -> Word {
        if ends(w, "ies") && w.count == 4 { return dropping(w, 3) + Array("ie".utf8) }
        return apply(w, [("sses", "ss", nil), ("ies", "i", nil), ("ss", "ss", nil), ("s", "", nil)])
    }

    static func step1b(_ w: Word) -> Word {
        if ends(w, "ied") { return dropping(w, 3) + Array((w.count == 4 ? "ie" : "i").utf8) }
        if ends(w, "eed") {
            let stem = dropping(w, 3)
            return measure(stem) > 0 ? stem + Array("ee".utf8) : w
        }
        guard
            let stem = ["ed", "ing"].lazy.filter({ ends(w, $0) }).map({ dropping(w, $0.utf8.count) }).first(
                where: containsVowel)
        else { return w }
        let last = stem.last ?? 0
        return apply(
            stem,
            [
                ("at", "ate", nil), ("bl", "ble", nil), ("iz", "ize", nil),
                ("*d", String(UnicodeScalar(last)), { _ in !Array("lsz".utf8).contains(last) }),
                ("", "e", { measure($0) == 1 && endsCVC($0) }),
            ])
    }

    static func step1c(_ w: Word) -> Word {
        apply(w, [("y", "i", { $0.count > 1 && isConsonant($0, $0.count - 1) })])
    }

    static func step2(_ w: Word) -> Word {
        if ends(w, "alli") && positive(dropping(w, 4)) { return step2(dropping(w, 4) + Array("al".utf8)) }
        return apply(
            w,
            [
                ("ational", "ate", positive), ("tional", "tion", positive), ("enci", "ence", positive),
                ("anci", "ance", positive), ("izer", "ize", positive), ("bli", "ble", positive),
                ("alli", "al", positive), ("entli", "ent", positive), ("eli", "e", positive),
                ("ousli", "ous", positive),
                ("ization", "ize", positive), ("ation", "ate", positive), ("ator", "ate", positive),
                ("alism", "al", positive), ("iveness", "ive", positive), ("fulness", "ful", positive),
                ("ousness", "ous", positive), ("aliti", "al", positive), ("iviti", "ive", positive),
                ("biliti", "ble", positive), ("fulli", "ful", positive),
                // The l of logi stays with the stem, so that geo-, theo- … work as archaeo-, philo-.
                ("logi", "log", { _ in positive(dropping(w, 3)) }),
            ])
    }

    static func step3(_ w: Word) -> Word {
        apply(
            w,
            [
                ("icate", "ic", positive), ("ative", "", positive), ("alize", "al", positive),
                ("iciti", "ic", positive), ("ical", "ic", positive), ("ful", "", positive), ("ness", "", positive),
            ])
    }

    static func step4(_ w: Word) -> Word {
        let m1: (Word) -> Bool = { measure($0) > 1 }
        return apply(
            w,
            [
                ("al", "", m1), ("ance", "", m1), ("ence", "", m1), ("er", "", m1), ("ic", "", m1), ("able", "", m1),
                ("ible", "", m1), ("ant", "", m1), ("ement", "", m1), ("ment", "", m1), ("ent", "", m1),
                ("ion", "", { measure($0) > 1 && ($0.last == UInt8(ascii: "s") || $0.last == UInt8(ascii: "t")) }),
                ("ou", "", m1), ("ism", "", m1), ("ate", "", m1), ("iti", "", m1), ("ous", "", m1), ("ive", "", m1),
                ("ize", "", m1),
            ])
    }

    static func step5a(_ w: Word) -> Word {
        guard ends(w, "e") else { return w }
        let stem = dropping(w, 1)
        let m = measure(stem)
        return m > 1 || (m == 1 && !endsCVC(stem)) ? stem : w
    }

    static func step5b(_ w: Word) -> Word {
        apply(w, [("ll", "l", { _ in measure(dropping(w, 1)) > 1 })])
    }
}
