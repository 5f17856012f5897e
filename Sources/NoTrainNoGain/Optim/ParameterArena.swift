import Engine

/// All of a model's parameters packed into one contiguous buffer, with their gradients bound to a
/// second one in the same layout. Optimisers update the arena in a few long passes (one per run
/// of parameters sharing the same settings) instead of one small op per tensor.
public final class ParameterArena {
    public let parameters: [Parameter]
    /// Start of each parameter in the arena, in elements.
    public let offsets: [Int]
    public let count: Int
    public let values: Tensor
    public let gradients: Tensor

    public init(_ parameters: [Parameter]) {
        precondition(!parameters.isEmpty, "no parameters")
        self.parameters = parameters
        var offsets: [Int] = [], total = 0
        for p in parameters {
            offsets.append(total)
            // 16-element alignment keeps every parameter on a 64-byte boundary.
            total += (p.tensor.elementCount + 15) / 16 * 16
        }
        self.offsets = offsets
        count = total
        let backend = parameters[0].tensor.backend
        values = Tensor.zeros([total], backend: backend)
        gradients = Tensor.zeros([total], backend: backend)
        for (p, o) in zip(parameters, offsets) {
            p.tensor.rebind(to: values.storage, offset: o)
            p.tensor.bindGradient(slot(gradients, p, o))
        }
    }

    /// A tensor shaped like parameter `index` at its place in an arena-shaped buffer.
    public func view(of buffer: Tensor, parameter index: Int) -> Tensor {
        slot(buffer, parameters[index], offsets[index])
    }

    private func slot(_ buffer: Tensor, _ p: Parameter, _ offset: Int) -> Tensor {
        buffer.storageView(offset..<(offset + p.tensor.elementCount), shape: p.tensor.shape)
    }

    /// Marks every gradient as unwritten (the next backward pass overwrites instead of adding).
    public func zeroGrad() {
        for p in parameters { p.tensor.zeroGrad() }
    }

    public var tensors: [Tensor] { parameters.map(\.tensor) }

    /// Runs of consecutive parameters that share `key`, as (element range, key): the arena spans
    /// an optimiser can update in one kernel call.
    func runs<K: Equatable>(_ key: (Int) -> K) -> [(Range<Int>, K)] {
        var result: [(Range<Int>, K)] = []
        var start = 0
        for i in 1...parameters.count {
            if i == parameters.count || key(i) != key(start) {
                let end = i == parameters.count ? count : offsets[i]
                result.append((offsets[start]..<end, key(start)))
                start = i
            }
        }
        return result
    }
}
