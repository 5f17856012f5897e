/// Row reductions with explicit 16-lane accumulators. LLVM does not vectorise a float reduction
/// written as a scalar loop (it may not reorder the additions), so row sums, maxima and dot
/// products — the inner loops of softmax, the norms and cross-entropy — are written with
/// `SIMD16<Float>` here. (Per the machine notes, SIMD `max`/`clamped` run lane by lane; masks
/// with `replacing(with:where:)` are used instead.)
enum VectorMath {
    typealias V = SIMD16<Float>

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }

    @inline(__always)
    static func store(_ v: V, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
    }

    /// Σ p[i].
    @inline(__always)
    static func sum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = V(), i = 0
        while i + 16 <= n { acc += load(p + i); i += 16 }
        var s = acc.sum()
        while i < n { s += p[i]; i += 1 }
        return s
    }

    /// Σ a[i]·b[i].
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = V(), i = 0
        while i + 16 <= n { acc += load(a + i) * load(b + i); i += 16 }
        var s = acc.sum()
        while i < n { s += a[i] * b[i]; i += 1 }
        return s
    }

    /// Σ a[i]·b[i]·c[i].
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafePointer<Float>, _ n: Int) -> Float
    {
        var acc = V(), i = 0
        while i + 16 <= n { acc += load(a + i) * load(b + i) * load(c + i); i += 16 }
        var s = acc.sum()
        while i < n { s += a[i] * b[i] * c[i]; i += 1 }
        return s
    }

    /// Σ (p[i] − c)².
    @inline(__always)
    static func squaredDeviation(_ p: UnsafePointer<Float>, from c: Float, _ n: Int) -> Float {
        var acc = V(), i = 0
        let cv = V(repeating: c)
        while i + 16 <= n { let d = load(p + i) - cv; acc += d * d; i += 16 }
        var s = acc.sum()
        while i < n { let d = p[i] - c; s += d * d; i += 1 }
        return s
    }

    /// max_i p[i] (−∞ for an empty row).
    @inline(__always)
    static func max(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = V(repeating: -.infinity), i = 0
        while i + 16 <= n {
            let v = load(p + i)
            acc = acc.replacing(with: v, where: v .> acc)
            i += 16
        }
        var m = -Float.infinity
        for l in 0..<16 where acc[l] > m { m = acc[l] }
        while i < n { if p[i] > m { m = p[i] }; i += 1 }
        return m
    }

    /// y[i] = e^(x[i] − shift) (y may be x); returns Σ y[i].
    @inline(__always)
    static func expShifted(
        _ x: UnsafePointer<Float>, by shift: Float, into y: UnsafeMutablePointer<Float>?, _ n: Int
    ) -> Float {
        var acc = V(), i = 0
        let sv = V(repeating: shift)
        while i + 16 <= n {
            let e = exp(load(x + i) - sv)
            if let y { store(e, y + i) }
            acc += e
            i += 16
        }
        var s = acc.sum()
        while i < n {
            let e = FastMath.exp(x[i] - shift)
            y?[i] = e
            s += e
            i += 1
        }
        return s
    }

    /// 16-lane e^x with the same polynomial and range handling as `FastMath.exp`.
    @inline(__always)
    static func exp(_ x0: V) -> V {
        var x = x0.replacing(with: -87, where: x0 .< -87)
        x = x.replacing(with: 88.3, where: x .> 88.3)
        let (er, shifted) = FastMath.expReduction(x)
        let bits = (unsafeBitCast(shifted, to: SIMD16<UInt32>.self) &- 0x4B40_0000 &+ 127) &<< 23
        let result = er * unsafeBitCast(bits, to: V.self)
        return result.replacing(with: 0, where: x0 .< -87)
    }

    /// 16-lane tanh (same formula as `FastMath.tanh`).
    @inline(__always)
    static func tanh(_ x: V) -> V {
        let ax = x.replacing(with: -x, where: x .< 0)
        let t = 1 - 2 / (exp(2 * ax) + 1)
        return t.replacing(with: -t, where: x .< 0)
    }

    /// 16-lane erf (Abramowitz & Stegun 7.1.26, as `FastMath.erf`).
    @inline(__always)
    static func erf(_ x: V) -> V {
        let a = x.replacing(with: -x, where: x .< 0)
        let y = 1 - FastMath.erfPolynomial(1 / (1 + 0.327_591_1 * a)) * exp(-a * a)
        return y.replacing(with: -y, where: x .< 0)
    }

    /// (act(x), act'(x)) on 16 lanes, sharing one erf/exp or one tanh.
    @inline(__always)
    static func valueAndDerivative(_ kind: Activation, _ x: V) -> (V, V) {
        switch kind {
        case .relu:
            let positive = x .> 0
            return (V().replacing(with: x, where: positive), V().replacing(with: 1, where: positive))
        case .gelu:
            let cdf: V = 0.5 * (1 + erf(x * FastMath.sqrtHalf))
            let pdf: V = FastMath.invSqrt2Pi * exp(-0.5 * x * x)
            return (x * cdf, cdf + x * pdf)
        case .geluTanh:  // as FastMath.geluTanhValueAndDerivative
            let x2 = x * x
            let inner: V = (-2 * FastMath.sqrt2OverPi) * (x + 0.044_715 * x2 * x)
            let s: V = 1 / (1 + exp(inner))
            let slope: V = (2 * FastMath.sqrt2OverPi) * (1 + 3 * 0.044_715 * x2)
            let d: V = s + x * s * (1 - s) * slope
            return (x * s, d)
        case .tanh:
            let t = tanh(x)
            return (t, 1 - t * t)
        }
    }
}
