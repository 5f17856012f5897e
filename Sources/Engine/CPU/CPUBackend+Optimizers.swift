/// Fused optimiser updates: one pass over parameter, gradient and state per step.
extension CPUBackend {
    public func adamW(_ parameter: Tensor, gradient: Tensor, firstMoment: Tensor, secondMoment: Tensor, _ s: AdamWStep)
    {
        profile.measure("optimizer") {
            let n = parameter.elementCount
            precondition(
                gradient.elementCount == n && firstMoment.elementCount == n && secondMoment.elementCount == n,
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

    public func lion(_ parameter: Tensor, gradient: Tensor, momentum: Tensor, _ s: LionStep) {
        profile.measure("optimizer") {
            let n = parameter.elementCount
            precondition(
                gradient.elementCount == n && momentum.elementCount == n,
                "lion: parameter, gradient and momentum differ in size")
            let p = parameter.floats, g = gradient.floats, m = momentum.floats
            let decay = 1 - s.learningRate * s.weightDecay, lr = s.learningRate, b1 = s.beta1, b2 = s.beta2
            Parallel.ranges(n, grain: CPUBackend.grain) { r in
                for i in r {
                    let gi = g[i], mi = m[i]
                    let c = b1 * mi + (1 - b1) * gi
                    let sign: Float = c > 0 ? 1 : (c < 0 ? -1 : 0)
                    p[i] = p[i] * decay - lr * sign
                    m[i] = b2 * mi + (1 - b2) * gi
                }
            }
        }
    }

    public func sophia(_ parameter: Tensor, gradient: Tensor, momentum: Tensor, hessian: Tensor, _ s: SophiaStep) {
        profile.measure("optimizer") {
            let n = parameter.elementCount
            precondition(
                gradient.elementCount == n && momentum.elementCount == n && hessian.elementCount == n,
                "sophia: parameter, gradient and state differ in size")
            let p = parameter.floats, g = gradient.floats, m = momentum.floats, h = hessian.floats
            let decay = 1 - s.learningRate * s.weightDecay, lr = s.learningRate, b1 = s.beta1
            let rhoBatch = s.rhoTimesBatch, eps = s.epsilon
            Parallel.ranges(n, grain: CPUBackend.grain) { r in
                for i in r {
                    let mi = b1 * m[i] + (1 - b1) * g[i]
                    m[i] = mi
                    let magnitude = abs(mi)
                    let ratio = min(magnitude / (rhoBatch * h[i] + eps), 1)
                    let sign: Float = mi > 0 ? 1 : (mi < 0 ? -1 : 0)
                    p[i] = p[i] * decay - lr * sign * ratio
                }
            }
        }
    }

    public func squaredEMA(_ h: Tensor, gradient: Tensor, beta: Float) {
        profile.measure("optimizer") {
            precondition(h.elementCount == gradient.elementCount, "squaredEMA: sizes differ")
            let hp = h.floats, g = gradient.floats
            Parallel.ranges(h.elementCount, grain: CPUBackend.grain) { r in
                for i in r { hp[i] = beta * hp[i] + (1 - beta) * g[i] * g[i] }
            }
        }
    }
}
