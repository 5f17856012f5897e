import Engine

/// AdamW (Loshchilov & Hutter) with PyTorch's update, over a `ParameterArena` (spec §1a: β = (0.9,
/// 0.98), ε = 1e-12, weight decay 0.01 except on norm weights and biases).
///
/// Each parameter has its own step counter for bias correction, so a parameter that starts
/// training late (a block activated by layer stacking) starts from fresh moments at step 0 while
/// the others keep theirs. A parameter without a gradient this step (an inactive or dropped block)
/// is left untouched, as PyTorch does for `grad is None`.
public final class AdamW {
    public struct Hyperparameters: Codable, Equatable, Sendable {
        public var beta1: Float = 0.9
        public var beta2: Float = 0.98
        public var epsilon: Float = 1e-12
        public var weightDecay: Float = 0.01
        public init(beta1: Float = 0.9, beta2: Float = 0.98, epsilon: Float = 1e-12, weightDecay: Float = 0.01) {
            self.beta1 = beta1
            self.beta2 = beta2
            self.epsilon = epsilon
            self.weightDecay = weightDecay
        }
    }

    public let arena: ParameterArena
    public var hyperparameters: Hyperparameters
    /// First and second moments, arena-shaped.
    public let firstMoment: Tensor
    public let secondMoment: Tensor
    /// Optimiser steps taken by each parameter (0 = no state yet).
    public private(set) var steps: [Int]

    public init(_ arena: ParameterArena, _ hyperparameters: Hyperparameters = Hyperparameters()) {
        self.arena = arena
        self.hyperparameters = hyperparameters
        firstMoment = Tensor.zeros([arena.count], backend: arena.values.backend)
        secondMoment = Tensor.zeros([arena.count], backend: arena.values.backend)
        steps = [Int](repeating: 0, count: arena.parameters.count)
    }

    /// Applies one update with learning rate `lr` to every parameter that has a gradient.
    public func step(learningRate lr: Float) {
        let h = hyperparameters
        for i in arena.parameters.indices where arena.parameters[i].tensor.hasGrad { steps[i] += 1 }
        struct Run: Equatable { let step: Int; let decays: Bool }
        let runs = arena.runs { i -> Run? in
            let p = arena.parameters[i]
            return p.tensor.hasGrad ? Run(step: steps[i], decays: p.decays) : nil
        }
        let backend = arena.values.backend
        for (range, run) in runs {
            guard let run else { continue }
            let t = Float(run.step), decays = run.decays
            let view = { (b: Tensor) in b.storageView(range, shape: [range.count]) }
            backend.adamW(view(arena.values), gradient: view(arena.gradients), firstMoment: view(firstMoment),
                          secondMoment: view(secondMoment),
                          AdamWStep(learningRate: lr, beta1: h.beta1, beta2: h.beta2, epsilon: h.epsilon,
                                    weightDecay: decays ? h.weightDecay : 0,
                                    biasCorrection1: 1 - pow(h.beta1, t), biasCorrection2: 1 - pow(h.beta2, t)))
        }
    }

    /// Forgets the state of parameters `indices` (fresh moments, step 0).
    public func resetState(parameters indices: [Int]) {
        for i in indices {
            steps[i] = 0
            let p = arena.parameters[i].tensor
            for buffer in [firstMoment, secondMoment] {
                arena.view(of: buffer, parameter: i).assign([Float](repeating: 0, count: p.elementCount))
            }
        }
    }

    /// Restores per-parameter step counts (checkpoints).
    public func restoreSteps(_ s: [Int]) {
        precondition(s.count == steps.count, "optimizer state has \(s.count) step counters, model has \(steps.count) parameters")
        steps = s
    }
}

#if canImport(Glibc)
import Glibc
#endif
