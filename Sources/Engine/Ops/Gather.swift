/// Row gathers: embedding lookup and selecting positions (e.g. the masked tokens fed to the
/// sparse MLM head). The backward pass scatter-adds into the source rows.
extension Tensor {
    /// out[i] = self[indices[i]] for a table [N, ...] and int32 indices of any shape;
    /// the result has shape indices.shape + self.shape[1...].
    public func gatherRows(_ indices: Tensor) -> Tensor {
        precondition(indices.dtype == .int32, "gatherRows: indices must be int32")
        let table = contiguous()
        let out = Tensor(shape: indices.shape + Array(shape.dropFirst()), backend: backend)
        backend.gatherRows(table, indices: indices, into: out)
        return GradientTape.record(out, inputs: [table]) { dy in
            table.accumulateGradient { g in table.backend.scatterAddRows(dy, indices: indices, into: g) }
        }
    }
}
