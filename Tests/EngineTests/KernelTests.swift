@testable import Engine
import Testing
#if canImport(Glibc)
    import Glibc
#endif

/// CPU kernel details: the fast transcendental approximations, parallel chunking, the buffer
/// pool, random numbers and the BLAS provider.
@Suite("CPU kernels")
struct KernelTests {
    @Test func geluMatchesLibmOnAGridAndThroughTheParallelPath() {
        // 200,003 elements: several parallel chunks with a ragged tail.
        let n = 200_003
        let xs = (0..<n).map { Float(-10 + 20 * Double($0) / Double(n)) }
        let erfGelu = Tensor(xs, shape: [n]).gelu().scalars()
        let tanhGelu = Tensor(xs, shape: [n]).geluTanh().scalars()
        var maxErf = 0.0, maxTanh = 0.0
        for i in stride(from: 0, to: n, by: 7) {
            let x = Double(xs[i])
            maxErf = max(maxErf, abs(Double(erfGelu[i]) - 0.5 * x * (1 + erf(x / 2.0.squareRoot()))))
            maxTanh = max(
                maxTanh, abs(Double(tanhGelu[i]) - 0.5 * x * (1 + tanh(0.7978845608 * (x + 0.044715 * x * x * x)))))
        }
        #expect(maxErf < 5e-6)
        #expect(maxTanh < 5e-6)
    }

    @Test func softmaxOfExtremeScoresIsExact() {
        let y = Tensor([0, -200, -.infinity, 80], shape: [1, 4]).softmax().scalars()
        #expect(y[1] == 0 && y[2] == 0)
        #expect(abs(y[3] - 1) < 1e-7)
        let z = Tensor([-1e4, -1e4 + 1], shape: [1, 2]).softmax().scalars()
        #expect(abs(Double(z[1]) - 1 / (1 + exp(-1.0))) < 1e-6)
    }

    @Test func gemmSplitAlongEitherDimensionMatchesReference() {
        var g = SeededGenerator(seed: 9)
        for (m, k, n) in [(257, 33, 19), (19, 33, 257), (130, 7, 130)] {
            let a = (0..<(m * k)).map { _ in Float(g.uniform() - 0.5) }
            let b = (0..<(k * n)).map { _ in Float(g.uniform() - 0.5) }
            let c = matmul(Tensor(a, shape: [m, k]), Tensor(b, shape: [k, n])).scalars()
            let ref = Reference.matmul(a.map(Double.init), b.map(Double.init), m: m, k: k, n: n)
            #expect(zip(c, ref).map { abs(Double($0) - $1) }.max()! < 1e-4, "\(m)x\(k)x\(n)")
        }
    }

    @Test func fewRowsTimesATransposedWeightMatchReference() {
        // SkinnyGEMM's shapes: 1–16 rows, weight rows not a multiple of its 4-row blocks, inner
        // lengths with and without an 8-lane tail, with α and accumulation into C.
        var g = SeededGenerator(seed: 5)
        for (m, k, n) in [(1, 64, 1), (2, 77, 5), (3, 256, 130), (16, 100, 257), (15, 64, 4)] {
            let x = (0..<(m * k)).map { _ in Float(g.uniform() - 0.5) }
            let w = (0..<(n * k)).map { _ in Float(g.uniform() - 0.5) }
            let c0 = (0..<(m * n)).map { _ in Float(g.uniform() - 0.5) }
            let c = Tensor(c0, shape: [m, n])
            CPUBackend.shared.matmul(
                Tensor(x, shape: [m, k]), Tensor(w, shape: [n, k]).transposedView(), into: c, alpha: 0.5,
                accumulate: true)
            let wT = (0..<(k * n)).map { Double(w[($0 % n) * k + $0 / n]) }
            let ref = Reference.matmul(x.map(Double.init), wT, m: m, k: k, n: n)
            let error = zip(c.scalars(), zip(ref, c0)).map { abs(Double($0) - (0.5 * $1.0 + Double($1.1))) }.max()!
            #expect(error < 1e-5, "\(m)x\(k)x\(n)")
        }
    }

    @Test func scatterAddIsDeterministicAndCorrectForWideRows() {
        let rows = 5, d = 1000, n = 64
        var g = SeededGenerator(seed: 4)
        let ids = (0..<n).map { _ in Int32(g.int(below: rows)) }
        let upstream = (0..<(n * d)).map { _ in Float(g.uniform()) }
        let table = Tensor.zeros([rows, d], requiresGrad: true)
        (table.gatherRows(Tensor(int32: ids, shape: [n])) * Tensor(upstream, shape: [n, d])).sum().backward()
        let grad = table.grad!.scalars()
        for r in 0..<rows {
            for j in [0, 499, 999] {
                let expected = (0..<n).filter { ids[$0] == Int32(r) }.map { Double(upstream[$0 * d + j]) }.reduce(0, +)
                #expect(abs(Double(grad[r * d + j]) - expected) < 1e-4)
            }
        }
    }

    @Test func largeVocabularyCrossEntropyMatchesReference() {
        let rows = 40, v = 5000
        var g = SeededGenerator(seed: 2)
        let logits = (0..<(rows * v)).map { _ in Float(4 * g.uniform() - 2) }
        let labels = (0..<rows).map { $0 % 5 == 0 ? Int32(-100) : Int32(g.int(below: v)) }
        let r = softmaxCrossEntropy(
            logits: Tensor(logits, shape: [rows, v]), labels: Tensor(int32: labels, shape: [rows]))
        let ref = Reference.crossEntropy(logits.map(Double.init), labels: labels, vocabulary: v)
        #expect(abs(Double(r.loss.item()) - ref) < 1e-5)
        #expect(r.count == 32)
    }

    @Test func dropoutKeepsAboutOneMinusP() {
        let n = 100_000
        let y = Tensor.full(1, shape: [n]).dropout(probability: 0.1, seed: 3).scalars()
        let kept = y.filter { $0 != 0 }.count
        #expect(abs(Double(kept) / Double(n) - 0.9) < 0.005)
        #expect(y.allSatisfy { $0 == 0 || abs($0 - 1 / 0.9) < 1e-6 })
        // Another seed gives another mask.
        let z = Tensor.full(1, shape: [n]).dropout(probability: 0.1, seed: 4).scalars()
        #expect(zip(y, z).filter { ($0 == 0) != ($1 == 0) }.count > 1000)
    }

    @Test func seededGeneratorIsReproducibleAndRestorable() {
        var a = SeededGenerator(seed: 42)
        _ = (0..<10).map { _ in a.next() }
        var b = SeededGenerator(state: a.state)!
        #expect((0..<5).map { _ in a.next() } == (0..<5).map { _ in b.next() })
        #expect(SeededGenerator(state: [0, 0, 0, 0]) == nil)
        var c = SeededGenerator(seed: 1)
        let normals = (0..<20000).map { _ in Double(c.normal()) }
        let mean = normals.reduce(0, +) / 20000
        let variance = normals.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 20000
        #expect(abs(mean) < 0.03 && abs(variance - 1) < 0.04)
    }

    @Test func bufferPoolSizeClassesBoundWasteAndReuseBuffers() {
        var previous = 0
        for bytes in stride(from: 1, to: 50_000_000, by: 9_973) {
            let c = BufferPool.sizeClass(bytes)
            #expect(c >= bytes && Double(c) <= max(Double(bytes) * 1.125, Double(bytes + 64)))
            #expect(c >= previous)
            previous = c
        }
        // A private backend, so no other test touches its pool.
        let backend = CPUBackend()
        var first: UnsafeMutableRawPointer?
        do {
            let t = Tensor(shape: [100_000], backend: backend)
            first = t.storage.pointer
            #expect(backend.memoryStatistics.live >= 400_000)
        }
        #expect(backend.memoryStatistics.live == 0)
        #expect(backend.memoryStatistics.cached >= 400_000)
        let u = Tensor(shape: [99_000], backend: backend)  // same size class
        #expect(u.storage.pointer == first)
        #expect(backend.memoryStatistics.cached == 0)
        backend.trimCache()
    }

    @Test func blasProviderIsLoadedWithAFastKernel() throws {
        let blas = try BLASProvider.shared.get()
        #expect(!blas.version.isEmpty)
        #expect(!blas.isGenericFallback, "BLAS runs a generic kernel: \(blas.kernel)")
        let report = CPUBackend.shared.report
        #expect(report["blas_provider"] == blas.kind.rawValue)
        #expect(report["blas_kernel"] != nil)
    }
}
