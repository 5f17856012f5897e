/// Element-wise arithmetic. The right operand may be "suffix-broadcast": its shape is a suffix of
/// the left operand's (a bias over rows, a position table over a batch, a scalar).
private func elementwise(_ op: BinaryOp, _ a: Tensor, _ b: Tensor) -> Tensor {
    let a = a.contiguous(), b = b.contiguous()
    precondition(
        a.shape.count >= b.shape.count && Array(a.shape.suffix(b.shape.count)) == b.shape,
        "\(op): \(b.shape.shapeDescription) does not broadcast to \(a.shape.shapeDescription)")
    let out = Tensor(shape: a.shape, backend: a.backend)
    a.backend.binary(op, a, b, into: .overwrite(out))
    let broadcast = b.elementCount != a.elementCount
    return GradientTape.record(out, inputs: [a, b]) { dy in
        switch op {
        case .add, .subtract:
            a.accumulateGradient(aliasing: dy)
            b.accumulateGradient { g in
                let sign: Float = op == .add ? 1 : -1
                if broadcast && sign > 0 {
                    a.backend.sumLeading(dy, into: g)
                } else if broadcast {
                    let summed = Tensor(shape: b.shape, backend: b.backend)
                    a.backend.sumLeading(dy, into: .overwrite(summed))
                    a.backend.scale(summed, by: -1, into: g)
                } else if sign > 0 {
                    a.backend.copy(dy, into: g.tensor, accumulate: g.accumulate)
                } else {
                    a.backend.scale(dy, by: -1, into: g)
                }
            }
        case .multiply:
            a.accumulateGradient { g in a.backend.binary(.multiply, dy, b, into: g) }
            b.accumulateGradient { g in
                if broadcast {
                    a.backend.sumLeadingProduct(dy, a, into: g)
                } else {
                    a.backend.binary(.multiply, dy, a, into: g)
                }
            }
        }
    }
}

public func + (a: Tensor, b: Tensor) -> Tensor { elementwise(.add, a, b) }
public func - (a: Tensor, b: Tensor) -> Tensor { elementwise(.subtract, a, b) }
public func * (a: Tensor, b: Tensor) -> Tensor { elementwise(.multiply, a, b) }

extension Tensor {
    /// alpha · self.
    public func scaled(by alpha: Float) -> Tensor {
        let x = contiguous()
        let out = Tensor(shape: shape, backend: backend)
        backend.scale(x, by: alpha, into: .overwrite(out))
        return GradientTape.record(out, inputs: [x]) { dy in
            x.accumulateGradient { g in x.backend.scale(dy, by: alpha, into: g) }
        }
    }
}
