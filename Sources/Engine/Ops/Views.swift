/// Views: re-labelled shapes and transposes that share storage.
extension Tensor {
    /// The same data with another shape of equal size (one dimension may be -1). Contiguous only.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var dims = newShape
        if let unknown = dims.firstIndex(of: -1) {
            let known = dims.enumerated().filter { $0.offset != unknown }.map(\.element).reduce(1, *)
            precondition(known > 0 && elementCount % known == 0, "cannot reshape \(shape) to \(newShape)")
            dims[unknown] = elementCount / known
        }
        precondition(
            dims.elementCount == elementCount,
            "cannot reshape \(shape.shapeDescription) to \(newShape.shapeDescription)")
        let source = isTransposed ? contiguous() : self
        let view = Tensor(storage: source.storage, offset: source.offset, shape: dims, dtype: dtype)
        return GradientTape.record(view, inputs: [source]) { dy in source.accumulateGradient(aliasing: dy) }
    }

    /// Swaps the last two dimensions without moving data.
    public func transposed() -> Tensor {
        precondition(rank >= 2, "transposed() needs rank ≥ 2, got \(shape.shapeDescription)")
        var dims = shape
        dims.swapAt(rank - 1, rank - 2)
        let view = Tensor(storage: storage, offset: offset, shape: dims, dtype: dtype, isTransposed: !isTransposed)
        return GradientTape.record(view, inputs: [self]) { dy in
            // dy is contiguous in the view's shape; read it as a transposed view of our shape.
            self.accumulateGradient { out in
                let t = Tensor(
                    storage: dy.storage, offset: dy.offset, shape: self.shape, dtype: self.dtype, isTransposed: true)
                self.backend.copy(t, into: out.tensor, accumulate: out.accumulate)
            }
        }
    }

    /// This tensor if contiguous, else a contiguous copy.
    public func contiguous() -> Tensor {
        guard isTransposed else { return self }
        let out = contiguousCopy()
        return GradientTape.record(out, inputs: [self]) { dy in self.accumulateGradient(aliasing: dy) }
    }
}

extension Tensor {
    /// Rows `range` of the first dimension, as a view sharing storage. Its gradient lands in the
    /// same rows of this tensor's gradient.
    public func rows(_ range: Range<Int>) -> Tensor {
        precondition(
            rank >= 1 && range.lowerBound >= 0 && range.upperBound <= shape[0],
            "rows \(range) out of 0..<\(shape.first ?? 0)")
        let source = contiguous()
        let rowSize = elementCount / Swift.max(shape[0], 1)
        let view = Tensor(
            storage: source.storage, offset: source.offset + range.lowerBound * rowSize,
            shape: [range.count] + Array(shape.dropFirst()), dtype: dtype)
        return GradientTape.record(view, inputs: [source]) { dy in
            source.accumulateGradient { g in
                var accumulate = g.accumulate
                if !accumulate && range.count != source.shape[0] {
                    source.backend.fill(g.tensor, with: 0)
                    accumulate = true
                }
                let slot = Tensor(
                    storage: g.tensor.storage, offset: g.tensor.offset + range.lowerBound * rowSize,
                    shape: view.shape, dtype: self.dtype)
                source.backend.copy(dy, into: slot, accumulate: accumulate)
            }
        }
    }
}

extension Tensor {
    /// A view of elements `range` of this contiguous tensor's data, with `shape`, outside the
    /// autodiff graph (arena slots, checkpoint views).
    public func storageView(_ range: Range<Int>, shape: [Int]) -> Tensor {
        precondition(
            !isTransposed && range.lowerBound >= 0 && range.upperBound <= elementCount,
            "storageView: \(range) outside 0..<\(elementCount)")
        precondition(
            shape.elementCount == range.count, "storageView: shape \(shape) does not hold \(range.count) elements")
        return Tensor(storage: storage, offset: offset + range.lowerBound, shape: shape, dtype: dtype)
    }
}
