/// Making tensors from host values and reading them back.
extension Tensor {
    /// A float32 tensor holding `values` (row-major) with the given shape.
    public convenience init(_ values: [Float], shape: [Int], backend: (any Backend)? = nil, requiresGrad: Bool = false)
    {
        precondition(
            values.count == shape.elementCount,
            "\(values.count) values do not fill shape \(shape.shapeDescription)")
        self.init(shape: shape, dtype: .float32, backend: backend, requiresGrad: requiresGrad)
        values.withUnsafeBytes { self.backend.write($0, into: self) }
    }

    /// An int32 tensor (token ids, labels, indices).
    public convenience init(int32 values: [Int32], shape: [Int], backend: (any Backend)? = nil) {
        precondition(
            values.count == shape.elementCount,
            "\(values.count) values do not fill shape \(shape.shapeDescription)")
        self.init(shape: shape, dtype: .int32, backend: backend)
        values.withUnsafeBytes { self.backend.write($0, into: self) }
    }

    /// A tensor filled with `value`.
    public static func full(
        _ value: Float, shape: [Int], backend: (any Backend)? = nil, requiresGrad: Bool = false
    ) -> Tensor {
        let t = Tensor(shape: shape, backend: backend, requiresGrad: requiresGrad)
        t.backend.fill(t, with: value)
        return t
    }

    public static func zeros(_ shape: [Int], backend: (any Backend)? = nil, requiresGrad: Bool = false) -> Tensor {
        full(0, shape: shape, backend: backend, requiresGrad: requiresGrad)
    }

    /// Samples from N(0, std²) (optionally truncated to ±`truncation`·std by resampling).
    public static func randomNormal(
        _ shape: [Int], standardDeviation std: Float, truncation: Float? = nil,
        using generator: inout SeededGenerator, backend: (any Backend)? = nil,
        requiresGrad: Bool = false
    ) -> Tensor {
        var values = [Float](repeating: 0, count: shape.elementCount)
        for i in values.indices {
            var z = generator.normal()
            if let t = truncation { while abs(z) > t { z = generator.normal() } }
            values[i] = z * std
        }
        return Tensor(values, shape: shape, backend: backend, requiresGrad: requiresGrad)
    }

    /// Uniform samples in [low, high).
    public static func randomUniform(
        _ shape: [Int], low: Float, high: Float, using generator: inout SeededGenerator,
        backend: (any Backend)? = nil, requiresGrad: Bool = false
    ) -> Tensor {
        let values = (0..<shape.elementCount).map { _ in low + (high - low) * generator.uniform() }
        return Tensor(values, shape: shape, backend: backend, requiresGrad: requiresGrad)
    }

    /// The values as a row-major array (copies from the device).
    public func scalars() -> [Float] {
        precondition(dtype == .float32, "scalars() reads float32; use int32Scalars() for \(dtype)")
        var out = [Float](repeating: 0, count: elementCount)
        out.withUnsafeMutableBytes { backend.read(self, into: $0) }
        return out
    }

    public func int32Scalars() -> [Int32] {
        precondition(dtype == .int32, "int32Scalars() reads int32, tensor is \(dtype)")
        var out = [Int32](repeating: 0, count: elementCount)
        out.withUnsafeMutableBytes { backend.read(self, into: $0) }
        return out
    }

    /// The single value of a one-element tensor.
    public func item() -> Float {
        precondition(elementCount == 1, "item() needs one element, tensor has \(elementCount)")
        return scalars()[0]
    }

    /// Overwrites the contents with `values` (no autodiff).
    public func assign(_ values: [Float]) {
        precondition(values.count == elementCount && !isTransposed)
        values.withUnsafeBytes { backend.write($0, into: self) }
    }

    /// Overwrites the contents with another tensor's (no autodiff).
    public func assign(_ other: Tensor) {
        precondition(other.shape == shape, "assign: \(other.shape) into \(shape)")
        backend.copy(other, into: self, accumulate: false)
    }

    /// A tensor of the same shape that shares nothing with this one and records nothing.
    public func detachedCopy() -> Tensor {
        let out = Tensor(shape: shape, dtype: dtype, backend: backend)
        backend.copy(self, into: out, accumulate: false)
        return out
    }

    /// A tensor sharing this one's storage but outside the autodiff graph.
    public func detached() -> Tensor {
        Tensor(storage: storage, offset: offset, shape: shape, dtype: dtype, isTransposed: isTransposed)
    }
}
