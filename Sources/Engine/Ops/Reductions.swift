/// Reductions to a scalar.
extension Tensor {
    /// Σ of all elements, as a scalar tensor.
    public func sum() -> Tensor {
        let x = contiguous()
        let out = Tensor(shape: [], backend: backend)
        backend.sum(x, into: .overwrite(out))
        return GradientTape.record(out, inputs: [x]) { dy in
            let upstream = dy.item()
            x.accumulateGradient { g in
                if g.accumulate {
                    let ones = Tensor.full(upstream, shape: x.shape, backend: x.backend)
                    x.backend.copy(ones, into: g.tensor, accumulate: true)
                } else {
                    x.backend.fill(g.tensor, with: upstream)
                }
            }
        }
    }

    /// Mean of all elements, as a scalar tensor.
    public func mean() -> Tensor { sum().scaled(by: 1 / Float(Swift.max(elementCount, 1))) }
}
