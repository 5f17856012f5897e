import Engine
import NoTrainNoGain
import Testing

@Suite("Benchmark timing")
struct StopwatchTests {
    @Test func medianOfOddAndEvenCounts() {
        #expect(Stopwatch.median([3, 1, 2]) == 2)
        #expect(Stopwatch.median([4, 1, 3, 2]) == 2.5)
        #expect(Stopwatch.median([]).isNaN)
    }

    @Test func timeMeasuresElapsedWork() {
        var x = 0.0
        let t = Stopwatch.time { for i in 0..<200_000 { x += Double(i & 3) } }
        #expect(t > 0 && t < 5)
        #expect(x == 300_000)
    }

    @Test func gemmShapesAreMedianStepRatesAgainstThePeakOfTheirMomentSlowestFirst() {
        typealias S = KernelProfile.GEMMShape
        typealias T = KernelProfile.GEMMTotal
        let big = S(m: 4096, k: 256, n: 768, batch: 1, transA: false, transB: true)
        let small = S(m: 128, k: 64, n: 128, batch: 128, transA: false, transB: true)
        func total(_ calls: Int, _ seconds: Double) -> T {
            var t = T()
            t.calls = calls
            t.seconds = seconds
            return t
        }
        // Three steps; the big shape took 0.05 s in the first and 0.1 s in the other two. After the third
        // the large GEMM was slow as well (0.2 s instead of 0.1: the host was busy), after the second not;
        // timed just before the peak of 100 GFLOP/s was measured, it took 0.1 s.
        let steps = [
            [big: total(4, 0.05), small: total(1, 0.12)], [big: total(4, 0.1), small: total(1, 0.12)],
            [big: total(4, 0.1), small: total(1, 0.12)],
        ]
        let rows = GEMMRates.shapes(steps, peakGFLOPS: 100, peakScales: [0.1 / 0.1, 0.1 / 0.1, 0.1 / 0.2])
        #expect(rows.count == 2)
        #expect(rows[0].m == 128 && rows[0].batch == 128 && rows[0].callsPerStep == 1)
        #expect(rows[0].millisecondsPerStep == 120)
        // 2 · 128 · 128·64·128 / 0.12 s = 2.24 GFLOP/s; shares 0.0224, 0.0224 and 0.0447 (peak 50).
        #expect(rows[0].gflops == 2.2 && rows[0].shareOfLargeGEMM == 0.022)
        // 4 · 1.61e9 FLOPs: 64.4 GFLOP/s in the median step (0.1 s); shares 128.8 / 100, 64.4 / 100 and
        // 64.4 / 50 (the busy moment), median 1.288.
        #expect(rows[1].callsPerStep == 4 && rows[1].millisecondsPerStep == 100)
        #expect(rows[1].gflops == 64.4 && rows[1].shareOfLargeGEMM == 1.288)
        #expect(rows[1].transB && !rows[1].transA)
        // Measured in a moment twice as busy (the reference took 0.2 s), the peak stands for 200 at the
        // steps' moments: shares 0.644, 0.322 and 0.644.
        let busyPeak = GEMMRates.shapes(steps, peakGFLOPS: 100, peakScales: [0.2 / 0.1, 0.2 / 0.1, 0.2 / 0.2])
        #expect(busyPeak[1].shareOfLargeGEMM == 0.644)
        // Without timings after the steps, every step is compared with the peak itself: 1.288, 0.644, 0.644.
        #expect(GEMMRates.shapes(steps, peakGFLOPS: 100)[1].shareOfLargeGEMM == 0.644)
    }
}
