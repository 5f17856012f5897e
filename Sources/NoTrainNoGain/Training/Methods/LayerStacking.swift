import Engine

/// Layer stacking (Gong et al.; NTNG's "doubling" schedule, spec §2). The full-depth model is built
/// up front and only the first n blocks are active. When budget progress (consumed RST / budget)
/// reaches each configured fraction — [0.125, 0.30] by default — n doubles: block i − n is copied
/// into block i for i in [n, 2n) (repeat-stacking A B C D → A B C D A B C D). The new blocks'
/// optimiser state starts fresh (bias correction from step 0); the old blocks keep theirs; the
/// learning-rate schedule is global and unchanged. Every micro-batch is charged for the blocks
/// that ran, and validation uses the active blocks.
public final class LayerStacking: TrainingMethod {
    public let name = "layer-stacking"
    public let initialBlocks: Int
    public let fractions: [Double]
    /// Active blocks now (restored from checkpoints).
    public private(set) var activeCount: Int

    public init(initialBlocks: Int, fractions: [Double], activeCount: Int? = nil) {
        self.initialBlocks = initialBlocks
        self.fractions = fractions
        self.activeCount = activeCount ?? initialBlocks
    }

    public var description: [String: Any] { ["initial_blocks": initialBlocks, "fractions": fractions] }

    /// Restores the active count from a checkpoint (the copies are in the checkpoint's weights).
    public func restore(activeCount n: Int) { activeCount = n }

    /// Events reached so far, from the active count.
    var eventsDone: Int {
        var n = initialBlocks, k = 0
        while n < activeCount { n *= 2; k += 1 }
        return k
    }

    public func willStep(_ context: MethodContext) {
        while eventsDone < fractions.count, context.progress >= fractions[eventsDone],
            activeCount < context.model.blockCount
        {
            let n = activeCount, grown = min(2 * n, context.model.blockCount)
            for i in n..<grown { context.model.copyBlock(i - n, to: i) }
            let newParameters = Set(
                (n..<grown).flatMap { context.model.parameters(ofBlock: $0).map { ObjectIdentifier($0.tensor) } })
            context.optimizer.resetState(
                parameters: context.optimizer.arena.parameters.indices.filter {
                    newParameters.contains(ObjectIdentifier(context.optimizer.arena.parameters[$0].tensor))
                })
            activeCount = grown
            context.report(
                "stacking: \(n) → \(grown) blocks at \(String(format: "%.1f", 100 * context.progress))% of the budget",
                ["event": "stacking", "from": n, "to": grown, "progress": context.progress, "step": context.step])
        }
    }

    public func blocks(forMicroBatch index: Int, chosen: [Int]?, context: MethodContext) -> [Int]? {
        (chosen ?? Array(0..<context.model.blockCount)).filter { $0 < activeCount }
    }

    public func evaluationBlocks(chosen: [Int]?) -> [Int]? {
        Array(0..<activeCount).filter { chosen?.contains($0) ?? true }
    }
}
