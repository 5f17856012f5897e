import Engine

/// What an optimiser does with a parameter that received no gradient in a step (an inactive or
/// dropped block).
public enum MissingGradientPolicy: String, Codable, Sendable, CaseIterable {
    /// Leave it untouched, as PyTorch does for `grad is None` (also `zero_grad(set_to_none=True)`).
    case skip
    /// Once it has optimiser state, update it with a zero gradient (momentum and weight decay
    /// still act), as the original BERT code does on torch 1.13 where `zero_grad()` zeroes
    /// gradients instead of freeing them (see docs/recipes.md, layer dropping).
    case zeroGradientIfStateExists = "zero-gradient"
}

/// Machinery every optimiser over a `ParameterArena` shares: per-parameter step counters (a
/// parameter that starts training late, e.g. a block activated by layer stacking, starts from
/// fresh state at step 0 while the others keep theirs), arena-shaped state buffers saved in
/// checkpoints, grouping of consecutive parameters with equal settings into one fused update
/// call, the policy for parameters without a gradient, and T5's RMS-scaled learning rate
/// (lr·max(10⁻³, RMS(p)) per parameter, used for both the step and the weight decay).
public class ArenaOptimizer: RunPlugin {
    public let arena: ParameterArena
    /// "adamw", "lion", "sophia".
    public let name: String
    /// Optimiser steps taken by each parameter (0 = no state yet).
    public private(set) var steps: [Int]
    /// State buffers (arena-shaped) and their checkpoint name prefixes.
    public let state: [(prefix: String, buffer: Tensor)]
    public var rmsScaledLearningRate = false
    public var missingGradient = MissingGradientPolicy.skip
    /// Weight-decay norm gains as well as weights (`optimizer.decay_norm_weights`).
    public var decaysNormWeights = false

    init(arena: ParameterArena, name: String, statePrefixes: [String]) {
        self.arena = arena
        self.name = name
        steps = [Int](repeating: 0, count: arena.parameters.count)
        state = statePrefixes.map { ($0, Tensor.zeros([arena.count], backend: arena.values.backend)) }
    }

    /// A flat view of elements `range` of an arena-shaped buffer.
    func view(_ buffer: Tensor, _ range: Range<Int>) -> Tensor { buffer.storageView(range, shape: [range.count]) }

    /// RMS(p) = ‖p‖₂ / √n over the arena's `range`, floored at 10⁻³ (nanoT5's `_rms`).
    func rmsScale(_ range: Range<Int>) -> Float {
        let rms = Float(
            (arena.values.backend.sumOfSquares(view(arena.values, range)) / Double(range.count)).squareRoot())
        return max(1e-3, rms)
    }

    /// Parameters that take part in this step, after applying the missing-gradient policy.
    func participants() -> [Bool] {
        arena.parameters.indices.map { i in
            let t = arena.parameters[i].tensor
            if t.hasGrad { return true }
            guard missingGradient == .zeroGradientIfStateExists, steps[i] > 0, let g = t.grad else { return false }
            t.backend.fill(g, with: 0)
            return true
        }
    }

    struct Run: Equatable {
        let step: Int
        let decays: Bool
        let learningRateScale: Float
    }

    /// One optimiser step: counts steps, groups parameters into runs with equal settings, and
    /// calls `update` once per run.
    public func step(learningRate lr: Float) {
        let active = participants()
        for i in active.indices where active[i] { steps[i] += 1 }
        for (range, run) in runs(active) {
            guard let run else { continue }
            update(range, step: run.step, learningRate: lr * run.learningRateScale, decays: run.decays)
        }
    }

    /// Consecutive spans of the arena that share their settings (nil: not updated this step). With
    /// the RMS-scaled rate each part of a fused parameter (`Parameter.parts`) is scaled by its own
    /// RMS, as the original code's separate tensors are.
    func runs(_ active: [Bool]) -> [(Range<Int>, Run?)] {
        var result: [(Range<Int>, Run?)] = []
        for (i, p) in arena.parameters.enumerated() {
            let start = arena.offsets[i], end = i + 1 < arena.offsets.count ? arena.offsets[i + 1] : arena.count
            let parts = rmsScaledLearningRate ? p.parts : 1, size = p.tensor.elementCount / parts
            for k in 0..<parts {
                let first = start + k * size, range = first..<(k == parts - 1 ? end : first + size)
                let run =
                    active[i]
                    ? Run(
                        step: steps[i], decays: decays(p),
                        learningRateScale: rmsScaledLearningRate ? rmsScale(first..<(first + size)) : 1) : nil
                if let last = result.last, last.1 == run {
                    result[result.count - 1].0 = last.0.lowerBound..<range.upperBound
                } else {
                    result.append((range, run))
                }
            }
        }
        return result
    }

    /// Whether weight decay applies to `p`: weights always, norm gains with `decaysNormWeights`.
    func decays(_ p: Parameter) -> Bool { p.decays || (decaysNormWeights && p.role == .normWeight) }

    /// Updates the parameters in `range` (subclasses).
    func update(_ range: Range<Int>, step: Int, learningRate: Float, decays: Bool) {
        fatalError("\(type(of: self)) must implement update")
    }

    /// Forgets the state of parameters `indices` (fresh state, step 0).
    public func resetState(parameters indices: [Int]) {
        for i in indices {
            steps[i] = 0
            for (_, buffer) in state {
                arena.view(of: buffer, parameter: i).assign(Tensor.zeros(arena.parameters[i].tensor.shape))
            }
        }
    }

    /// Restores per-parameter step counts (checkpoints).
    public func restoreSteps(_ s: [Int]) {
        precondition(
            s.count == steps.count, "optimizer state has \(s.count) step counters, model has \(steps.count) parameters")
        steps = s
    }

    /// Called before each optimiser step's micro-batches are drawn (Sophia refreshes its curvature
    /// estimate here).
    public func willStep(_ trainer: TrainerContext) {}

    // MARK: RunPlugin (moments and step counters are saved by the `Checkpointer`)

    public var pluginName: String { name }
    public var logFields: JSONValue? { nil }
    public func checkpointValues() throws -> JSONValue? { nil }
    public func checkpointTensors() -> [(String, Tensor)] { [] }
    public func restore(values: JSONValue?, tensors: [String: SafeTensors.Entry]) throws {}
}
