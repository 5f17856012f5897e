#if canImport(Glibc)
    import Glibc
#endif

/// Row-wise kernels: LayerNorm, RMSNorm and softmax, forward and backward. Rows run in parallel;
/// weight gradients are summed per worker and then combined, so results do not depend on timing.
extension CPUBackend {
    /// y = (x − μ)·rstd·w (+ b), rstd = 1/√(σ² + ε), saving μ and rstd per row.
    public func layerNorm(
        _ x: Tensor, weight: Tensor, bias: Tensor?, epsilon: Float,
        into y: Tensor, mean: Tensor, rstd: Tensor
    ) {
        profile.measure("normalization") {
            let d = x.shape.lastDimension, rows = x.elementCount / max(d, 1)
            precondition(weight.elementCount == d && (bias?.elementCount ?? d) == d, "LayerNorm: weight must be [\(d)]")
            let xs = x.floats, ys = y.floats, w = weight.floats, b = bias?.floats
            let mu = mean.floats, rs = rstd.floats
            Parallel.ranges(rows, grain: max(1, CPUBackend.grain / d)) { r in
                for row in r {
                    let xr = xs + row * d, yr = ys + row * d
                    let m = VectorMath.sum(xr, d) / Float(d)
                    let inv = 1 / (VectorMath.squaredDeviation(xr, from: m, d) / Float(d) + epsilon).squareRoot()
                    mu[row] = m
                    rs[row] = inv
                    if let b {
                        for j in 0..<d { yr[j] = (xr[j] - m) * inv * w[j] + b[j] }
                    } else {
                        for j in 0..<d { yr[j] = (xr[j] - m) * inv * w[j] }
                    }
                }
            }
        }
    }

    /// With x̂ = (x − μ)·rstd and g = dy·w:  dx = rstd·(g − mean(g) − x̂·mean(g·x̂)),
    /// dw = Σ_rows dy·x̂,  db = Σ_rows dy.
    public func layerNormBackward(
        _ x: Tensor, weight: Tensor, mean: Tensor, rstd: Tensor, _ dy: Tensor,
        dx: GradientOutput?, dWeight: GradientOutput?, dBias: GradientOutput?
    ) {
        profile.measure("normalization") {
            normBackward(x, weight: weight, mean: mean, rstd: rstd, dy, dx: dx, dWeight: dWeight, dBias: dBias)
        }
    }

    /// y = x·rstd·w with rstd = 1/√(mean(x²) + ε) (T5's RMS LayerNorm, no mean subtraction).
    public func rmsNorm(_ x: Tensor, weight: Tensor, epsilon: Float, into y: Tensor, rstd: Tensor) {
        profile.measure("normalization") {
            let d = x.shape.lastDimension, rows = x.elementCount / max(d, 1)
            precondition(weight.elementCount == d, "RMSNorm: weight must be [\(d)]")
            let xs = x.floats, ys = y.floats, w = weight.floats, rs = rstd.floats
            Parallel.ranges(rows, grain: max(1, CPUBackend.grain / d)) { r in
                for row in r {
                    let xr = xs + row * d, yr = ys + row * d
                    let inv = 1 / (VectorMath.dot(xr, xr, d) / Float(d) + epsilon).squareRoot()
                    rs[row] = inv
                    for j in 0..<d { yr[j] = xr[j] * inv * w[j] }
                }
            }
        }
    }

    /// With x̂ = x·rstd and g = dy·w:  dx = rstd·(g − x̂·mean(g·x̂)),  dw = Σ_rows dy·x̂.
    public func rmsNormBackward(
        _ x: Tensor, weight: Tensor, rstd: Tensor, _ dy: Tensor,
        dx: GradientOutput?, dWeight: GradientOutput?
    ) {
        profile.measure("normalization") {
            normBackward(x, weight: weight, mean: nil, rstd: rstd, dy, dx: dx, dWeight: dWeight, dBias: nil)
        }
    }

    /// Shared backward of LayerNorm (`mean` given) and RMSNorm (`mean` nil).
    private func normBackward(
        _ x: Tensor, weight: Tensor, mean: Tensor?, rstd: Tensor, _ dy: Tensor,
        dx: GradientOutput?, dWeight: GradientOutput?, dBias: GradientOutput?
    ) {
        let d = x.shape.lastDimension, rows = x.elementCount / max(d, 1)
        let xs = x.floats, gs = dy.floats, w = weight.floats, rs = rstd.floats
        let mu = mean?.floats
        let dxs = dx?.tensor.floats, dxAcc = dx?.accumulate ?? false
        let wantParams = dWeight != nil || dBias != nil
        let chunks = Parallel.chunkCount(rows, grain: max(1, CPUBackend.grain / d))
        // Per-chunk partial sums: [chunk][dw | db].
        let partial = UnsafeMutablePointer<Float>.allocate(capacity: wantParams ? chunks * 2 * d : 1)
        defer { partial.deallocate() }
        let centred = mu != nil
        Parallel.forEach(chunks) { c in
            let pw = partial + c * 2 * d, pb = pw + d
            if wantParams { for j in 0..<(2 * d) { pw[j] = 0 } }
            for row in Parallel.chunkRange(c, of: chunks, count: rows) {
                let xr = xs + row * d, gr = gs + row * d
                let m: Float = mu?[row] ?? 0, inv = rs[row]
                if wantParams {
                    for j in 0..<d {
                        pw[j] += gr[j] * (xr[j] - m) * inv
                        pb[j] += gr[j]
                    }
                }
                guard let dxs else { continue }
                // mean(g) and mean(g·x̂) with g = dy·w, x̂ = (x − m)·rstd.
                let sumG = VectorMath.dot(gr, w, d)
                let meanG = centred ? sumG / Float(d) : 0
                let meanGX = inv * (VectorMath.dot(gr, w, xr, d) - m * sumG) / Float(d)
                let dxr = dxs + row * d
                if dxAcc {
                    for j in 0..<d { dxr[j] += inv * (gr[j] * w[j] - meanG - (xr[j] - m) * inv * meanGX) }
                } else {
                    for j in 0..<d { dxr[j] = inv * (gr[j] * w[j] - meanG - (xr[j] - m) * inv * meanGX) }
                }
            }
        }
        if let dWeight { combine(partial, offset: 0, stride: 2 * d, chunks: chunks, width: d, into: dWeight) }
        if let dBias { combine(partial, offset: d, stride: 2 * d, chunks: chunks, width: d, into: dBias) }
    }

    /// out[j] (+)= Σ_c partial[c·stride + offset + j].
    func combine(
        _ partial: UnsafeMutablePointer<Float>, offset: Int, stride: Int, chunks: Int, width: Int,
        into out: GradientOutput
    ) {
        let o = out.tensor.floats
        for j in 0..<width {
            var s: Float = out.accumulate ? o[j] : 0
            for c in 0..<chunks { s += partial[c * stride + offset + j] }
            o[j] = s
        }
    }

    public func softmax(_ x: Tensor, into y: Tensor) {
        profile.measure("normalization") {
            let d = x.shape.lastDimension, rows = x.elementCount / max(d, 1)
            let xs = x.floats, ys = y.floats
            Parallel.ranges(rows, grain: max(1, CPUBackend.grain / d)) { r in
                for row in r { CPUBackend.softmaxRow(xs + row * d, into: ys + row * d, count: d) }
            }
        }
    }

    /// dx = y ⊙ (dy − Σ_j y_j·dy_j), per row.
    public func softmaxBackward(_ y: Tensor, _ dy: Tensor, into dx: GradientOutput) {
        profile.measure("normalization") {
            let d = y.shape.lastDimension, rows = y.elementCount / max(d, 1)
            let ys = y.floats, gs = dy.floats, o = dx.tensor.floats, acc = dx.accumulate
            Parallel.ranges(rows, grain: max(1, CPUBackend.grain / d)) { r in
                for row in r {
                    let yr = ys + row * d, gr = gs + row * d, orow = o + row * d
                    let dot = VectorMath.dot(yr, gr, d)
                    if acc {
                        for j in 0..<d { orow[j] += yr[j] * (gr[j] - dot) }
                    } else {
                        for j in 0..<d { orow[j] = yr[j] * (gr[j] - dot) }
                    }
                }
            }
        }
    }

    /// Numerically stable softmax of one row (in place allowed). A row that is entirely −∞
    /// (every key masked) becomes all zeros instead of NaN.
    @inline(__always)
    static func softmaxRow(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count d: Int) {
        let mx = VectorMath.max(x, d)
        if mx == -Float.infinity {
            for j in 0..<d { y[j] = 0 }
            return
        }
        let inv = 1 / VectorMath.expShifted(x, by: mx, into: y, d)
        for j in 0..<d { y[j] *= inv }
    }
}
