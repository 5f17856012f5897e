import Engine

/// An efficient-training method as a plug-in of the trainer (design: "methods are plug-ins, not
/// forks"). A method can choose the blocks that run for a micro-batch (layer stacking, layer
/// dropping), act before optimiser steps (stacking events), and report its settings for the run
/// log. Methods compose: each sees the blocks chosen by those before it. The baseline is no method.
public protocol TrainingMethod: AnyObject {
    var name: String { get }
    /// Settings for the run log.
    var description: [String: Any] { get }
    /// Called before every optimiser step, at budget progress `context.progress`.
    func willStep(_ context: MethodContext)
    /// The blocks to run for the next training micro-batch, given the blocks chosen so far
    /// (all blocks when nil).
    func blocks(forMicroBatch index: Int, chosen: [Int]?, context: MethodContext) -> [Int]?
    /// The blocks to evaluate with (validation); nil = every block.
    func evaluationBlocks(chosen: [Int]?) -> [Int]?
}

extension TrainingMethod {
    public func willStep(_ context: MethodContext) {}
    public func blocks(forMicroBatch index: Int, chosen: [Int]?, context: MethodContext) -> [Int]? { chosen }
    public func evaluationBlocks(chosen: [Int]?) -> [Int]? { chosen }
}

/// What a method may see and touch of the run.
public struct MethodContext {
    public let model: BlockStack
    public let optimizer: ArenaOptimizer
    /// consumed RST / budget.
    public let progress: Double
    public let step: Int
    public let seed: UInt64
    /// Writes a line to the run log and the console.
    public let report: (String, [String: Any]) -> Void

    public init(
        model: BlockStack, optimizer: ArenaOptimizer, progress: Double, step: Int, seed: UInt64,
        report: @escaping (String, [String: Any]) -> Void
    ) {
        self.model = model
        self.optimizer = optimizer
        self.progress = progress
        self.step = step
        self.seed = seed
        self.report = report
    }
}
