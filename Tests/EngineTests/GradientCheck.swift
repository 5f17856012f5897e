import Engine
import Testing

/// Checks an engine op against a float64 reference:
/// 1. forward: engine output ≈ reference output;
/// 2. backward: the engine's gradient of L = Σ w ⊙ f(inputs) (w random) ≈ central differences of
///    the reference, (L(x + h) − L(x − h)) / 2h with h = 1e-5 in float64.
struct GradientCheck {
    struct Outcome {
        var forwardError = 0.0
        var gradientError = 0.0  // max |g − fd| / (atol + rtol·|fd|); ≤ 1 passes
        var worst = ""
        var passed: Bool { forwardError <= 1 && gradientError <= 1 }
    }

    var rtol = 1e-3
    var atol = 1e-4
    var forwardTolerance = 1e-4
    var step = 1e-5

    /// `shapes` are the float inputs; the closures receive them as tensors / float64 arrays.
    func run(
        shapes: [[Int]], seed: UInt64 = 7, range: ClosedRange<Double> = -1...1,
        engine: ([Tensor]) -> Tensor, reference: ([[Double]]) -> [Double]
    ) -> Outcome {
        var g = SeededGenerator(seed: seed)
        let inputs: [[Double]] = shapes.map { s in
            (0..<s.elementCount).map { _ in range.lowerBound + (range.upperBound - range.lowerBound) * g.uniformDouble()
            }
        }
        // Round inputs to float32 so both sides see the same values.
        let rounded = inputs.map { $0.map { Double(Float($0)) } }
        let reference0 = reference(rounded)
        let weights = (0..<reference0.count).map { _ in Double(Float(g.uniformDouble() * 2 - 1)) }

        let tensors = zip(rounded, shapes).map { Tensor($0.map(Float.init), shape: $1, requiresGrad: true) }
        let output = engine(tensors)
        var outcome = Outcome()
        let got = output.scalars()
        precondition(got.count == reference0.count, "engine gives \(got.count) outputs, reference \(reference0.count)")
        let scale = max(1, reference0.map(abs).max() ?? 1)
        for (a, b) in zip(got, reference0) {
            outcome.forwardError = max(outcome.forwardError, abs(Double(a) - b) / (forwardTolerance * scale))
        }
        let w = Tensor(weights.map(Float.init), shape: output.shape)
        (output * w).sum().backward()

        func loss(_ xs: [[Double]]) -> Double { zip(reference(xs), weights).map { $0 * $1 }.reduce(0, +) }
        for (index, tensor) in tensors.enumerated() {
            let grad = tensor.hasGrad ? tensor.grad!.scalars() : [Float](repeating: 0, count: tensor.elementCount)
            for j in 0..<rounded[index].count {
                var plus = rounded, minus = rounded
                plus[index][j] += step
                minus[index][j] -= step
                let fd = (loss(plus) - loss(minus)) / (2 * step)
                let err = abs(Double(grad[j]) - fd) / (atol + rtol * abs(fd))
                if err > outcome.gradientError {
                    outcome.gradientError = err
                    outcome.worst = "input \(index)[\(j)]: engine \(grad[j]), finite difference \(fd)"
                }
            }
        }
        return outcome
    }
}

func expectPasses(_ o: GradientCheck.Outcome, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(o.forwardError <= 1, "forward error \(o.forwardError)", sourceLocation: sourceLocation)
    #expect(o.gradientError <= 1, "gradient error \(o.gradientError) at \(o.worst)", sourceLocation: sourceLocation)
}
