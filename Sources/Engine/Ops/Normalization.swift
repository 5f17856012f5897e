/// LayerNorm, RMSNorm and softmax over the last dimension.
extension Tensor {
    /// (x − μ)/√(σ² + ε)·w + b over the last dimension; `bias` nil gives the bias-free variant.
    public func layerNorm(weight: Tensor, bias: Tensor?, epsilon: Float) -> Tensor {
        let x = contiguous()
        let rows = shape.rowCount
        let y = Tensor(shape: shape, backend: backend)
        let mean = Tensor(shape: [rows], backend: backend), rstd = Tensor(shape: [rows], backend: backend)
        backend.layerNorm(x, weight: weight, bias: bias, epsilon: epsilon, into: y, mean: mean, rstd: rstd)
        return GradientTape.record(y, inputs: [x, weight] + (bias.map { [$0] } ?? [])) { dy in
            var dx: GradientOutput?, dw: GradientOutput?, db: GradientOutput?
            x.accumulateGradient { dx = $0 }
            weight.accumulateGradient { dw = $0 }
            bias?.accumulateGradient { db = $0 }
            x.backend.layerNormBackward(x, weight: weight, mean: mean, rstd: rstd, dy, dx: dx, dWeight: dw, dBias: db)
        }
    }

    /// x/√(mean(x²) + ε)·w over the last dimension (T5's LayerNorm).
    public func rmsNorm(weight: Tensor, epsilon: Float) -> Tensor {
        let x = contiguous()
        let y = Tensor(shape: shape, backend: backend)
        let rstd = Tensor(shape: [shape.rowCount], backend: backend)
        backend.rmsNorm(x, weight: weight, epsilon: epsilon, into: y, rstd: rstd)
        return GradientTape.record(y, inputs: [x, weight]) { dy in
            var dx: GradientOutput?, dw: GradientOutput?
            x.accumulateGradient { dx = $0 }
            weight.accumulateGradient { dw = $0 }
            x.backend.rmsNormBackward(x, weight: weight, rstd: rstd, dy, dx: dx, dWeight: dw)
        }
    }

    /// Softmax over the last dimension.
    public func softmax() -> Tensor {
        let x = contiguous()
        let y = Tensor(shape: shape, backend: backend)
        backend.softmax(x, into: y)
        return GradientTape.record(y, inputs: [x]) { dy in
            x.accumulateGradient { g in x.backend.softmaxBackward(y, dy, into: g) }
        }
    }
}
