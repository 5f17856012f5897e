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

    @Test func gemmShapesArePerStepRatesAgainstThePeakSlowestFirst() {
        typealias S = KernelProfile.GEMMShape
        let big = S(m: 4096, k: 256, n: 768, batch: 1, transA: false, transB: true)
        let small = S(m: 128, k: 64, n: 128, batch: 128, transA: false, transB: true)
        var a = KernelProfile.GEMMTotal(), b = KernelProfile.GEMMTotal()
        a.calls = 8  // 4 per step over 2 steps, 0.1 s: 8 · 1.61e9 FLOPs / 0.1 s = 128.8 GFLOP/s
        a.seconds = 0.1
        b.calls = 2
        b.seconds = 0.2
        let rows = GEMMRates.shapes([small: b, big: a], steps: 2, peakGFLOPS: 100)
        #expect(rows.count == 2)
        #expect(rows[0].m == 128 && rows[0].batch == 128 && rows[0].callsPerStep == 1)
        #expect(rows[0].millisecondsPerStep == 100)
        // 2 · 128 · 128·64·128 · 2 calls / 0.2 s = 2.68 GFLOP/s
        #expect(rows[0].gflops == 2.7 && rows[0].shareOfLargeGEMM == 0.027)
        #expect(rows[1].callsPerStep == 4 && rows[1].millisecondsPerStep == 50)
        #expect(rows[1].gflops == 128.8 && rows[1].shareOfLargeGEMM == 1.288)
        #expect(rows[1].transB && !rows[1].transA)
    }
}
