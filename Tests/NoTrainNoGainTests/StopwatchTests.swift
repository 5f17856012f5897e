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
}
