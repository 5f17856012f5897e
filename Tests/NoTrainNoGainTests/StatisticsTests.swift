import Foundation
import NoTrainNoGain
import Testing

/// Statistics against hand-computed values and scipy 1.17 (`stats.t.ppf`, Welch's t-test).
@Suite("Statistics")
struct StatisticsTests {
    @Test func meanAndSampleStandardDeviation() {
        #expect(Statistics.mean([1, 2, 3, 6]) == 3)
        // Σ(x−3)² = 14, n−1 = 3.
        #expect(abs(Statistics.standardDeviation([1, 2, 3, 6]) - (14.0 / 3).squareRoot()) < 1e-12)
        #expect(Statistics.standardDeviation([5]) == 0)
    }

    @Test func studentTQuantilesMatchScipy() {
        for (nu, q) in [
            (2.0, 4.302652729749462), (4, 2.7764451051977934), (10, 2.228138851986274), (3.7, 2.8675207071911895),
        ] {
            #expect(abs(Statistics.studentTQuantile(0.975, degreesOfFreedom: nu) - q) < 1e-9, "ν = \(nu)")
        }
        #expect(abs(Statistics.studentTQuantile(0.975, degreesOfFreedom: 1e7) - 1.959963984540054) < 1e-6)
        #expect(abs(Statistics.studentTCDF(0, degreesOfFreedom: 3) - 0.5) < 1e-15)
    }

    @Test func welchIntervalOfADifference() {
        let a = [6.71, 6.75, 6.69], b = [6.59, 6.62, 6.60]
        let d = Statistics.welchInterval(a, b)!
        // scipy: ν = 2.9411764705882613, interval (0.04985855744628137, 0.1768081092203852).
        #expect(abs(d.estimate - 0.11333333333333329) < 1e-12)
        #expect(abs(d.degreesOfFreedom! - 2.9411764705882613) < 1e-9)
        #expect(abs(d.lower - 0.04985855744628137) < 1e-9 && abs(d.upper - 0.1768081092203852) < 1e-9)
        #expect(d.significant)
        #expect(Statistics.welchInterval([1, 2, 3], [1.5, 2.5, 2]).map { !$0.significant } == true)
        #expect(Statistics.welchInterval([1], [2, 3]) == nil)
        // Constant scores on both sides (e.g. a classifier that always predicts the majority class):
        // a point interval, encodable as JSON, not significant when the means agree.
        let constant = Statistics.welchInterval([0.5092, 0.5092, 0.5092], [0.5092, 0.5092, 0.5092])!
        #expect(constant.lower == 0 && constant.upper == 0 && constant.degreesOfFreedom == nil && !constant.significant)
        #expect((try? JSONEncoder().encode(constant)) != nil)
    }
}
