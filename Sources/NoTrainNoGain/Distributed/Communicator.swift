import Crypto
import Engine

/// The processes that train one run together by data parallelism. Each computes its share of a
/// step's micro-batches (micro-batch k belongs to rank k mod size); sums over the ranks make every
/// rank's gradient the one a single process would have accumulated, so every rank takes the same
/// optimiser step. Rank 0 writes the log and the checkpoints.
public protocol Communicator: AnyObject {
    var rank: Int { get }
    var size: Int { get }
    /// Replaces `values` on every rank by their sum over the ranks.
    func sum(_ values: UnsafeMutableBufferPointer<Float>)
    func sum(_ values: UnsafeMutableBufferPointer<Double>)
    /// Rank 0's bytes, on every rank (`count` must be the same everywhere).
    func broadcast(_ bytes: inout [UInt8])
    /// Waits until every rank gets here.
    func barrier()
}

extension Communicator {
    public var isRoot: Bool { rank == 0 }

    /// Whether micro-batch `k` of a step is this rank's to compute.
    public func owns(_ k: Int) -> Bool { k % size == rank }

    public func sum(_ values: inout [Double]) {
        guard size > 1 else { return }
        values.withUnsafeMutableBufferPointer { sum($0) }
    }

    /// Sums the arena's gradients over the ranks. A parameter that got no gradient on a rank (a block
    /// it did not run) counts as zero there, and has a gradient after the sum if any rank wrote one.
    public func sumGradients(_ arena: ParameterArena) {
        guard size > 1 else { return }
        var written = [Double](repeating: 0, count: arena.parameters.count)
        let base = arena.gradients.storage.pointer.assumingMemoryBound(to: Float.self) + arena.gradients.offset
        for (i, p) in arena.parameters.enumerated() {
            if p.tensor.hasGrad {
                written[i] = 1
            } else {
                (base + arena.offsets[i]).update(repeating: 0, count: p.tensor.elementCount)
            }
        }
        sum(UnsafeMutableBufferPointer(start: base, count: arena.count))
        sum(&written)
        for (i, p) in arena.parameters.enumerated() where written[i] > 0 { p.tensor.markGradientWritten() }
    }
}

/// A run of one process: every micro-batch is its own and every sum is the value itself.
public final class SingleProcess: Communicator {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func sum(_ values: UnsafeMutableBufferPointer<Float>) {}
    public func sum(_ values: UnsafeMutableBufferPointer<Double>) {}
    public func broadcast(_ bytes: inout [UInt8]) {}
    public func barrier() {}
}

extension Communicator {
    /// Stops unless every rank was started with rank 0's config (compared by the SHA-256 of its
    /// JSON) and the step's micro-batches divide evenly over the ranks.
    public func requireSameRun(_ config: PretrainingConfig) throws {
        guard size > 1 else { return }
        let accumulation = config.training.accumulation
        guard accumulation % size == 0 else {
            throw InputError(
                "training.batch_size / training.micro_batch_size = \(accumulation) micro-batches per step do not "
                    + "divide over \(size) processes; choose a process count that divides \(accumulation)")
        }
        let mine = Array(SHA256.hash(data: try JSONCoding.encoder(pretty: false).encode(config)))
        var root = mine
        broadcast(&root)
        guard root == mine else {
            throw InputError(
                "rank \(rank) was started with another config than rank 0 (its run_directory: "
                    + "\(config.runDirectory)); start every rank with the same command and files")
        }
    }
}
