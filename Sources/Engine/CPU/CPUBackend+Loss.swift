#if canImport(Glibc)
    import Glibc
#endif

/// Softmax cross-entropy over a large vocabulary, and reductions.
extension CPUBackend {
    /// loss_i = log Σ_j e^{z_ij} − z_{i,y_i};  ∂(Σ_i loss_i / count)/∂z_ij = (softmax_ij − [j = y_i]) / count.
    /// One pass finds the row maximum, one accumulates the exponentials, one writes the gradient.
    public func softmaxCrossEntropy(
        _ logits: Tensor, labels: Tensor, ignoreIndex: Int32,
        losses: Tensor, dLogits: Tensor?
    ) -> Int {
        profile.measure("loss") {
            let v = logits.shape.lastDimension, rows = logits.elementCount / max(v, 1)
            precondition(
                labels.elementCount == rows && losses.elementCount == rows,
                "cross-entropy: \(rows) rows but \(labels.elementCount) labels")
            let z = logits.floats, y = labels.int32s, l = losses.floats, g = dLogits?.floats
            var count = 0
            for i in 0..<rows where y[i] != ignoreIndex {
                precondition(y[i] >= 0 && Int(y[i]) < v, "cross-entropy: label \(y[i]) out of range 0..<\(v)")
                count += 1
            }
            let invCount = count > 0 ? 1 / Float(count) : 0
            Parallel.ranges(rows, grain: max(1, CPUBackend.grain / v)) { r in
                for i in r {
                    let zr = z + i * v
                    let label = y[i]
                    if label == ignoreIndex {
                        l[i] = 0
                        if let g { memset(g + i * v, 0, v * 4) }
                        continue
                    }
                    let mx = VectorMath.max(zr, v)
                    let gr = g.map { $0 + i * v }
                    // With a gradient buffer, the exponentials land there and are scaled in place.
                    let sum = VectorMath.expShifted(zr, by: mx, into: gr, v)
                    l[i] = logf(sum) + mx - zr[Int(label)]
                    if let gr {
                        let scale = invCount / sum
                        for j in 0..<v { gr[j] *= scale }
                        gr[Int(label)] -= invCount
                    }
                }
            }
            return count
        }
    }

    public func sum(_ x: Tensor, into out: GradientOutput) {
        profile.measure("loss") {
            let s = Float(reduce(x, squared: false))
            let o = out.tensor.floats
            o[0] = out.accumulate ? o[0] + s : s
        }
    }

    public func sumOfSquares(_ x: Tensor) -> Double { reduce(x, squared: true) }

    /// Σ x_i or Σ x_i²: 16-lane float partial sums per block of 4096, blocks summed in double.
    private func reduce(_ x: Tensor, squared: Bool) -> Double {
        let n = x.elementCount, p = x.floats
        let chunks = Parallel.chunkCount(n, grain: 1 << 15)
        var partial = [Double](repeating: 0, count: chunks)
        partial.withUnsafeMutableBufferPointer { part in
            Parallel.forEach(chunks) { c in
                let r = Parallel.chunkRange(c, of: chunks, count: n)
                var total: Double = 0
                var i = r.lowerBound
                while i < r.upperBound {
                    let end = min(i + 4096, r.upperBound)
                    var acc = SIMD16<Float>()
                    while i + 16 <= end {
                        let v = UnsafeRawPointer(p + i).loadUnaligned(as: SIMD16<Float>.self)
                        acc += squared ? v * v : v
                        i += 16
                    }
                    var s = Double(acc.sum())
                    while i < end {
                        s += squared ? Double(p[i] * p[i]) : Double(p[i])
                        i += 1
                    }
                    total += s
                }
                part[c] = total
            }
        }
        return partial.reduce(0, +)
    }
}
