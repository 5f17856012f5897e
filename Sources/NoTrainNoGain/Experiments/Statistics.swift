#if canImport(Glibc)
    import Glibc
#endif

/// Summary statistics for comparing methods over seeds.
public enum Statistics {
    public static func mean(_ x: [Double]) -> Double { x.isEmpty ? .nan : x.reduce(0, +) / Double(x.count) }

    /// Sample standard deviation (n − 1); 0 for fewer than two values.
    public static func standardDeviation(_ x: [Double]) -> Double {
        guard x.count > 1 else { return 0 }
        let m = mean(x)
        return (x.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(x.count - 1)).squareRoot()
    }

    public struct Difference: Codable, Sendable, Equatable {
        /// mean(a) − mean(b).
        public var estimate: Double
        public var lower: Double
        public var upper: Double
        /// Welch–Satterthwaite degrees of freedom; nil when neither side varies (the interval is
        /// then the single point d).
        public var degreesOfFreedom: Double?
        /// The interval excludes 0.
        public var significant: Bool { lower > 0 || upper < 0 }
    }

    /// The 95% (or `level`) confidence interval of mean(a) − mean(b) by Welch's t-interval (unequal
    /// variances): d ± t_{ν, (1+level)/2}·√(s²_a/n_a + s²_b/n_b), ν by Welch–Satterthwaite. Nil
    /// with fewer than two values on either side. When both sides are constant the interval is [d, d].
    public static func welchInterval(_ a: [Double], _ b: [Double], level: Double = 0.95) -> Difference? {
        guard a.count > 1, b.count > 1 else { return nil }
        let va = pow(standardDeviation(a), 2) / Double(a.count), vb = pow(standardDeviation(b), 2) / Double(b.count)
        let d = mean(a) - mean(b)
        let se = (va + vb).squareRoot()
        guard se > 0 else { return Difference(estimate: d, lower: d, upper: d, degreesOfFreedom: nil) }
        let nu = pow(va + vb, 2) / (va * va / Double(a.count - 1) + vb * vb / Double(b.count - 1))
        let t = studentTQuantile((1 + level) / 2, degreesOfFreedom: nu)
        return Difference(estimate: d, lower: d - t * se, upper: d + t * se, degreesOfFreedom: nu)
    }

    /// P(T ≤ t) for Student's t with ν degrees of freedom: 1 − ½·I_{ν/(ν+t²)}(ν/2, ½) for t ≥ 0.
    public static func studentTCDF(_ t: Double, degreesOfFreedom nu: Double) -> Double {
        let tail = 0.5 * regularizedIncompleteBeta(nu / (nu + t * t), nu / 2, 0.5)
        return t >= 0 ? 1 - tail : tail
    }

    /// The p-quantile of Student's t (bisection on the CDF).
    public static func studentTQuantile(_ p: Double, degreesOfFreedom nu: Double) -> Double {
        var lo = -1e4, hi = 1e4
        for _ in 0..<200 {
            let mid = (lo + hi) / 2
            if studentTCDF(mid, degreesOfFreedom: nu) < p { lo = mid } else { hi = mid }
        }
        return (lo + hi) / 2
    }

    /// I_x(a, b) by the continued fraction of Numerical Recipes (`betacf`).
    static func regularizedIncompleteBeta(_ x: Double, _ a: Double, _ b: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let front = exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log(1 - x))
        if x > (a + 1) / (a + b + 2) { return 1 - regularizedIncompleteBeta(1 - x, b, a) }
        var c = 1.0, d = 1 - (a + b) * x / (a + 1)
        if abs(d) < 1e-300 { d = 1e-300 }
        d = 1 / d
        var h = d
        for m in 1...300 {
            let m = Double(m)
            var numerator = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
            d = 1 + numerator * d; if abs(d) < 1e-300 { d = 1e-300 }
            c = 1 + numerator / c; if abs(c) < 1e-300 { c = 1e-300 }
            d = 1 / d
            h *= d * c
            numerator = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
            d = 1 + numerator * d; if abs(d) < 1e-300 { d = 1e-300 }
            c = 1 + numerator / c; if abs(c) < 1e-300 { c = 1e-300 }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < 1e-15 { break }
        }
        return front * h / a
    }
}
