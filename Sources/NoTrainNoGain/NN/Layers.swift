import Engine

/// y = x·Wᵀ (+ b) with W [out, in]. No linear layer of crammed BERT's encoder has a bias (spec
/// §1a); the fine-tuning head's do.
public final class Linear: Module {
    public let weight: Tensor
    public let bias: Tensor?

    /// Weights drawn from N(0, std²); the bias, if any, starts at zero.
    public init(_ inFeatures: Int, _ outFeatures: Int, std: Float, bias: Bool = false, generator: inout SeededGenerator)
    {
        weight = Tensor.randomNormal(
            [outFeatures, inFeatures], standardDeviation: std, using: &generator, requiresGrad: true)
        self.bias = bias ? Tensor.zeros([outFeatures], requiresGrad: true) : nil
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        let y = linear(x, weight)
        return bias.map { y + $0 } ?? y
    }

    public var parameters: [Parameter] {
        [Parameter("weight", weight, role: .weight)] + (bias.map { [Parameter("bias", $0, role: .bias)] } ?? [])
    }
}

/// A lookup table [count, dim]; row `paddingIndex` (if any) starts at zero.
public final class Embedding: Module {
    public let weight: Tensor

    public init(_ count: Int, _ dim: Int, std: Float, paddingIndex: Int?, generator: inout SeededGenerator) {
        var values = (0..<(count * dim)).map { _ in generator.normal() * std }
        if let p = paddingIndex { for j in 0..<dim { values[p * dim + j] = 0 } }
        weight = Tensor(values, shape: [count, dim], requiresGrad: true)
    }

    /// Rows for int32 ids of any shape → ids.shape + [dim].
    public func callAsFunction(_ ids: Tensor) -> Tensor { weight.gatherRows(ids) }

    public var parameters: [Parameter] { [Parameter("weight", weight, role: .weight)] }
}

/// LayerNorm over the last dimension with weight 1 and bias 0 at initialisation.
public final class LayerNorm: Module {
    public let weight: Tensor
    public let bias: Tensor?
    public let epsilon: Float

    public init(_ dim: Int, epsilon: Float, bias: Bool = true) {
        weight = Tensor.full(1, shape: [dim], requiresGrad: true)
        self.bias = bias ? Tensor.zeros([dim], requiresGrad: true) : nil
        self.epsilon = epsilon
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { x.layerNorm(weight: weight, bias: bias, epsilon: epsilon) }

    public var parameters: [Parameter] {
        [Parameter("weight", weight, role: .normWeight)] + (bias.map { [Parameter("bias", $0, role: .bias)] } ?? [])
    }
}
