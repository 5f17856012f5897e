import Engine

/// A layer or model that owns parameters. `parameters` lists them with their checkpoint names
/// (Hugging Face names where a counterpart exists), in a fixed order.
public protocol Module: AnyObject {
    var parameters: [Parameter] { get }
}

/// A trainable tensor with its checkpoint name and optimiser treatment.
public struct Parameter {
    public let name: String
    public let tensor: Tensor
    /// False for norm weights and biases (no weight decay; see docs/recipes.md).
    public let decays: Bool

    public init(_ name: String, _ tensor: Tensor, decays: Bool) {
        self.name = name
        self.tensor = tensor
        self.decays = decays
        tensor.name = name
    }
}

extension Array where Element == Parameter {
    /// Prefixes every name with `prefix.`.
    func prefixed(_ prefix: String) -> [Parameter] {
        map { Parameter("\(prefix).\($0.name)", $0.tensor, decays: $0.decays) }
    }

    public var tensors: [Tensor] { map(\.tensor) }

    /// Total number of scalars.
    public var scalarCount: Int { reduce(0) { $0 + $1.tensor.elementCount } }
}
