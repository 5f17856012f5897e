import NoTrainNoGain
import Testing

/// Metrics against values from scikit-learn 1.x and scipy (computed once, recorded here) and hand-checked cases.
@Suite("Metrics")
struct MetricsTests {
    let p = [1, 0, 1, 1, 0, 1, 0, 0, 1, 1], l = [1, 0, 0, 1, 0, 1, 1, 0, 1, 0]

    @Test func binaryMetricsMatchScikitLearn() {
        #expect(Metrics.accuracy(p, l) == 0.7)
        #expect(abs(Metrics.f1(p, l) - 0.7272727272727273) < 1e-12)  // f1_score(l, p)
        #expect(abs(Metrics.matthewsCorrelation(p, l) - 0.408248290463863) < 1e-12)  // matthews_corrcoef(l, p)
        #expect(Metrics.f1([0, 0], [1, 1]) == 0)
        #expect(Metrics.matthewsCorrelation([1, 1, 1], [1, 0, 1]) == 0)  // undefined → 0, as sklearn
        #expect(Metrics.matthewsCorrelation([1, 0, 1, 0], [1, 0, 1, 0]) == 1)
    }

    @Test func macroF1MatchesScikitLearn() {
        #expect(
            abs(Metrics.macroF1([0, 1, 2, 2, 1, 0, 2, 1], [0, 1, 1, 2, 1, 2, 2, 0], classes: 3) - 0.611111111111111)
                < 1e-12)
    }

    @Test func correlationsMatchScipy() {
        let x = [0.1, 2.5, 3.3, 3.3, 4.0, 1.2, 5.5], y = [0.3, 2.0, 3.9, 3.1, 4.4, 1.0, 4.8]
        #expect(abs(Metrics.pearson(x, y) - 0.963941461904248) < 1e-12)
        #expect(abs(Metrics.spearman(x, y) - 0.991031208965115) < 1e-12)  // with a tie in x
        #expect(Metrics.ranks([10, 20, 20, 5]) == [2, 3.5, 3.5, 1])
    }

    @Test func multiRCScoresAnswersAndWholeQuestions() {
        // Question 0: both answers right; question 1: one of three wrong.
        let r = Metrics.multiRC([1, 0, 1, 1, 0], [1, 0, 1, 0, 0], questions: [0, 0, 1, 1, 1])
        #expect(r.exactMatch == 0.5)
        #expect(abs(r.f1a - 0.8) < 1e-12)  // tp 2, fp 1, fn 0
    }
}
