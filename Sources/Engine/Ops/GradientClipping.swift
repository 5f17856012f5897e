/// Global L2 norm of the gradients of `parameters` (those that received one).
public func gradientNorm(_ parameters: [Tensor]) -> Float {
    var total: Double = 0
    for p in parameters where p.hasGrad {
        if let g = p.grad { total += g.backend.sumOfSquares(g) }
    }
    return Float(total.squareRoot())
}

/// Scales all gradients by min(1, maxNorm / (‖g‖ + 1e-6)) so the global L2 norm is at most
/// `maxNorm` (PyTorch's `clip_grad_norm_`). Returns the norm before clipping.
@discardableResult
public func clipGradientNorm(_ parameters: [Tensor], maxNorm: Float) -> Float {
    let norm = gradientNorm(parameters)
    let coefficient = maxNorm / (norm + 1e-6)
    if coefficient < 1 {
        for p in parameters where p.hasGrad {
            if let g = p.grad { g.backend.scale(g, by: coefficient, into: .overwrite(g)) }
        }
    }
    return norm
}
