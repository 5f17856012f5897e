import Foundation
import Engine
import NoTrainNoGain
import Testing

/// Each update rule against a step computed by hand (in Double) on a few values.
@Suite("Optimizers")
struct OptimizerTests {
    /// One parameter vector p with gradient g; a second, decay-free one (a "norm" weight).
    func arena(_ p: [Float], _ g: [Float], decays: Bool = true) -> (ParameterArena, Tensor) {
        let t = Tensor(p, shape: [p.count], requiresGrad: true)
        let arena = ParameterArena([Parameter("w", t, role: decays ? .weight : .bias)])
        setGradient(t, g)
        return (arena, t)
    }

    func setGradient(_ t: Tensor, _ g: [Float]) {
        (t * Tensor(g, shape: [g.count])).sum().backward()  // ∂/∂t of Σ t·g = g
    }

    /// The first parameter's slot of an arena-shaped state buffer.
    func state(_ opt: ArenaOptimizer, _ buffer: Tensor) -> [Float] {
        opt.arena.view(of: buffer, parameter: 0).scalars()
    }

    func expectClose(
        _ a: [Float], _ b: [Double], _ tol: Double = 1e-6, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(a.count == b.count, sourceLocation: sourceLocation)
        for (x, y) in zip(a, b) {
            #expect(abs(Double(x) - y) <= tol * max(1, abs(y)), "\(x) vs \(y)", sourceLocation: sourceLocation)
        }
    }

    @Test func adamWFirstStepIsBiasCorrectedAndDecoupledDecayApplies() {
        let (arena, t) = arena([1, -2, 0.5], [0.5, 0.1, -4])
        let opt = AdamW(arena, AdamW.Hyperparameters(beta1: 0.9, beta2: 0.98, epsilon: 1e-8, weightDecay: 0.1))
        opt.step(learningRate: 0.01)
        // m̂ = g, v̂ = g² after one step: p ← p(1 − lr·wd) − lr·g/(|g| + ε).
        let p0: [Double] = [1, -2, 0.5], g: [Double] = [0.5, 0.1, -4]
        expectClose(t.scalars(), zip(p0, g).map { $0 * (1 - 0.001) - 0.01 * $1 / (abs($1) + 1e-8) })
        // Second step with the same gradient: m = g(1 − 0.9²), v = g²(1 − 0.98²), corrections 1 − β².
        arena.zeroGrad(); setGradient(t, [0.5, 0.1, -4])
        let before = t.scalars().map(Double.init)
        opt.step(learningRate: 0.01)
        let expected = zip(before, g).map { p, g -> Double in
            let m = 0.19 * g, v = (1 - 0.98 * 0.98) * g * g
            return p * (1 - 0.001) - 0.01 / 0.19 * m / ((v).squareRoot() / (1 - 0.98 * 0.98).squareRoot() + 1e-8)
        }
        expectClose(t.scalars(), expected)
        #expect(opt.steps == [2])
    }

    @Test func adamWScaleUsesHuggingFaceEpsilonAndTheRMSScaledStep() {
        // nanoT5: α = lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ)·max(10⁻³, RMS(p)); p ← p − α·m/(√v + ε). A large ε makes
        // its placement visible (PyTorch's form would divide by √v̂ + ε instead).
        let p0: [Double] = [3, -4, 0], g: [Double] = [0.02, -0.01, 0.5]
        let (arena, t) = arena(p0.map(Float.init), g.map(Float.init))
        let opt = AdamWScale(arena, beta1: 0.9, beta2: 0.999, epsilon: 0.01)
        #expect(opt.name == "adamw-scale" && opt.rmsScaledLearningRate)
        var p = p0, m = [0.0, 0, 0], v = [0.0, 0, 0]
        for step in 1...2 {
            if step == 2 { arena.zeroGrad(); setGradient(t, g.map(Float.init)) }
            opt.step(learningRate: 0.02)
            let rms = (p.map { $0 * $0 }.reduce(0, +) / 3).squareRoot()
            let alpha =
                0.02 * (1 - pow(0.999, Double(step))).squareRoot() / (1 - pow(0.9, Double(step))) * max(1e-3, rms)
            for i in 0..<3 {
                m[i] = 0.9 * m[i] + 0.1 * g[i]
                v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i]
                p[i] -= alpha * m[i] / (v[i].squareRoot() + 0.01)
            }
            expectClose(t.scalars(), p, 1e-5)
        }
    }

    @Test func adamWWithHuggingFaceEpsilonIsTransformersAdamW() {
        // transformers.AdamW (nanoT5's SNI fine-tuning): step = lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ), p −= step·m/(√v + ε),
        // no RMS scaling; ε = 0.01 makes its placement visible.
        let p0: [Double] = [3, -4, 0], g: [Double] = [0.02, -0.01, 0.5]
        let (arena, t) = arena(p0.map(Float.init), g.map(Float.init))
        let opt = AdamW(
            arena,
            AdamW.Hyperparameters(beta1: 0.9, beta2: 0.999, epsilon: 0.01, weightDecay: 0, huggingFaceEpsilon: true))
        var p = p0, m = [0.0, 0, 0], v = [0.0, 0, 0]
        for step in 1...2 {
            if step == 2 { arena.zeroGrad(); setGradient(t, g.map(Float.init)) }
            opt.step(learningRate: 0.02)
            let alpha = 0.02 * (1 - pow(0.999, Double(step))).squareRoot() / (1 - pow(0.9, Double(step)))
            for i in 0..<3 {
                m[i] = 0.9 * m[i] + 0.1 * g[i]
                v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i]
                p[i] -= alpha * m[i] / (v[i].squareRoot() + 0.01)
            }
            expectClose(t.scalars(), p, 1e-5)
        }
        // Reports written before the flag existed read as PyTorch's placement.
        let old = #"{"beta1": 0.9, "beta2": 0.98, "epsilon": 1e-06, "weight_decay": 0}"#
        let decoded = try? JSONCoding.decoder().decode(AdamW.Hyperparameters.self, from: Data(old.utf8))
        #expect(decoded == AdamW.Hyperparameters(beta1: 0.9, beta2: 0.98, epsilon: 1e-6, weightDecay: 0))
    }

    @Test func normWeightsAreNotDecayed() {
        let (arena, t) = arena([2], [0], decays: false)
        AdamW(arena, AdamW.Hyperparameters(weightDecay: 0.5)).step(learningRate: 0.1)
        #expect(t.scalars() == [2])
    }

    @Test func lionStepsBySignOfTheInterpolatedMomentum() {
        let (arena, t) = arena([1, -1, 0.5], [0.2, -0.3, 0])
        let opt = Lion(arena, beta1: 0.9, beta2: 0.99, weightDecay: 0.1)
        opt.step(learningRate: 0.1)
        // c = 0.1·g → signs (+, −, 0); decay 1 − 0.01.
        expectClose(t.scalars(), [0.99 - 0.1, -0.99 + 0.1, 0.495])
        expectClose(state(opt, opt.momentum), [0.002, -0.003, 0])
        // Second step: g = (−0.1, −0.1, 1): c = 0.9·m + 0.1·g = (−0.0082, −0.0127, 0.1).
        arena.zeroGrad(); setGradient(t, [-0.1, -0.1, 1])
        opt.step(learningRate: 0.1)
        expectClose(t.scalars(), [0.89 * 0.99 + 0.1, -0.89 * 0.99 + 0.1, 0.495 * 0.99 - 0.1])
        expectClose(state(opt, opt.momentum), [0.99 * 0.002 - 0.001, 0.99 * -0.003 - 0.001, 0.01])
    }

    @Test func sophiaClipsThePreconditionedStep() {
        let (arena, t) = arena([1, 1, 1, 1], [1, 1, -1, 0.5])
        let opt = Sophia(arena, beta1: 0.5, beta2: 0.99, rho: 0.1, batchTokens: 10, weightDecay: 0.2)
        opt.arena.view(of: opt.hessian, parameter: 0).assign([10, 0.01, 0, 2])
        opt.step(learningRate: 0.1)
        // m = 0.5·g = (0.5, 0.5, −0.5, 0.25); ρ·bs·h = (10, 0.01, 0, 2);
        // ratio = min(|m|/(ρ·bs·h + 1e-15), 1) = (0.05, 1, 1, 0.125).
        let decay = 1 - 0.1 * 0.2
        expectClose(t.scalars(), [decay - 0.1 * 0.05, decay - 0.1, decay + 0.1, decay - 0.1 * 0.125])
        expectClose(state(opt, opt.momentum), [0.5, 0.5, -0.5, 0.25])
    }

    @Test func sophiaCurvatureUpdateIsAnEMAOfSquaredGradients() {
        let (arena, t) = arena([0, 0], [3, -2])
        let opt = Sophia(arena, beta2: 0.9, batchTokens: 1, hessianInterval: 10)
        opt.updateCurvature()
        expectClose(state(opt, opt.hessian), [0.9, 0.4])
        opt.updateCurvature()
        expectClose(state(opt, opt.hessian), [0.9 * 0.9 + 0.9, 0.9 * 0.4 + 0.4])
        #expect(
            opt.wantsCurvatureUpdate(beforeStep: 0) && !opt.wantsCurvatureUpdate(beforeStep: 9)
                && opt.wantsCurvatureUpdate(beforeStep: 20))
        _ = t
    }

    @Test func rmsScaledLearningRateMultipliesStepAndDecay() {
        let (arena, t) = arena([3, 4], [1, -1])
        let opt = Lion(arena, weightDecay: 0.1)
        opt.rmsScaledLearningRate = true
        opt.step(learningRate: 0.1)
        // RMS = √((9 + 16)/2) = 3.5355…; lr_eff = 0.35355…
        let lr = 0.1 * (12.5).squareRoot()
        expectClose(t.scalars(), [3 * (1 - lr * 0.1) - lr, 4 * (1 - lr * 0.1) + lr], 1e-5)
        // A tiny parameter is floored at RMS 1e-3.
        let (a2, t2) = self.arena([0, 0], [1, 1])
        let opt2 = Lion(a2, weightDecay: 0)
        opt2.rmsScaledLearningRate = true
        opt2.step(learningRate: 1)
        expectClose(t2.scalars(), [-1e-3, -1e-3])
    }

    @Test func parametersWithoutAGradientAreSkippedOrZeroUpdatedByPolicy() {
        for policy in [MissingGradientPolicy.skip, .zeroGradientIfStateExists] {
            let (arena, t) = arena([1, 1], [1, 1])
            let opt = Lion(arena, beta1: 0.9, beta2: 0.99, weightDecay: 0.1)
            opt.missingGradient = policy
            opt.step(learningRate: 0.1)  // momentum 0.01·g, p = 0.99 − 0.1
            arena.zeroGrad()  // the next step has no gradient for w
            opt.step(learningRate: 0.1)
            if policy == .skip {
                expectClose(t.scalars(), [0.89, 0.89])
                #expect(opt.steps == [1])
            } else {
                // g = 0: c = 0.9·0.01 > 0 → another sign step, with decay.
                expectClose(t.scalars(), [0.89 * 0.99 - 0.1, 0.89 * 0.99 - 0.1])
                #expect(opt.steps == [2])
            }
        }
    }

    /// E[ĝ⊙ĝ] with ŷ ~ softmax(z) equals the Gauss-Newton diagonal: for z = Wx and cross-entropy,
    /// ∂ℓ/∂W_cd = (p_c − [ŷ = c])·x_d, so E[ĝ²_cd] = x_d²·p_c(1 − p_c).
    @Test func sampledLabelGradientSquaresEstimateTheGaussNewtonDiagonal() {
        let x: [Float] = [1.0, -0.5, 2.0],
            w: [Float] = [0.3, -0.2, 0.1, -0.4, 0.5, 0.2, 0.0, 0.1, -0.3, 0.6, -0.1, 0.2]
        let weight = Tensor(w, shape: [4, 3], requiresGrad: true)
        let input = Tensor(x, shape: [1, 3])
        let z = linear(input, weight).scalars().map(Double.init)
        let e = z.map { _exp($0 - z.max()!) }
        let p = e.map { $0 / e.reduce(0, +) }
        var g = SeededGenerator(seed: 11)
        var sum = [Double](repeating: 0, count: 12)
        let draws = 20_000
        for _ in 0..<draws {
            let logits = linear(input, weight)
            let y = SampledLabels.draw(logits: logits.detached(), generator: &g)
            softmaxCrossEntropy(logits: logits, labels: Tensor(int32: y, shape: [1])).loss.backward()
            for (i, v) in weight.grad!.scalars().enumerated() { sum[i] += Double(v) * Double(v) }
            weight.zeroGrad()
        }
        for c in 0..<4 {
            for d in 0..<3 {
                let expected = Double(x[d] * x[d]) * p[c] * (1 - p[c])
                let estimate = sum[c * 3 + d] / Double(draws)
                #expect(abs(estimate - expected) < 0.04 * expected + 1e-4, "W[\(c),\(d)]: \(estimate) vs \(expected)")
            }
        }
    }

    @Test func sampledLabelsFollowTheSoftmax() {
        let logits = Tensor([0, Float(_log(3.0)), -100], shape: [1, 3])
        var g = SeededGenerator(seed: 2)
        var counts = [0, 0, 0]
        for _ in 0..<20_000 { counts[Int(SampledLabels.draw(logits: logits, generator: &g)[0])] += 1 }
        #expect(abs(Double(counts[1]) / 20_000 - 0.75) < 0.01 && counts[2] == 0)
    }
}

#if canImport(Glibc)
    import Glibc
    func _exp(_ x: Double) -> Double { Glibc.exp(x) }
    func _log(_ x: Double) -> Double { Glibc.log(x) }
#endif
