import Engine

/// A model seen as a stack of interchangeable blocks — what layer stacking and layer dropping act
/// on (`LayerStacking`, `LayerDropping`). crammed BERT's encoder blocks form one stack; T5's encoder and decoder blocks
/// at the same depth form one stack position.
public protocol BlockStack: AnyObject {
    var blockCount: Int { get }
    /// The parameters of block `index` (for optimiser-state resets and checks).
    func parameters(ofBlock index: Int) -> [Parameter]
}

extension BlockStack {
    /// Copies every parameter tensor of block `source` into block `destination`.
    public func copyBlock(_ source: Int, to destination: Int) {
        for (s, d) in zip(parameters(ofBlock: source), parameters(ofBlock: destination)) { d.tensor.assign(s.tensor) }
    }
}

extension CrammedBERT: BlockStack {
    public var blockCount: Int { blocks.count }
    public func parameters(ofBlock index: Int) -> [Parameter] { blocks[index].parameters }
}
