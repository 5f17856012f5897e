import Engine

/// Layer stacking (Gong et al.; the original code's "doubling" schedule, `bert/efficient_training/
/// stacking.py` and `t5/t5/models/progressive.py`). The full-depth model is built up front and only
/// the first n blocks are active. When budget progress (consumed RST / budget) reaches each
/// configured fraction — [0.125, 0.30] by default — n doubles: block i − n is copied into block i
/// for i in [n, 2n) (repeat-stacking A B C D → A B C D A B C D). The new blocks' optimiser state
/// starts fresh (bias correction from step 0); the old blocks keep theirs; the learning-rate
/// schedule is global and unchanged. Every micro-batch is charged for the blocks that ran, and
/// validation uses the active blocks. BERT starts from 4 of 16 blocks, T5 from 3 of 12 (a quarter).
public final class LayerStacking: TrainingMethod {
    /// `stacking: {initial_blocks, fractions}`.
    public struct Settings: MethodSettings {
        public static let name = "layer-stacking"
        public static let section = "stacking"
        public var initialBlocks: Int
        public var fractions: [Double] = [0.125, 0.30]

        public init(initialBlocks: Int, fractions: [Double] = [0.125, 0.30]) {
            self.initialBlocks = initialBlocks
            self.fractions = fractions
        }

        public static func read(_ s: ConfigSection, for context: RecipeContext) throws -> Settings {
            var c = Settings(initialBlocks: max(1, context.model.layers / 4))
            c.initialBlocks = try s.int("initial_blocks", default: c.initialBlocks, range: 1...context.model.layers)
            c.fractions = try s.doubles("fractions", default: c.fractions, range: 0...1)
            guard c.fractions == c.fractions.sorted() else {
                throw s.fail("fractions", "must be increasing (got \(c.fractions))")
            }
            return c
        }

        public func make(_ setup: MethodSetup) throws -> any TrainingMethod {
            LayerStacking(initialBlocks: initialBlocks, fractions: fractions)
        }
    }

    public let name = Settings.name
    public let initialBlocks: Int
    public let fractions: [Double]
    /// Active blocks now (restored from checkpoints).
    public private(set) var activeCount: Int

    public init(initialBlocks: Int, fractions: [Double]) {
        self.initialBlocks = initialBlocks
        self.fractions = fractions
        activeCount = initialBlocks
    }

    /// Events reached so far, from the active count.
    var eventsDone: Int {
        var n = initialBlocks, k = 0
        while n < activeCount {
            n *= 2
            k += 1
        }
        return k
    }

    /// A stacking event in the run log.
    struct Event: Codable {
        var from: Int
        var to: Int
        var progress: Double
    }

    public func willStep(_ context: MethodContext) {
        while eventsDone < fractions.count, context.progress >= fractions[eventsDone],
            activeCount < context.model.blockCount
        {
            let n = activeCount, grown = min(2 * n, context.model.blockCount)
            for i in n..<grown { context.model.copyBlock(i - n, to: i) }
            let newParameters = Set(
                (n..<grown).flatMap { context.model.parameters(ofBlock: $0).map { ObjectIdentifier($0.tensor) } })
            let arena = context.optimizer.arena
            context.optimizer.resetState(
                parameters: arena.parameters.indices.filter {
                    newParameters.contains(ObjectIdentifier(arena.parameters[$0].tensor))
                })
            activeCount = grown
            context.report(
                "stacking: \(n) → \(grown) blocks at "
                    + "\(String(format: "%.1f", 100 * context.progress))% of the budget",
                "stacking", Event(from: n, to: grown, progress: context.progress))
        }
    }

    public func blocks(forMicroBatch index: Int, chosen: [Int]?, context: MethodContext) -> [Int]? {
        (chosen ?? Array(0..<context.model.blockCount)).filter { $0 < activeCount }
    }

    public func evaluationBlocks(chosen: [Int]?) -> [Int]? {
        Array(0..<activeCount).filter { chosen?.contains($0) ?? true }
    }

    struct State: Codable {
        var activeBlocks: Int
    }

    /// The active count (the copies themselves are in the checkpoint's weights).
    public func checkpointValues() throws -> JSONValue? { try JSONValue(encoding: State(activeBlocks: activeCount)) }

    public func restore(values: JSONValue?, tensors: [String: SafeTensors.Entry]) throws {
        if let state = try values?.decode(State.self) { activeCount = state.activeBlocks }
    }
}
