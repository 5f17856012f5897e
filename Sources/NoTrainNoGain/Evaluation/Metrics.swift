/// Downstream metrics (GLUE, SuperGLUE), as scikit-learn and scipy define them.
public enum Metrics {
    /// Fraction of equal predictions.
    public static func accuracy(_ predictions: [Int], _ labels: [Int]) -> Double {
        precondition(predictions.count == labels.count && !labels.isEmpty)
        return Double(zip(predictions, labels).filter { $0 == $1 }.count) / Double(labels.count)
    }

    /// F1 of class `positive` (sklearn `f1_score`, binary); 0 when there are no true positives.
    public static func f1(_ predictions: [Int], _ labels: [Int], positive: Int = 1) -> Double {
        var tp = 0, fp = 0, fn = 0
        for (p, l) in zip(predictions, labels) {
            if p == positive && l == positive {
                tp += 1
            } else if p == positive {
                fp += 1
            } else if l == positive {
                fn += 1
            }
        }
        return tp == 0 ? 0 : 2 * Double(tp) / Double(2 * tp + fp + fn)
    }

    /// Unweighted mean of per-class F1 over `classes` (sklearn `f1_score(average='macro')`).
    public static func macroF1(_ predictions: [Int], _ labels: [Int], classes: Int) -> Double {
        (0..<classes).map { f1(predictions, labels, positive: $0) }.reduce(0, +) / Double(classes)
    }

    /// Matthews correlation coefficient (binary; sklearn `matthews_corrcoef`), 0 when undefined.
    public static func matthewsCorrelation(_ predictions: [Int], _ labels: [Int]) -> Double {
        var tp = 0.0, tn = 0.0, fp = 0.0, fn = 0.0
        for (p, l) in zip(predictions, labels) {
            switch (p == 1, l == 1) {
            case (true, true): tp += 1
            case (false, false): tn += 1
            case (true, false): fp += 1
            case (false, true): fn += 1
            }
        }
        let d = ((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)).squareRoot()
        return d == 0 ? 0 : (tp * tn - fp * fn) / d
    }

    /// Pearson's r (scipy `pearsonr`).
    public static func pearson(_ x: [Double], _ y: [Double]) -> Double {
        precondition(x.count == y.count && x.count > 1)
        let mx = x.reduce(0, +) / Double(x.count), my = y.reduce(0, +) / Double(y.count)
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for (a, b) in zip(x, y) {
            sxy += (a - mx) * (b - my)
            sxx += (a - mx) * (a - mx)
            syy += (b - my) * (b - my)
        }
        return sxx == 0 || syy == 0 ? 0 : sxy / (sxx * syy).squareRoot()
    }

    /// Spearman's ρ: Pearson's r of the ranks, ties sharing their average rank (scipy `spearmanr`).
    public static func spearman(_ x: [Double], _ y: [Double]) -> Double { pearson(ranks(x), ranks(y)) }

    /// Ranks 1…n, ties averaged.
    public static func ranks(_ x: [Double]) -> [Double] {
        let order = x.indices.sorted { x[$0] < x[$1] }
        var r = [Double](repeating: 0, count: x.count)
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && x[order[j + 1]] == x[order[i]] { j += 1 }
            let average = Double(i + j) / 2 + 1
            for k in i...j { r[order[k]] = average }
            i = j + 1
        }
        return r
    }

    /// MultiRC: F1a, the binary F1 over all answer options, and EM, the fraction of questions whose
    /// answers are all right. `questions[i]` identifies the question of answer option i.
    public static func multiRC(
        _ predictions: [Int], _ labels: [Int], questions: [Int]
    ) -> (f1a: Double, exactMatch: Double) {
        var allRight: [Int: Bool] = [:]
        for (i, q) in questions.enumerated() { allRight[q] = (allRight[q] ?? true) && predictions[i] == labels[i] }
        let em = Double(allRight.values.filter { $0 }.count) / Double(max(allRight.count, 1))
        return (f1(predictions, labels), em)
    }
}
