/// A dense, row-major tensor living in a backend's `Storage`.
///
/// Views share storage: `reshaped(_:)` re-labels the dimensions; `transposed()` swaps the last two
/// dimensions without moving data (`isTransposed` is then true, and only `matmul` reads such a view
/// directly; every other op makes it contiguous first). `offset` lets parameters live inside one
/// arena so optimisers can update them all in a single pass.
///
/// Autodiff: a tensor with `requiresGrad` records the ops that consume it on the current
/// `GradientTape`; `backward()` on a scalar fills `grad` of every tensor it depends on. Parameter
/// gradients accumulate across micro-batches until `zeroGrad()`.
public final class Tensor: @unchecked Sendable {
    public private(set) var storage: Storage
    /// Offset of the first element inside `storage`, in elements.
    public private(set) var offset: Int
    /// Logical shape.
    public let shape: [Int]
    public let dtype: DType
    /// True when the data is stored with the last two dimensions swapped (a transposed view).
    public let isTransposed: Bool

    /// Whether gradients flow to this tensor.
    public var requiresGrad: Bool
    /// Accumulated gradient (same shape). For parameters it may be pre-bound to an arena slot.
    public internal(set) var grad: Tensor?
    /// False until a backward pass writes `grad` (a bound but unwritten gradient is not valid).
    public internal(set) var hasGrad: Bool = false
    /// Leaves (parameters, inputs) keep their gradient after `backward()`; intermediates free it.
    public internal(set) var isLeaf: Bool = true
    /// Optional name (parameters: their checkpoint key).
    public var name: String?

    public var backend: any Backend { storage.backend }
    public var elementCount: Int { shape.elementCount }
    public var rank: Int { shape.count }

    /// A new, uninitialised tensor on `backend`.
    public init(shape: [Int], dtype: DType = .float32, backend: (any Backend)? = nil, requiresGrad: Bool = false) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in shape \(shape.shapeDescription)")
        let backend = backend ?? TensorEngine.defaultBackend
        self.storage = Storage(backend: backend, byteCount: max(shape.elementCount, 1) * dtype.size)
        self.offset = 0
        self.shape = shape
        self.dtype = dtype
        self.isTransposed = false
        self.requiresGrad = requiresGrad
    }

    /// A view on existing storage.
    init(storage: Storage, offset: Int, shape: [Int], dtype: DType, isTransposed: Bool = false) {
        self.storage = storage
        self.offset = offset
        self.shape = shape
        self.dtype = dtype
        self.isTransposed = isTransposed
        self.requiresGrad = false
    }

    /// Moves this tensor's data into `storage` at `offset` (used to pack parameters into an arena).
    /// Views taken earlier keep the old storage; take views after packing.
    public func rebind(to storage: Storage, offset: Int) {
        precondition(storage.backend === self.storage.backend, "rebind across backends")
        precondition((offset + elementCount) * dtype.size <= storage.byteCount, "arena too small")
        let view = Tensor(storage: storage, offset: offset, shape: shape, dtype: dtype)
        backend.copy(self, into: view, accumulate: false)
        self.storage = storage
        self.offset = offset
    }

    /// Binds the gradient of this (leaf) tensor to a given buffer, e.g. a slot in a gradient arena.
    public func bindGradient(_ gradient: Tensor) {
        precondition(gradient.shape == shape && gradient.dtype == dtype, "gradient shape mismatch")
        grad = gradient
        hasGrad = false
    }

    /// Marks the gradient as not yet written (it stays bound for reuse). Like PyTorch's
    /// `zero_grad(set_to_none=True)`: a tensor that receives no gradient reports `hasGrad == false`.
    public func zeroGrad() {
        hasGrad = false
        if !isLeaf { grad = nil }
    }

    /// Declares the bound gradient written by someone other than a backward pass (a sum over the
    /// processes of a data-parallel run).
    public func markGradientWritten() {
        precondition(grad != nil, "no gradient bound")
        hasGrad = true
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        "Tensor(\(name.map { "\($0), " } ?? "")\(shape.shapeDescription), \(dtype)"
            + "\(isTransposed ? ", transposed" : ""))"
    }
}
