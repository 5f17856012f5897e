import Engine
import Foundation

/// RHO-loss (Mindermann et al.; the original code's `RhoLossWrapper` in
/// `bert/pretrain_bert_rho_loss.py`). Incoming micro-batches go forward without gradients until a
/// mega-batch (2× the batch by default) has been scored; each sequence's reducible loss is its
/// training loss minus its irreducible loss — the loss of an IL model trained on held-out data,
/// extracted once per example (`IrreducibleLosses`); the `batchSize` sequences with the highest
/// reducible loss are trained on, with the masks they were scored with, and the rest are dropped.
/// Training and extracting the IL model are not charged to the target's budget; each selection
/// forward is. At 2× an update costs ≈ 1.82× the baseline's RST.
public final class RhoLoss: TrainingMethod {
    /// `batch_selection: {method: rho, mega_batch, il_losses, free_selection}`.
    public struct Settings: BatchSelectionSettings {
        public static let name = "rho-loss"
        public static let variant: String? = "rho"
        /// The mega-batch in batches.
        public var megaBatch = 2
        /// The IL model's per-example losses (`ntng extract-il-losses`; `ntng compare` supplies its own).
        public var ilLosses: String?
        public var freeSelection = false

        public init() {}

        public mutating func readOwnKeys(_ s: ConfigSection) throws {
            megaBatch = try s.int("mega_batch", default: megaBatch, range: 1...1000)
            ilLosses = try s.path("il_losses")
        }

        public func makeSelection(_ setup: MethodSetup) throws -> any TrainingMethod {
            guard let ilLosses else {
                throw InputError(
                    "batch_selection.il_losses: required for rho (extract them with `ntng extract-il-losses`)")
            }
            return RhoLoss(
                megaBatchMultiple: megaBatch,
                irreducible: try IrreducibleLosses.load(ilLosses, rows: setup.datasetRows),
                freeSelection: freeSelection)
        }
    }

    public let name = Settings.name
    public let megaBatchMultiple: Int
    public let irreducible: IrreducibleLosses
    public let freeSelection: Bool
    public private(set) var counts = SelectionCounts()

    public init(megaBatchMultiple: Int = 2, irreducible: IrreducibleLosses, freeSelection: Bool = false) {
        self.megaBatchMultiple = megaBatchMultiple
        self.irreducible = irreducible
        self.freeSelection = freeSelection
    }

    /// Indices of the `k` largest values, largest first (ties: earlier first).
    public static func topK(_ values: [Float], _ k: Int) -> [Int] {
        Array(values.indices.sorted { values[$0] != values[$1] ? values[$0] > values[$1] : $0 < $1 }.prefix(k))
    }

    public func nextBatch(from source: BatchSource) throws -> [PretrainingBatch.Sequence]? {
        var pool: [PretrainingBatch.Sequence] = [], reducible: [Float] = []
        let mega = megaBatchMultiple * source.batchSize
        var batches: [PretrainingBatch] = []
        while batches.reduce(0, { $0 + $1.batchSize }) < mega {
            let batch = source.drawMicroBatch()
            source.chargeSelectionForward(sequences: batch.batchSize, free: freeSelection)
            batches.append(batch)
        }
        // Scored together: the processes of a data-parallel run divide the forwards between them.
        for (batch, losses) in zip(batches, source.scoreSequences(batches)) {
            for i in 0..<batch.batchSize {
                let index = batch.exampleIndices[i]
                guard let il = irreducible[index] else {
                    throw InputError(
                        irreducible.source,
                        "no irreducible loss for example \(index); extract IL losses for this run's data and split"
                    )
                }
                pool.append(batch.sequence(i))
                reducible.append(losses[i] - il)
            }
        }
        counts.record(seen: pool.count, kept: source.batchSize)
        return RhoLoss.topK(reducible, source.batchSize).map { pool[$0] }
    }

    public var logFields: JSONValue? { counts.logFields }

    /// The counts; the mega-batch is drawn and consumed within one step, so nothing else.
    public func checkpointValues() throws -> JSONValue? { try JSONValue(encoding: counts) }

    public func restore(values: JSONValue?, tensors: [String: SafeTensors.Entry]) throws {
        counts = try values?.decode(SelectionCounts.self) ?? SelectionCounts()
    }
}

/// Per-example irreducible losses: the IL model's mean cross-entropy over each training row's
/// masked tokens, keyed by the row's index in the packed dataset. Stored as safetensors
/// (`example_index` int32 [N], `loss` float32 [N]).
public struct IrreducibleLosses: Sendable {
    public let source: String
    private let losses: [Float]  // by row index; NaN where absent

    public subscript(index: Int) -> Float? {
        guard index >= 0 && index < losses.count, !losses[index].isNaN else { return nil }
        return losses[index]
    }

    public init(source: String, losses byIndex: [Int: Float], rows: Int) {
        self.source = source
        var dense = [Float](repeating: .nan, count: rows)
        for (i, l) in byIndex where i >= 0 && i < rows { dense[i] = l }
        losses = dense
    }

    public static func load(_ path: String, rows: Int) throws -> IrreducibleLosses {
        let (tensors, _) = try SafeTensors.read(path)
        guard let indices = tensors["example_index"], indices.dtype == .int32, let values = tensors["loss"],
            values.dtype == .float32,
            indices.shape == values.shape, indices.shape.count == 1
        else {
            throw InputError(
                path, "needs int32 'example_index' [N] and float32 'loss' [N] (written by `ntng extract-il-losses`)")
        }
        let ids = indices.data.withUnsafeBytes { Array($0.bindMemory(to: Int32.self)) }
        let ls = values.data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        var byIndex: [Int: Float] = [:]
        for (i, l) in zip(ids, ls) {
            guard i >= 0 && Int(i) < rows else {
                throw InputError(path, "example index \(i) is outside the dataset's \(rows) rows")
            }
            byIndex[Int(i)] = l
        }
        return IrreducibleLosses(source: path, losses: byIndex, rows: rows)
    }

    /// Writes `(index, loss)` pairs in the given order.
    public static func save(_ pairs: [(Int, Float)], to path: String, metadata: [String: String]) throws {
        try SafeTensors.write(
            [
                ("example_index", Tensor(int32: pairs.map { Int32($0.0) }, shape: [pairs.count])),
                ("loss", Tensor(pairs.map(\.1), shape: [pairs.count])),
            ], metadata: metadata, to: path)
    }
}
