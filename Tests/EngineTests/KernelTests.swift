@testable import Engine
import Dispatch
import Foundation
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
        // Above the 2 MFLOP threshold: split along M, along N, along M with A read transposed and
        // accumulating into C (a weight's gradient), along K (K ≥ 3·max(M, N); a weight's gradient
        // and a K that is not a multiple of 16), and below it.
        var g = SeededGenerator(seed: 9)
        for (m, k, n, transA, accumulate) in [
            (1030, 40, 70, false, false), (70, 40, 1030, false, false), (260, 700, 33, true, true),
            (40, 2100, 24, true, true), (36, 1003, 30, false, false), (257, 33, 19, false, false),
        ] {
            let a = (0..<(m * k)).map { _ in Float(g.uniform() - 0.5) }
            let b = (0..<(k * n)).map { _ in Float(g.uniform() - 0.5) }
            let c0 = (0..<(m * n)).map { _ in Float(g.uniform() - 0.5) }
            // A transposed: stored [K, M], read through a transposed view.
            let aStored = transA ? (0..<(k * m)).map { a[($0 % m) * k + $0 / m] } : a
            let aTensor = transA ? Tensor(aStored, shape: [k, m]).transposedView() : Tensor(a, shape: [m, k])
            let c = Tensor(c0, shape: [m, n])
            CPUBackend.shared.matmul(aTensor, Tensor(b, shape: [k, n]), into: c, alpha: 0.5, accumulate: accumulate)
            let ab = Reference.matmul(a.map(Double.init), b.map(Double.init), m: m, k: k, n: n)
            let ref = zip(ab, c0).map { 0.5 * $0 + (accumulate ? Double($1) : 0) }
            #expect(zip(c.scalars(), ref).map { abs(Double($0) - $1) }.max()! < 1e-4, "\(m)x\(k)x\(n)")
        }
    }

    @Test func aGEMMSplitAlongKAddsEachPieceOnce() {
        // Three pieces (more than this machine may have workers), A and B each read transposed or
        // not, C accumulated with β = 1 and a leading dimension wider than N.
        var g = SeededGenerator(seed: 12)
        let (m, k, n, ldc) = (19, 1003, 21, 25)
        for (transA, transB) in [(false, false), (true, false), (false, true), (true, true)] {
            let a = (0..<(m * k)).map { _ in Float(g.uniform() - 0.5) }
            let b = (0..<(k * n)).map { _ in Float(g.uniform() - 0.5) }
            var c = (0..<(m * ldc)).map { _ in Float(g.uniform() - 0.5) }
            let c0 = c
            let aStored = transA ? (0..<(k * m)).map { a[($0 % m) * k + $0 / m] } : a
            let bStored = transB ? (0..<(n * k)).map { b[($0 % k) * n + $0 / k] } : b
            aStored.withUnsafeBufferPointer { pa in
                bStored.withUnsafeBufferPointer { pb in
                    c.withUnsafeMutableBufferPointer { pc in
                        CPUBackend.shared.splitInner(
                            3, transA: transA, transB: transB, m: m, n: n, k: k, alpha: 2, a: pa.baseAddress!,
                            lda: transA ? m : k, b: pb.baseAddress!, ldb: transB ? k : n, beta: 1,
                            c: pc.baseAddress!, ldc: ldc)
                    }
                }
            }
            let ab = Reference.matmul(a.map(Double.init), b.map(Double.init), m: m, k: k, n: n)
            var worst = 0.0
            for i in 0..<m {
                for j in 0..<ldc {
                    let want = j < n ? 2 * ab[i * n + j] + Double(c0[i * ldc + j]) : Double(c0[i * ldc + j])
                    worst = max(worst, abs(Double(c[i * ldc + j]) - want))
                }
            }
            #expect(worst < 1e-4, "transA \(transA), transB \(transB): max error \(worst)")
        }
    }

    @Test func theWorkerPoolRunsEveryIndexOnceAndRefusesNestedRegions() {
        let pool = WorkerPool(workers: 3)
        for count in [2, 3, 7, 64, 1000] {
            let hits = UnsafeMutableBufferPointer<Int>.allocate(capacity: count)
            hits.initialize(repeating: 0)
            defer { hits.deallocate() }
            #expect(pool.run(count) { hits[$0] += 1 })
            #expect(hits.allSatisfy { $0 == 1 }, "count \(count)")
        }
        // Many short regions back to back (workers between spinning and claiming): each index once.
        let twoWorkers = WorkerPool(workers: 1)
        let sums = UnsafeMutableBufferPointer<Int>.allocate(capacity: 2)
        sums.initialize(repeating: 0)
        defer { sums.deallocate() }
        for _ in 0..<20_000 { #expect(twoWorkers.run(2) { sums[$0] += 1 }) }
        #expect(Array(sums) == [20_000, 20_000])
        // A region started inside a region is refused (the caller falls back to Dispatch).
        let refused = UnsafeMutableBufferPointer<Bool>.allocate(capacity: 4)
        refused.initialize(repeating: false)
        defer { refused.deallocate() }
        #expect(pool.run(4) { i in refused[i] = !pool.run(2) { _ in } })
        #expect(refused.allSatisfy { $0 })
        // Regions from several threads at once through Parallel (pool or Dispatch): each index once.
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            for n in 2..<200 {
                let hits = UnsafeMutableBufferPointer<Int>.allocate(capacity: n)
                hits.initialize(repeating: 0)
                Parallel.forEach(n) { hits[$0] += 1 }
                #expect(hits.allSatisfy { $0 == 1 })
                hits.deallocate()
            }
        }
    }

    @Test func theProfileBooksEachGEMMUnderTheShapeItRanAs() {
        let backend = CPUBackend.shared
        var g = SeededGenerator(seed: 5)
        let x = Tensor.randomUniform([2, 3, 4], low: -1, high: 1, using: &g)
        let w = Tensor.randomUniform([5, 4], low: -1, high: 1, using: &g)
        let q = Tensor.randomUniform([6, 3, 4], low: -1, high: 1, using: &g)
        backend.profile.reset()
        backend.profile.isEnabled = true
        withoutGradients {
            _ = linear(x, w)  // [2, 3, 4] · [5, 4]ᵀ: one GEMM of 6 rows
            _ = linear(x, w)
            _ = matmul(q, q.transposed())  // 6 products of 3×4 · 4×3
        }
        // Another thread's GEMM is not booked.
        let other = Thread { withoutGradients { _ = linear(x, w) } }
        other.start()
        while !other.isFinished { usleep(1000) }
        backend.profile.isEnabled = false
        _ = linear(x, w)  // off: not booked
        let gemms = backend.profile.gemms
        backend.profile.reset()
        let forward = KernelProfile.GEMMShape(m: 6, k: 4, n: 5, batch: 1, transA: false, transB: true)
        let batched = KernelProfile.GEMMShape(m: 3, k: 4, n: 3, batch: 6, transA: false, transB: true)
        #expect(Set(gemms.keys) == [forward, batched])
        #expect(gemms[forward]?.calls == 2 && gemms[batched]?.calls == 1)
        #expect(forward.flops == 240 && batched.flops == 432)
        #expect(gemms.values.allSatisfy { $0.seconds > 0 })
    }

    @Test func theProfileBooksEachKernelFamilyAndANestedKernelToTheOuterOne() {
        let backend = CPUBackend.shared
        var g = SeededGenerator(seed: 6)
        let x = Tensor.randomUniform([64, 192], low: -2, high: 2, using: &g)
        let y = Tensor(shape: [64, 96]), table = Tensor(shape: [10, 96])
        let rows = Tensor(int32: (0..<64).map { Int32($0 % 10) }, shape: [64])
        backend.profile.reset()
        backend.profile.isEnabled = true
        backend.gatedActivation(.geluTanh, gate: .first, x, into: y)
        // Overwriting the table fills it with zeros first (`fill`, an element-wise kernel, inside).
        backend.scatterAddRows(y, indices: rows, into: .overwrite(table))
        backend.profile.isEnabled = false
        backend.fill(table, with: 1)  // off: not booked
        let seconds = backend.profile.seconds
        backend.profile.reset()
        #expect(Set(seconds.keys) == ["activation", "embedding"])
        #expect(seconds.values.allSatisfy { $0 > 0 })
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
