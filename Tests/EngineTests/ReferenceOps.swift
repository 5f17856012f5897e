import Engine
#if canImport(Glibc)
    import Glibc
#endif

/// Float64 reference implementations, written independently of the engine's kernels (plain loops
/// straight from the formulas). Gradient checks differentiate these by central differences.
enum Reference {
    /// [M, K] · [K, N] (row-major), optionally batched with `batch` leading blocks.
    static func matmul(
        _ a: [Double], _ b: [Double], m: Int, k: Int, n: Int, batch: Int = 1, batchB: Bool = false
    ) -> [Double] {
        var c = [Double](repeating: 0, count: batch * m * n)
        for t in 0..<batch {
            for i in 0..<m {
                for j in 0..<n {
                    var s = 0.0
                    for p in 0..<k { s += a[t * m * k + i * k + p] * b[(batchB ? t * k * n : 0) + p * n + j] }
                    c[t * m * n + i * n + j] = s
                }
            }
        }
        return c
    }

    static func transpose(_ a: [Double], rows: Int, cols: Int) -> [Double] {
        var t = [Double](repeating: 0, count: a.count)
        for i in 0..<rows { for j in 0..<cols { t[j * rows + i] = a[i * cols + j] } }
        return t
    }

    /// x [R, in] · Wᵀ, W [out, in].
    static func linear(_ x: [Double], _ w: [Double], rows: Int, inFeatures: Int, outFeatures: Int) -> [Double] {
        matmul(x, transpose(w, rows: outFeatures, cols: inFeatures), m: rows, k: inFeatures, n: outFeatures)
    }

    static func gelu(_ x: Double) -> Double { 0.5 * x * (1 + erf(x / 2.0.squareRoot())) }
    static func geluTanh(_ x: Double) -> Double {
        0.5 * x * (1 + tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)))
    }
    static func activate(_ kind: Activation, _ x: Double) -> Double {
        switch kind {
        case .relu: return max(x, 0)
        case .gelu: return gelu(x)
        case .geluTanh: return geluTanh(x)
        case .tanh: return tanh(x)
        }
    }

    static func glu(_ x: [Double], hidden h: Int, kind: Activation, gate: GateHalf) -> [Double] {
        let rows = x.count / (2 * h)
        var y = [Double](repeating: 0, count: rows * h)
        for r in 0..<rows {
            for j in 0..<h {
                let first = x[r * 2 * h + j], second = x[r * 2 * h + h + j]
                y[r * h + j] = gate == .first ? activate(kind, first) * second : first * activate(kind, second)
            }
        }
        return y
    }

    static func layerNorm(_ x: [Double], _ w: [Double], _ b: [Double]?, width d: Int, eps: Double) -> [Double] {
        var y = x
        for r in 0..<(x.count / d) {
            let row = Array(x[(r * d)..<((r + 1) * d)])
            let mean = row.reduce(0, +) / Double(d)
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(d)
            for j in 0..<d { y[r * d + j] = (row[j] - mean) / (variance + eps).squareRoot() * w[j] + (b?[j] ?? 0) }
        }
        return y
    }

    static func rmsNorm(_ x: [Double], _ w: [Double], width d: Int, eps: Double) -> [Double] {
        var y = x
        for r in 0..<(x.count / d) {
            let ms = (0..<d).map { x[r * d + $0] * x[r * d + $0] }.reduce(0, +) / Double(d)
            for j in 0..<d { y[r * d + j] = x[r * d + j] / (ms + eps).squareRoot() * w[j] }
        }
        return y
    }

    static func softmax(_ x: [Double], width d: Int) -> [Double] {
        var y = x
        for r in 0..<(x.count / d) {
            let row = x[(r * d)..<((r + 1) * d)]
            let mx = row.max()!
            if mx == -.infinity { for j in 0..<d { y[r * d + j] = 0 }; continue }
            let e = row.map { exp($0 - mx) }
            let s = e.reduce(0, +)
            for j in 0..<d { y[r * d + j] = e[j] / s }
        }
        return y
    }

    /// Multi-head attention with Q, K, V given as [B, S, width] arrays and column offsets.
    static func attention(
        q: [Double], qWidth: Int, qOffset: Int, k: [Double], kWidth: Int, kOffset: Int,
        v: [Double], vWidth: Int, vOffset: Int, batch B: Int, heads H: Int, headDim D: Int,
        queryLength Sq: Int, keyLength Sk: Int, scale: Double, causal: Bool = false,
        keyLengths: [Int]? = nil, bias: [Double]? = nil, dropout: Float = 0, seed: UInt64 = 0
    ) -> [Double] {
        var out = [Double](repeating: 0, count: B * Sq * H * D)
        let threshold = CounterHash.dropThreshold(dropout)
        for b in 0..<B {
            for h in 0..<H {
                for i in 0..<Sq {
                    var scores = [Double](repeating: 0, count: Sk)
                    for j in 0..<Sk {
                        var s = 0.0
                        for t in 0..<D {
                            s +=
                                q[(b * Sq + i) * qWidth + qOffset + h * D + t]
                                * k[(b * Sk + j) * kWidth + kOffset + h * D + t]
                        }
                        s *= scale
                        if let bias { s += bias[(h * Sq + i) * Sk + j] }
                        if causal && j > i { s = -.infinity }
                        if let keyLengths, j >= keyLengths[b] { s = -.infinity }
                        scores[j] = s
                    }
                    var p = softmax(scores, width: Sk)
                    if dropout > 0 {
                        for j in 0..<Sk {
                            let counter = UInt64(((b * H + h) * Sq + i) * Sk + j)
                            p[j] =
                                CounterHash.bits(seed: seed, counter: counter) >= threshold
                                ? p[j] / Double(1 - dropout) : 0
                        }
                    }
                    for t in 0..<D {
                        var s = 0.0
                        for j in 0..<Sk { s += p[j] * v[(b * Sk + j) * vWidth + vOffset + h * D + t] }
                        out[(b * Sq + i) * H * D + h * D + t] = s
                    }
                }
            }
        }
        return out
    }

    /// Mean cross-entropy over rows whose label is not `ignore`.
    static func crossEntropy(_ logits: [Double], labels: [Int32], vocabulary v: Int, ignore: Int32 = -100) -> Double {
        var total = 0.0, count = 0
        for (r, label) in labels.enumerated() where label != ignore {
            let row = logits[(r * v)..<((r + 1) * v)]
            let mx = row.max()!
            let lse = log(row.map { exp($0 - mx) }.reduce(0, +)) + mx
            total += lse - logits[r * v + Int(label)]
            count += 1
        }
        return count > 0 ? total / Double(count) : 0
    }
}
