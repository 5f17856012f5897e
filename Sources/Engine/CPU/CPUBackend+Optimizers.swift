/// Fused optimiser updates: one pass over parameter, gradient and state per step.
extension CPUBackend {
    public func adamW(_ parameter: Tensor, gradient: Tensor, firstMoment: Tensor, secondMoment: Tensor, _ s: AdamWStep) {
        let n = parameter.elementCount
        precondition(gradient.elementCount == n && firstMoment.elementCount == n && secondMoment.elementCount == n,
                     "adamW: parameter, gradient and moments differ in size")
        let p = parameter.floats, g = gradient.floats, m = firstMoment.floats, v = secondMoment.floats
        let decay = 1 - s.learningRate * s.weightDecay
        let stepSize = s.learningRate / s.biasCorrection1
        let invSqrtC2 = 1 / s.biasCorrection2.squareRoot()
        let b1 = s.beta1, b2 = s.beta2, eps = s.epsilon
        Parallel.ranges(n, grain: CPUBackend.grain) { r in
            for i in r {
                let gi = g[i]
                let mi = b1 * m[i] + (1 - b1) * gi
                let vi = b2 * v[i] + (1 - b2) * gi * gi
                m[i] = mi
                v[i] = vi
                p[i] = p[i] * decay - stepSize * mi / (vi.squareRoot() * invSqrtC2 + eps)
            }
        }
    }
}
