/// Branch-free float transcendentals for hot loops (libm calls are 10–25× too slow there and stop
/// auto-vectorisation). Each is a plain scalar function that LLVM vectorises inside a loop.
enum FastMath {
    /// e^x, relative error < 2e-7 on [-87, 88] (Cephes expf polynomial, Cody–Waite reduction,
    /// magic-number rounding so no float→int conversion can trap). Below −87 it returns 0, so
    /// masked (−∞) scores give exactly zero probability.
    @inline(__always)
    static func exp(_ x0: Float) -> Float {
        let (er, shifted) = expReduction(min(max(x0, -87.0), 88.3))
        let scale = Float(bitPattern: (shifted.bitPattern &- expMagic.bitPattern &+ 127) &<< 23)
        return x0 < -87.0 ? 0 : er * scale
    }

    /// 1.5·2^23: adding it to a float rounds it to an integer (kept in the low mantissa bits).
    static let expMagic: Float = 12_582_912.0

    /// The shared core of the scalar and 16-lane exp: n = round(x·log₂e) (as `shifted` = n + magic),
    /// r = x − n·ln2 (Cody–Waite, two constants), and e^r ≈ 1 + r + r²·P(r) (Cephes expf).
    @inline(__always)
    static func expReduction<T: FloatLanes>(_ x: T) -> (er: T, shifted: T) {
        let shifted = x * 1.442_695_04 + expMagic
        let n = shifted - expMagic
        let r = x - n * 0.693_359_375 - n * -2.121_944_4e-4
        var p = r * 0 + 1.987_569_15e-4
        p = p * r + 1.398_199_95e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_6e-2
        p = p * r + 1.666_666_55e-1
        p = p * r + 5.000_000_1e-1
        return (p * (r * r) + r + 1, shifted)
    }

    /// Abramowitz & Stegun 7.1.26: erf(a) = 1 − P(t)·t·e^(−a²) with t = 1/(1 + 0.3275911·a), a ≥ 0.
    @inline(__always)
    static func erfPolynomial<T: FloatLanes>(_ t: T) -> T {
        var p = t * 0 + 1.061_405_429
        p = p * t - 1.453_152_027
        p = p * t + 1.421_413_741
        p = p * t - 0.284_496_736
        p = p * t + 0.254_829_592
        return p * t
    }

    /// tanh(x) = sign(x)·(1 − 2/(e^{2|x|} + 1)); absolute error < 3e-7.
    @inline(__always)
    static func tanh(_ x: Float) -> Float {
        let e = exp(2 * abs(x))
        let t = 1 - 2 / (e + 1)
        return x < 0 ? -t : t
    }

    /// erf(x) by Abramowitz & Stegun 7.1.26; absolute error < 3e-7.
    @inline(__always)
    static func erf(_ x: Float) -> Float {
        let a = abs(x)
        let y = 1 - erfPolynomial(1 / (1 + 0.327_591_1 * a)) * exp(-a * a)
        return x < 0 ? -y : y
    }

    static let sqrtHalf: Float = 0.707_106_781_186_547_5  // 1/√2
    static let invSqrt2Pi: Float = 0.398_942_280_401_432_7  // 1/√(2π)
    static let sqrt2OverPi: Float = 0.797_884_560_802_865_4  // √(2/π)

    /// GELU(x) = x·Φ(x), Φ the standard normal CDF.
    @inline(__always)
    static func gelu(_ x: Float) -> Float { 0.5 * x * (1 + erf(x * sqrtHalf)) }

    /// d/dx x·Φ(x) = Φ(x) + x·φ(x).
    @inline(__always)
    static func geluDerivative(_ x: Float) -> Float {
        let cdf = 0.5 * (1 + erf(x * sqrtHalf))
        return cdf + x * invSqrt2Pi * exp(-0.5 * x * x)
    }

    /// 0.5·x·(1 + tanh(u)), u = √(2/π)·(x + 0.044715·x³), computed as x·σ(2u) = x / (1 + e^(−2u))
    /// (0.5·(1 + tanh(u)) = σ(2u)): one exp and one division, no sign handling.
    @inline(__always)
    static func geluTanh(_ x: Float) -> Float { x * geluTanhGate(x) }

    /// σ(2u) = 0.5·(1 + tanh(u)) of `geluTanh`.
    @inline(__always)
    static func geluTanhGate(_ x: Float) -> Float {
        1 / (1 + exp(-2 * sqrt2OverPi * (x + 0.044_715 * x * x * x)))
    }

    /// With s = σ(2u): d/dx x·s = s + x·s·(1 − s)·2u', u' = √(2/π)·(1 + 3·0.044715·x²).
    @inline(__always)
    static func geluTanhDerivative(_ x: Float) -> Float { geluTanhValueAndDerivative(x).1 }

    @inline(__always)
    static func geluTanhValueAndDerivative(_ x: Float) -> (Float, Float) {
        let s = geluTanhGate(x)
        return (x * s, s + x * s * (1 - s) * (2 * sqrt2OverPi) * (1 + 3 * 0.044_715 * x * x))
    }

    /// (act(x), act'(x)) sharing the expensive parts (one erf/exp or one tanh).
    @inline(__always)
    static func valueAndDerivative(_ kind: Activation, _ x: Float) -> (Float, Float) {
        switch kind {
        case .relu:
            return x > 0 ? (x, 1) : (0, 0)
        case .gelu:
            let cdf = 0.5 * (1 + erf(x * sqrtHalf))
            return (x * cdf, cdf + x * invSqrt2Pi * exp(-0.5 * x * x))
        case .geluTanh:
            return geluTanhValueAndDerivative(x)
        case .tanh:
            let t = tanh(x)
            return (t, 1 - t * t)
        }
    }

    @inline(__always)
    static func activate(_ kind: Activation, _ x: Float) -> Float {
        switch kind {
        case .relu: return x > 0 ? x : 0
        case .gelu: return gelu(x)
        case .geluTanh: return geluTanh(x)
        case .tanh: return tanh(x)
        }
    }

    @inline(__always)
    static func derivative(_ kind: Activation, _ x: Float) -> Float {
        switch kind {
        case .relu: return x > 0 ? 1 : 0
        case .gelu: return geluDerivative(x)
        case .geluTanh: return geluTanhDerivative(x)
        case .tanh: let t = tanh(x); return 1 - t * t
        }
    }
}

/// The arithmetic the shared polynomial cores need, so one formula serves scalar `Float` code
/// and 16-lane `SIMD16<Float>` code.
protocol FloatLanes {
    static func + (a: Self, b: Self) -> Self
    static func - (a: Self, b: Self) -> Self
    static func * (a: Self, b: Self) -> Self
    static func + (a: Self, b: Float) -> Self
    static func - (a: Self, b: Float) -> Self
    static func * (a: Self, b: Float) -> Self
}

extension Float: FloatLanes {}
extension SIMD16: FloatLanes where Scalar == Float {}
