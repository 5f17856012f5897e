/// Softmax cross-entropy against integer labels, with per-row losses.
public struct CrossEntropyResult {
    /// Mean loss over counted rows (a differentiable scalar).
    public let loss: Tensor
    /// Loss of every row [N] (0 for ignored rows); not differentiable. Selective backprop and
    /// RHO-loss group these into per-sequence losses.
    public let rowLosses: Tensor
    /// Number of rows whose label was not `ignoreIndex`.
    public let count: Int
}

/// Cross-entropy of logits [N, V] against labels [N] (int32; `ignoreIndex` rows are skipped).
/// The gradient (softmax − onehot)/count is computed in the same pass as the loss and kept, so the
/// backward pass is a single scale by the upstream gradient.
public func softmaxCrossEntropy(logits: Tensor, labels: Tensor, ignoreIndex: Int32 = -100) -> CrossEntropyResult {
    let z = logits.contiguous()
    precondition(
        labels.dtype == .int32 && labels.elementCount == z.shape.rowCount,
        "cross-entropy: labels must be int32 with one entry per row of \(z.shape.shapeDescription)")
    let backend = z.backend
    let rowLosses = Tensor(shape: [z.shape.rowCount], backend: backend)
    let needsGradient = GradientTape.isRecording && z.requiresGrad
    let dLogits = needsGradient ? Tensor(shape: z.shape, backend: backend) : nil
    let count = backend.softmaxCrossEntropy(
        z, labels: labels, ignoreIndex: ignoreIndex, losses: rowLosses, dLogits: dLogits)
    let loss = Tensor(shape: [], backend: backend)
    backend.sum(rowLosses, into: .overwrite(loss))
    backend.scale(loss, by: count > 0 ? 1 / Float(count) : 0, into: .overwrite(loss))
    if let dLogits {
        GradientTape.record(loss, inputs: [z]) { dy in
            z.accumulateGradient { g in backend.binary(.multiply, dLogits, dy, into: g) }
        }
    }
    return CrossEntropyResult(loss: loss, rowLosses: rowLosses, count: count)
}
