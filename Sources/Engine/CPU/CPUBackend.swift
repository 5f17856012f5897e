#if canImport(Glibc)
    import Glibc
#endif

/// The CPU backend: GEMMs through the BLAS provider, everything else as vectorised Swift loops
/// spread over `Parallel.threadCount` workers. Kernels live in `CPUBackend+<Family>.swift`.
public final class CPUBackend: Backend, @unchecked Sendable {
    public static let shared = CPUBackend()

    public let name = "cpu"
    let pool = BufferPool()
    /// Kernel-family timings, when enabled.
    public let profile = KernelProfile()

    /// A CPU backend with its own buffer pool (`shared` is the one tensors use by default).
    public init() {}
    public var blas: BLASProvider { BLASProvider.current }

    public var report: [String: String] {
        var r = blas.report
        r["backend"] = name
        r["threads"] = String(Parallel.threadCount)
        r["cpu"] = CPUFeatures.host.modelName
        r["cpu_vendor"] = CPUFeatures.host.vendor
        return r
    }

    /// Memory held by live tensors and by the pool's cache, and the peak live amount.
    public var memoryStatistics: (live: Int, cached: Int, peak: Int) { pool.statistics }

    /// Frees the pool's cached buffers.
    public func trimCache() { pool.trim() }

    // MARK: Memory

    public func allocate(byteCount: Int) -> UnsafeMutableRawPointer { pool.allocate(byteCount) }

    public func release(_ pointer: UnsafeMutableRawPointer, byteCount: Int) {
        pool.release(pointer, bytes: byteCount)
    }

    public func write(_ source: UnsafeRawBufferPointer, into tensor: Tensor) {
        precondition(source.count == tensor.elementCount * tensor.dtype.size, "write: size mismatch")
        if source.count > 0 { tensor.rawPointer.copyMemory(from: source.baseAddress!, byteCount: source.count) }
    }

    public func read(_ tensor: Tensor, into destination: UnsafeMutableRawBufferPointer) {
        let t = tensor.isTransposed ? tensor.contiguousCopy() : tensor
        precondition(destination.count == t.elementCount * t.dtype.size, "read: size mismatch")
        if destination.count > 0 {
            destination.baseAddress!.copyMemory(from: t.rawPointer, byteCount: destination.count)
        }
    }

    public func fill(_ tensor: Tensor, with value: Float) {
        profile.measure("elementwise") {
            precondition(!tensor.isTransposed)
            let n = tensor.elementCount
            if tensor.dtype == .int32 {
                let p = tensor.int32s, v = Int32(value)
                Parallel.ranges(n, grain: 1 << 16) { r in for i in r { p[i] = v } }
                return
            }
            let p = tensor.floats
            Parallel.ranges(n, grain: 1 << 16) { r in
                if value == 0 {
                    memset(p + r.lowerBound, 0, r.count * 4)
                } else {
                    CPUBackend.store(r, p, accumulate: false) { _ in value }
                }
            }
        }
    }

    public func copy(_ source: Tensor, into destination: Tensor, accumulate: Bool) {
        profile.measure("elementwise") {
            precondition(source.shape == destination.shape && !destination.isTransposed, "copy: shape mismatch")
            precondition(source.dtype == destination.dtype, "copy: dtype mismatch")
            let n = source.elementCount
            if !source.isTransposed {
                if accumulate {
                    let s = source.floats, d = destination.floats
                    Parallel.ranges(n, grain: 1 << 15) { r in for i in r { d[i] += s[i] } }
                } else {
                    let s = source.rawPointer, d = destination.rawPointer, w = source.dtype.size
                    Parallel.ranges(n, grain: 1 << 16) { r in
                        (d + r.lowerBound * w).copyMemory(from: s + r.lowerBound * w, byteCount: r.count * w)
                    }
                }
                return
            }
            // Materialise a transposed view: storage [..., C, R] → destination [..., R, C], in tiles.
            precondition(source.dtype == .float32)
            let rows = source.shape[source.rank - 2], cols = source.shape[source.rank - 1]
            let batch = n / max(rows * cols, 1)
            let s = source.floats, d = destination.floats
            let tile = 32
            let rowTiles = (rows + tile - 1) / tile
            Parallel.ranges(batch * rowTiles) { range in
                for task in range {
                    let b = task / rowTiles, r0 = (task % rowTiles) * tile, r1 = min(r0 + tile, rows)
                    let sb = s + b * rows * cols, db = d + b * rows * cols
                    var c0 = 0
                    while c0 < cols {
                        let c1 = min(c0 + tile, cols)
                        for r in r0..<r1 {
                            for c in c0..<c1 {
                                let v = sb[c * rows + r]
                                if accumulate { db[r * cols + c] += v } else { db[r * cols + c] = v }
                            }
                        }
                        c0 = c1
                    }
                }
            }
        }
    }

    // MARK: GEMM

    public func matmul(_ a: Tensor, _ b: Tensor, into c: Tensor, alpha: Float, accumulate: Bool) {
        profile.measureGEMM { matmulKernel(a, b, into: c, alpha: alpha, accumulate: accumulate) }
    }

    /// Runs the product and returns the shape it ran as (for the kernel profile).
    private func matmulKernel(
        _ a: Tensor, _ b: Tensor, into c: Tensor, alpha: Float, accumulate: Bool
    ) -> KernelProfile.GEMMShape {
        precondition(a.rank >= 2 && b.rank >= 2, "matmul needs matrices, got \(a.shape) and \(b.shape)")
        let m = a.shape[a.rank - 2], k = a.shape[a.rank - 1]
        let kb = b.shape[b.rank - 2], n = b.shape[b.rank - 1]
        precondition(k == kb, "matmul: inner dimensions differ (\(a.shape) · \(b.shape))")
        let batch = a.shape.dropLast(2).reduce(1, *)
        precondition(
            c.shape == Array(a.shape.dropLast(2)) + [m, n] && !c.isTransposed, "matmul: bad output shape \(c.shape)")
        let lda = a.isTransposed ? m : k, ldb = b.isTransposed ? k : n
        let beta: Float = accumulate ? 1 : 0
        if b.rank == 2 && !a.isTransposed {
            // [..., M, K] · [K, N]: one GEMM over all leading rows.
            gemm(
                transA: false, transB: b.isTransposed, m: batch * m, n: n, k: k, alpha: alpha,
                a: a.floats, lda: lda, b: b.floats, ldb: ldb, beta: beta, c: c.floats, ldc: n)
            return .init(m: batch * m, k: k, n: n, batch: 1, transA: false, transB: b.isTransposed)
        }
        let bBatch = b.shape.dropLast(2).reduce(1, *)
        precondition(b.rank == 2 || bBatch == batch, "matmul: batch dimensions differ (\(a.shape) · \(b.shape))")
        let strideB = b.rank == 2 ? 0 : k * n
        batchedGEMM(
            count: batch, transA: a.isTransposed, transB: b.isTransposed, m: m, n: n, k: k,
            alpha: alpha, a: a.floats, lda: lda, strideA: m * k, b: b.floats, ldb: ldb,
            strideB: strideB, beta: beta, c: c.floats, ldc: n, strideC: m * n)
        return .init(m: m, k: k, n: n, batch: batch, transA: a.isTransposed, transB: b.isTransposed)
    }

    /// One GEMM split over the workers along M (or N when M is small); each piece runs on the
    /// single-threaded BLAS — except a few rows times a transposed weight (a decoder step), which
    /// `SkinnyGEMM` multiplies without packing, and a product whose inner dimension is long next to
    /// its output (a weight gradient over many rows), which `splitInner` splits along K.
    func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        let blas = self.blas
        if m == 0 || n == 0 { return }
        let threads = Parallel.threadCount
        let splitM = m >= n
        let extent = splitM ? m : n
        let flops = 2.0 * Double(m) * Double(n) * Double(k)
        if transB && !transA && m <= SkinnyGEMM.maxRows && k >= 64 {
            // A few rows times a weight: split the weight rows over the workers, no packing.
            let pieces = threads > 1 && flops >= 2e6 ? threads : 1
            Parallel.forEach(pieces) { t in
                let lo = t * n / pieces / 4 * 4, hi = t == pieces - 1 ? n : (t + 1) * n / pieces / 4 * 4
                SkinnyGEMM.run(
                    m: m, columns: lo..<hi, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c,
                    ldc: ldc)
            }
            return
        }
        if threads > 1 && flops >= 2e6 && k >= CPUBackend.innerSplitRatio * max(m, n) {
            splitInner(
                threads, transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            return
        }
        guard threads > 1, flops >= 2e6, extent >= 32 * threads else {
            blas.sgemm(
                transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            return
        }
        // Pieces are multiples of 16 rows/columns so the providers' register blocks stay full.
        let unit = 16
        let units = (extent + unit - 1) / unit
        Parallel.forEach(threads) { t in
            let u0 = t * units / threads, u1 = (t + 1) * units / threads
            let lo = u0 * unit, hi = min(u1 * unit, extent)
            guard hi > lo else { return }
            if splitM {
                let aOff = transA ? lo : lo * lda
                blas.sgemm(
                    transA: transA, transB: transB, m: hi - lo, n: n, k: k, alpha: alpha,
                    a: a + aOff, lda: lda, b: b, ldb: ldb, beta: beta, c: c + lo * ldc, ldc: ldc)
            } else {
                let bOff = transB ? lo * ldb : lo
                blas.sgemm(
                    transA: transA, transB: transB, m: m, n: hi - lo, k: k, alpha: alpha,
                    a: a, lda: lda, b: b + bOff, ldb: ldb, beta: beta, c: c + lo, ldc: ldc)
            }
        }
    }

    /// K at least this many times max(M, N) is split along K (`splitInner`).
    static let innerSplitRatio = 3

    /// C = α·A·B + β·C with K cut into one piece per worker: worker 0 computes its piece into C (with
    /// β), each other worker its own into a scratch matrix, and the scratch matrices are then added to
    /// C. Split along M or N instead, every worker would pack all of the operand that is not split —
    /// a weight gradient dW = dYᵀ·X over 4,096 rows with 256 output rows reads X (cold since the
    /// forward pass) once per worker; split along K, each worker packs half of both (BENCHMARKS.md:
    /// BERT's 256×4096×256 dW 11.3 → 10.6 ms a step, T5's 256×4096×672 40.1 → 37.0 ms; from K = 3·max(M, N)
    /// on, K pieces were as fast or faster). The K pieces are multiples of 16 rows; the sum's rounding
    /// depends on the worker count.
    func splitInner(
        _ pieces: Int, transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        let blas = self.blas
        let scratchBytes = (pieces - 1) * m * n * MemoryLayout<Float>.size
        let scratch = pool.allocate(scratchBytes).assumingMemoryBound(to: Float.self)
        defer { pool.release(UnsafeMutableRawPointer(scratch), bytes: scratchBytes) }
        let units = k / 16
        Parallel.forEach(pieces) { t in
            let lo = t * units / pieces * 16, hi = t == pieces - 1 ? k : (t + 1) * units / pieces * 16
            let (out, ld) = t == 0 ? (c, ldc) : (scratch + (t - 1) * m * n, n)
            blas.sgemm(
                transA: transA, transB: transB, m: m, n: n, k: hi - lo, alpha: alpha,
                a: a + (transA ? lo * lda : lo), lda: lda, b: b + (transB ? lo : lo * ldb), ldb: ldb,
                beta: t == 0 ? beta : 0, c: out, ldc: ld)
        }
        Parallel.ranges(m, grain: max(1, 16384 / n)) { rows in
            for i in rows {
                let row = c + i * ldc
                for p in 1..<pieces {
                    let partial = scratch + (p - 1) * m * n + i * n
                    for j in 0..<n { row[j] += partial[j] }
                }
            }
        }
    }

    /// `count` independent GEMMs: in parallel over the items when there are enough, else each
    /// item split over the workers.
    func batchedGEMM(
        count: Int, transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, strideA: Int,
        b: UnsafePointer<Float>, ldb: Int, strideB: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, strideC: Int
    ) {
        let blas = self.blas
        if count >= Parallel.threadCount {
            Parallel.ranges(count) { r in
                for i in r {
                    blas.sgemm(
                        transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                        a: a + i * strideA, lda: lda, b: b + i * strideB, ldb: ldb,
                        beta: beta, c: c + i * strideC, ldc: ldc)
                }
            }
        } else {
            for i in 0..<count {
                gemm(
                    transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                    a: a + i * strideA, lda: lda, b: b + i * strideB, ldb: ldb,
                    beta: beta, c: c + i * strideC, ldc: ldc)
            }
        }
    }
}

extension Tensor {
    /// Host address of the first element (CPU backend only).
    @inline(__always) var rawPointer: UnsafeMutableRawPointer { storage.pointer + offset * dtype.size }

    @inline(__always) var floats: UnsafeMutablePointer<Float> {
        precondition(dtype == .float32, "kernel expects float32, got \(dtype)")
        return rawPointer.assumingMemoryBound(to: Float.self)
    }

    @inline(__always) var int32s: UnsafeMutablePointer<Int32> {
        precondition(dtype == .int32, "kernel expects int32, got \(dtype)")
        return rawPointer.assumingMemoryBound(to: Int32.self)
    }

    /// A contiguous copy of a (possibly transposed) tensor, not recorded for autodiff.
    func contiguousCopy() -> Tensor {
        let out = Tensor(shape: shape, dtype: dtype, backend: backend)
        backend.copy(self, into: out, accumulate: false)
        return out
    }
}
