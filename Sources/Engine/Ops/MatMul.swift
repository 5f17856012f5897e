/// Matrix products. `linear` is the workhorse of every model (x·Wᵀ with W stored [out, in] as in
/// PyTorch and Hugging Face checkpoints); its weight gradient is accumulated straight into the
/// parameter's gradient buffer by the GEMM (β = 1), with no temporary.
extension Tensor {
    /// A storage-sharing view with the last two dimensions swapped, outside the autodiff graph.
    func transposedView() -> Tensor {
        var dims = shape
        dims.swapAt(rank - 1, rank - 2)
        return Tensor(storage: storage, offset: offset, shape: dims, dtype: dtype, isTransposed: !isTransposed)
    }

    /// A storage-sharing reshape of a contiguous tensor, outside the autodiff graph.
    func view(_ dims: [Int]) -> Tensor {
        precondition(!isTransposed && dims.elementCount == elementCount)
        return Tensor(storage: storage, offset: offset, shape: dims, dtype: dtype)
    }
}

/// a·b for a [..., M, K] and b [K, N] or [..., K, N] (same leading dims); either may be a
/// transposed view. Gradients: da = dc·bᵀ, db = aᵀ·dc (summed over a's batch when b is 2-D).
public func matmul(_ a: Tensor, _ b: Tensor) -> Tensor {
    precondition(a.rank >= 2 && b.rank >= 2, "matmul needs matrices, got \(a.shape) and \(b.shape)")
    let m = a.shape[a.rank - 2], n = b.shape[b.rank - 1]
    let c = Tensor(shape: Array(a.shape.dropLast(2)) + [m, n], backend: a.backend)
    a.backend.matmul(a, b, into: c, alpha: 1, accumulate: false)
    return GradientTape.record(c, inputs: [a, b]) { dc in
        a.accumulateGradient { out in
            a.backend.matmul(dc, b.transposedView(), into: out.tensor, alpha: 1, accumulate: out.accumulate)
        }
        b.accumulateGradient { out in
            if b.rank == 2 && a.rank > 2 {
                if !a.isTransposed {
                    // Σ_i a_iᵀ·dc_i = (a as [rows, K])ᵀ · (dc as [rows, N]).
                    let rows = a.elementCount / a.shape[a.rank - 1]
                    let a2 = a.view([rows, a.shape[a.rank - 1]]).transposedView()
                    a.backend.matmul(a2, dc.view([rows, n]), into: out.tensor, alpha: 1, accumulate: out.accumulate)
                } else {
                    let batch = a.shape.dropLast(2).reduce(1, *)
                    for i in 0..<batch {
                        let ai = Tensor(
                            storage: a.storage, offset: a.offset + i * a.shape[a.rank - 1] * m,
                            shape: [m, a.shape[a.rank - 1]], dtype: a.dtype, isTransposed: true)
                        let dci = Tensor(
                            storage: dc.storage, offset: dc.offset + i * m * n, shape: [m, n], dtype: dc.dtype)
                        a.backend.matmul(
                            ai.transposedView(), dci, into: out.tensor, alpha: 1,
                            accumulate: out.accumulate || i > 0)
                    }
                }
            } else {
                a.backend.matmul(a.transposedView(), dc, into: out.tensor, alpha: 1, accumulate: out.accumulate)
            }
        }
    }
}

/// y = x·Wᵀ for x [..., in] and W [out, in]. Gradients: dx = dy·W, dW += dyᵀ·x.
public func linear(_ x: Tensor, _ weight: Tensor) -> Tensor {
    precondition(weight.rank == 2 && !weight.isTransposed, "linear: weight must be a contiguous [out, in] matrix")
    let inFeatures = weight.shape[1], outFeatures = weight.shape[0]
    precondition(
        x.shape.lastDimension == inFeatures,
        "linear: input \(x.shape.shapeDescription) does not end in \(inFeatures) features")
    let x = x.isTransposed ? x.contiguous() : x
    let rows = x.elementCount / inFeatures
    let y = Tensor(shape: Array(x.shape.dropLast()) + [outFeatures], backend: x.backend)
    let x2 = x.view([rows, inFeatures]), y2 = y.view([rows, outFeatures])
    x.backend.matmul(x2, weight.transposedView(), into: y2, alpha: 1, accumulate: false)
    return GradientTape.record(y, inputs: [x, weight]) { dy in
        let dy2 = dy.view([rows, outFeatures])
        x.accumulateGradient { out in
            x.backend.matmul(
                dy2, weight, into: out.tensor.view([rows, inFeatures]), alpha: 1, accumulate: out.accumulate)
        }
        weight.accumulateGradient { out in
            x.backend.matmul(dy2.transposedView(), x2, into: out.tensor, alpha: 1, accumulate: out.accumulate)
        }
    }
}
