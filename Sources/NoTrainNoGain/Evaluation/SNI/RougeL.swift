/// The text metrics SNI is scored with, as Tk-Instruct's `src/compute_metrics.py` computes them.
extension Metrics {
    /// `rouge_score`'s default tokenizer (`tokenize.tokenize`, after Lin's ROUGE): lowercase, every run
    /// of characters outside `[a-z0-9]` becomes a space, split on spaces; with `stem`, tokens longer
    /// than 3 characters go through the Porter stemmer (`use_stemmer=True`, NLTK's `PorterStemmer()`).
    public static func rougeTokens(_ text: String, stem: Bool = true) -> [String] {
        var tokens: [String] = []
        var word = String.UnicodeScalarView()
        func flush() {
            guard !word.isEmpty else { return }
            let token = String(word)
            tokens.append(stem && word.count > 3 ? PorterStemmer.stem(token) : token)
            word = String.UnicodeScalarView()
        }
        for s in PythonText.lower(text).unicodeScalars {
            if ("a"..."z").contains(s) || ("0"..."9").contains(s) { word.append(s) } else { flush() }
        }
        flush()
        return tokens
    }

    /// ROUGE-L F-measure of `prediction` against one `reference` (`RougeScorer(['rougeL'],
    /// use_stemmer=True).score(target=reference, prediction=prediction).fmeasure`): with l the length of
    /// the longest common subsequence of the token lists, P = l / |prediction|, R = l / |reference|,
    /// F = 2PR / (P + R); 0 when either list is empty or l = 0.
    public static func rougeL(_ prediction: String, _ reference: String) -> Double {
        rougeL(rougeTokens(prediction), rougeTokens(reference))
    }

    static func rougeL(_ prediction: [String], _ reference: [String]) -> Double {
        guard !prediction.isEmpty, !reference.isEmpty else { return 0 }
        let l = Double(longestCommonSubsequence(reference, prediction))
        let precision = l / Double(prediction.count), recall = l / Double(reference.count)
        return precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0
    }

    /// The length of the longest common subsequence (dynamic programming over one row).
    static func longestCommonSubsequence(_ a: [String], _ b: [String]) -> Int {
        var row = [Int](repeating: 0, count: b.count + 1)
        for x in a {
            var diagonal = 0
            for (j, y) in b.enumerated() {
                let above = row[j + 1]
                row[j + 1] = x == y ? diagonal + 1 : max(above, row[j])
                diagonal = above
            }
        }
        return row[b.count]
    }

    /// Tk-Instruct's `normalize_answer` (SQuAD's, keeping articles): lowercase, drop ASCII punctuation,
    /// collapse whitespace.
    public static func normalizedAnswer(_ text: String) -> String {
        let kept = PythonText.lower(text).unicodeScalars.filter { !PythonText.punctuation.contains($0) }
        return PythonText.split(PythonText.string(kept)).joined(separator: " ")
    }

    /// 1 when the normalised prediction equals the normalised reference, else 0.
    public static func exactMatch(_ prediction: String, _ reference: String) -> Double {
        normalizedAnswer(prediction) == normalizedAnswer(reference) ? 1 : 0
    }

    /// `metric_max_over_ground_truths`: the best score over an instance's references (0 without any).
    public static func best(
        _ metric: (String, String) -> Double, _ prediction: String, references: [String]
    ) -> Double {
        references.map { metric(prediction, $0) }.max() ?? 0
    }
}
