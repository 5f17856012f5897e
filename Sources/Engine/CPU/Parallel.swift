import Dispatch

/// Data parallelism for CPU kernels. All CPU parallelism goes through here, including GEMMs: the
/// BLAS provider runs single-threaded and the engine splits matrices over threads itself, so a
/// kernel never runs a threaded BLAS inside its own parallel loop (machine notes §1).
public enum Parallel {
    /// Worker count: `NTNG_THREADS` if set, else the number of online cores.
    nonisolated(unsafe) public static var threadCount: Int = {
        if let s = environment("NTNG_THREADS"), let n = Int(s), n > 0 { return n }
        return CPUFeatures.host.logicalCores
    }()

    /// Runs `body(i)` for i in 0..<count, spread over the workers (inline when count == 1): on the
    /// engine's own `WorkerPool`, or on Dispatch's threads when the pool is already running a region.
    @inline(__always)
    public static func forEach(_ count: Int, _ body: (Int) -> Void) {
        if count <= 1 {
            if count == 1 { body(0) }
            return
        }
        if WorkerPool.shared.run(count, body) { return }
        withoutActuallyEscaping(body) { body in
            nonisolated(unsafe) let run = body
            DispatchQueue.concurrentPerform(iterations: count) { run($0) }
        }
    }

    /// Splits 0..<count into at most `threadCount` contiguous ranges of at least `grain` items and
    /// runs `body` on each in parallel.
    @inline(__always)
    public static func ranges(_ count: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
        let chunks = chunkCount(count, grain: grain)
        if chunks <= 1 {
            if count > 0 { body(0..<count) }
            return
        }
        forEach(chunks) { c in body(chunkRange(c, of: chunks, count: count)) }
    }

    /// Splits 0..<count as `ranges` does and returns `body`'s result for each range, in range order
    /// (a parallel map whose per-chunk results the caller then reduces).
    public static func mapRanges<T>(_ count: Int, grain: Int = 1, _ body: (Range<Int>) -> T) -> [T] {
        let chunks = chunkCount(count, grain: grain)
        var results = [T?](repeating: nil, count: chunks)
        results.withUnsafeMutableBufferPointer { buffer in
            let b = buffer
            forEach(chunks) { c in b[c] = body(chunkRange(c, of: chunks, count: count)) }
        }
        return results.map { $0! }
    }

    /// How many chunks `ranges` would use.
    @inline(__always)
    public static func chunkCount(_ count: Int, grain: Int) -> Int {
        max(1, min(threadCount, count / max(grain, 1)))
    }

    /// The c-th of `chunks` near-equal contiguous ranges of 0..<count.
    @inline(__always)
    public static func chunkRange(_ c: Int, of chunks: Int, count: Int) -> Range<Int> {
        (c * count / chunks)..<((c + 1) * count / chunks)
    }
}
