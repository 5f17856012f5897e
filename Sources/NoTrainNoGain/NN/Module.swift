import Engine

/// A layer or model that owns parameters. `parameters` lists them with their checkpoint names
/// (Hugging Face names where a counterpart exists), in a fixed order.
public protocol Module: AnyObject {
    var parameters: [Parameter] { get }
}

/// A trainable tensor with its checkpoint name and role, which decides its weight decay.
public struct Parameter {
    /// What a parameter is to the optimiser: weights (matrices, embeddings) decay; biases and
    /// norm gains do not (docs/recipes.md §8; `optimizer.decay_norm_weights` decays the gains too,
    /// as the original BERT code's name-based exemption did).
    public enum Role: Sendable {
        case weight, bias, normWeight
    }

    public let name: String
    public let tensor: Tensor
    public let role: Role
    /// Row blocks of equal size that the original code keeps as separate tensors (T5's fused
    /// q|k|v, k|v and wi_0|wi_1): per-tensor statistics, such as the RMS that scales nanoT5's
    /// learning rate, are taken per part.
    public let parts: Int
    public var decays: Bool { role == .weight }

    public init(_ name: String, _ tensor: Tensor, role: Role, parts: Int = 1) {
        precondition(parts >= 1 && tensor.elementCount % parts == 0, "\(name): \(parts) parts of unequal size")
        self.name = name
        self.tensor = tensor
        self.role = role
        self.parts = parts
        tensor.name = name
    }
}

extension Array where Element == Parameter {
    /// Prefixes every name with `prefix.`.
    func prefixed(_ prefix: String) -> [Parameter] {
        map { Parameter("\(prefix).\($0.name)", $0.tensor, role: $0.role, parts: $0.parts) }
    }

    public var tensors: [Tensor] { map(\.tensor) }

    /// Total number of scalars.
    public var scalarCount: Int { reduce(0) { $0 + $1.tensor.elementCount } }
}
