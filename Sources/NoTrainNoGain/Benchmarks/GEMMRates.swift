import Engine

/// GEMM rates of a training step against the machine's measured peak.
///
/// The peak is the rate of one large GEMM (4096×1024 · 1024×1024, C = A·Bᵀ as a linear layer) on
/// the same provider: the better of the provider's own threads and the engine's split over its
/// workers, median of 5 after a warm-up. A step's share of it (its effective GFLOP/s over the peak)
/// is its MFU on this machine; each GEMM shape's share shows where the gap is.
public enum GEMMRates {
    /// One GEMM shape of a step, as the backend ran it (snake_case in the JSON).
    public struct Shape: Codable {
        /// Rows, inner dimension and columns of one product; `batch` products per call.
        public let m: Int, k: Int, n: Int, batch: Int
        /// Whether A and B were read transposed (x·Wᵀ is a forward linear layer; dX = dY·W has
        /// neither; dW = dYᵀ·X has A transposed).
        public let transA: Bool, transB: Bool
        public let callsPerStep: Double
        public let millisecondsPerStep: Double
        public let gflops: Double
        /// `gflops` over the large GEMM's rate.
        public let shareOfLargeGEMM: Double
    }

    /// The machine's reference GEMM.
    public struct Peak: Codable {
        public let m: Int, k: Int, n: Int
        public let providerThreadsGFLOPS: Double
        public let engineGFLOPS: Double
        /// The better of the two.
        public let gflops: Double
    }

    /// Measures the large GEMM (about 1–2 s on 2 cores).
    public static func measurePeak(m: Int = 4096, k: Int = 1024, n: Int = 1024, repeats: Int = 5) -> Peak {
        var product = largeProduct(m: m, k: k, n: n)
        let provider = Stopwatch.median(repeats: repeats) { _ = product.direct(threads: Parallel.threadCount) }
        let engine = Stopwatch.median(repeats: repeats) { _ = product.engine() }
        let p = product.flops / provider / 1e9, e = product.flops / engine / 1e9
        return Peak(
            m: m, k: k, n: n, providerThreadsGFLOPS: p.rounded(to: 1), engineGFLOPS: e.rounded(to: 1),
            gflops: max(p, e).rounded(to: 1))
    }

    /// The large GEMM's operands (the same random values every time).
    static func largeProduct(m: Int = 4096, k: Int = 1024, n: Int = 1024) -> LinearProduct {
        var g = SeededGenerator(seed: 3)
        return LinearProduct(m: m, k: k, n: n, generator: &g)
    }

    /// The large GEMM timed once through the engine after each of a benchmark's steps and once just
    /// before the peak is measured: this VM's host load moves a step's GEMMs and the large GEMM alike
    /// (by up to 20% within a minute), so each step's GEMMs are compared with the peak scaled to the
    /// moment (`shapes`). Its operands are out of the cache each time, so only the ratios are used.
    public struct MomentSampler {
        private let product = GEMMRates.largeProduct()
        private var afterSteps: [Double] = []
        private var beforePeak: Double?

        public init() {}

        public mutating func timeAfterStep() { afterSteps.append(product.engine()) }
        public mutating func timeBeforePeak() { beforePeak = product.engine() }

        /// Per step, the peak's factor at that step's moment: the timing before the peak over the
        /// timing after the step (empty until both were taken).
        public var peakScales: [Double] {
            guard let beforePeak else { return [] }
            return afterSteps.map { beforePeak / $0 }
        }
    }

    /// The GEMM shapes of a run's steps (one profile per step), slowest first: calls and milliseconds per
    /// step and GFLOP/s from the median step; the share of the large GEMM is the median over steps of
    /// the step's rate over the peak of its moment, `peakGFLOPS` times that step's `peakScales` entry
    /// (`MomentSampler.peakScales`; without one, `peakGFLOPS` itself).
    public static func shapes(
        _ steps: [[KernelProfile.GEMMShape: KernelProfile.GEMMTotal]], peakGFLOPS: Double,
        peakScales: [Double] = []
    ) -> [Shape] {
        let peaks: [Double] = steps.indices.map { i in
            i < peakScales.count ? peakGFLOPS * peakScales[i] : peakGFLOPS
        }
        let all = Set(steps.flatMap { Array($0.keys) })
        var rows: [(seconds: Double, shape: Shape)] = []
        for shape in all {
            let totals = steps.map { $0[shape] ?? KernelProfile.GEMMTotal() }
            let calls = Double(totals.reduce(0) { $0 + $1.calls }) / Double(max(steps.count, 1))
            let seconds = Stopwatch.median(totals.map { $0.seconds })
            let gflops = shape.flops * calls / seconds / 1e9
            var shares: [Double] = []
            for (t, peak) in zip(totals, peaks) where t.seconds > 0 {
                shares.append(shape.flops * Double(t.calls) / t.seconds / 1e9 / peak)
            }
            let row = Shape(
                m: shape.m, k: shape.k, n: shape.n, batch: shape.batch, transA: shape.transA,
                transB: shape.transB, callsPerStep: calls.rounded(to: 2),
                millisecondsPerStep: (seconds * 1000).rounded(to: 2), gflops: gflops.rounded(to: 1),
                shareOfLargeGEMM: Stopwatch.median(shares).rounded(to: 3))
            rows.append((seconds, row))
        }
        return rows.sorted { $0.seconds > $1.seconds }.map { $0.shape }
    }
}

/// y = x·Wᵀ for random x [m, k] and W [n, k], timed through the engine (`linear`) or as one direct
/// `sgemm` call to the BLAS provider on a given number of its own threads.
struct LinearProduct {
    let m: Int, k: Int, n: Int
    let x: Tensor, w: Tensor
    private let xs: [Float], ws: [Float]
    private var c: [Float]

    init(m: Int, k: Int, n: Int, generator g: inout SeededGenerator) {
        (self.m, self.k, self.n) = (m, k, n)
        x = Tensor.randomUniform([m, k], low: -1, high: 1, using: &g)
        w = Tensor.randomUniform([n, k], low: -1, high: 1, using: &g)
        xs = x.scalars()
        ws = w.scalars()
        c = [Float](repeating: 0, count: m * n)
    }

    var flops: Double { 2.0 * Double(m * n * k) }

    /// Seconds of one engine product.
    func engine() -> Double { Stopwatch.time { withoutGradients { _ = linear(x, w) } } }

    /// Seconds of one direct `sgemm` on `threads` provider threads.
    mutating func direct(threads: Int) -> Double {
        let blas = CPUBackend.shared.blas
        let (m, k, n) = (self.m, self.k, self.n)
        blas.setThreads(threads)
        defer { blas.setThreads(1) }
        return xs.withUnsafeBufferPointer { a in
            ws.withUnsafeBufferPointer { b in
                c.withUnsafeMutableBufferPointer { cc in
                    Stopwatch.time {
                        blas.sgemm(
                            transA: false, transB: true, m: m, n: n, k: k, alpha: 1, a: a.baseAddress!, lda: k,
                            b: b.baseAddress!, ldb: k, beta: 0, c: cc.baseAddress!, ldc: n)
                    }
                }
            }
        }
    }
}
