/// Activations and gated linear units.
extension Tensor {
    /// ReLU, GELU (exact erf form), GELU (tanh form) or tanh, element-wise.
    public func activation(_ kind: Activation) -> Tensor {
        let x = contiguous()
        let y = Tensor(shape: shape, backend: backend)
        backend.activation(kind, x, into: y)
        return GradientTape.record(y, inputs: [x]) { dy in
            x.accumulateGradient { g in x.backend.activationBackward(kind, x, dy, into: g) }
        }
    }

    public func relu() -> Tensor { activation(.relu) }
    public func gelu() -> Tensor { activation(.gelu) }
    public func geluTanh() -> Tensor { activation(.geluTanh) }
    public func tanh() -> Tensor { activation(.tanh) }

    /// Gated linear unit over the last dimension [..., 2h] → [..., h]: act(gate) · other half.
    /// crammed BERT's GELU-GLU is `gatedActivation(.gelu, gate: .second)`; T5 v1.1's gated-GELU
    /// (wi_0 → GELU, wi_1 linear, fused as [wi_0; wi_1]) is `gatedActivation(.geluTanh, gate: .first)`.
    public func gatedActivation(_ kind: Activation, gate: GateHalf) -> Tensor {
        let x = contiguous()
        precondition(
            shape.lastDimension % 2 == 0, "GLU input's last dimension must be even, got \(shape.shapeDescription)")
        let y = Tensor(shape: Array(shape.dropLast()) + [shape.lastDimension / 2], backend: backend)
        backend.gatedActivation(kind, gate: gate, x, into: y)
        return GradientTape.record(y, inputs: [x]) { dy in
            x.accumulateGradient { g in x.backend.gatedActivationBackward(kind, gate: gate, x, dy, into: g) }
        }
    }

    /// Inverted dropout with probability `p`: kept elements are scaled by 1/(1 − p). The mask comes
    /// from `CounterHash(seed, index)`, so the backward pass regenerates it instead of storing it.
    public func dropout(probability p: Float, seed: UInt64) -> Tensor {
        precondition(p >= 0 && p < 1, "dropout probability must be in [0, 1), got \(p)")
        if p == 0 { return self }
        let x = contiguous()
        let y = Tensor(shape: shape, backend: backend)
        backend.dropout(x, probability: p, seed: seed, into: .overwrite(y))
        return GradientTape.record(y, inputs: [x]) { dy in
            x.accumulateGradient { g in x.backend.dropout(dy, probability: p, seed: seed, into: g) }
        }
    }
}
