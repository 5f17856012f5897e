import Foundation
import NoTrainNoGain
import Testing

@Suite("Run overviews and plots", .serialized)
struct RunViewTests {
    @Test func eachRunHasOneLineWithItsStatus() throws {
        let tiny = try TinyRun(extra: "stacking: {initial_blocks: 1, fractions: [0.5]}")
        let finished = tiny.directory + "/run", stopped = tiny.directory + "/stopped"
        // The runs are released (their locks too) when the closures return.
        let finalLoss = try {
            let run = try PretrainingRun(config: try tiny.config())
            try run.train()
            return run.state.validations.last?.loss
        }()
        try { _ = try PretrainingRun(config: try tiny.config(["run_directory=\(stopped)"])).train(stopAfterSteps: 2) }()
        #expect(try RunRecord.find(under: tiny.directory) == [finished, stopped])
        #expect(try RunRecord.find(under: finished) == [finished])

        let done = try RunRecord(directory: finished).overview
        #expect(done.status == .finished && done.name == "tiny" && done.methods == ["layer-stacking"])
        #expect(done.optimizer == "adamw" && done.budgetRstSeconds == 12 && done.usedRstSeconds == 12)
        #expect(done.steps == 6 && done.validationLoss == finalLoss)
        let cut = try RunRecord(directory: stopped).overview
        #expect(cut.status == .interrupted && cut.steps == 2 && cut.usedRstSeconds == 4)
        // A process training in the folder holds its lock.
        try {
            let lock = try RunLock(run: stopped)
            #expect(try RunRecord(directory: stopped).status == .running)
            withExtendedLifetime(lock) {}
        }()
        #expect(try RunRecord(directory: stopped).status == .interrupted)

        let line = String(decoding: try JSONCoding.encoder(pretty: false).encode(done), as: UTF8.self)
        #expect(line.contains(#""budget_rst_seconds":12"#) && line.contains(#""validation_loss":"#))
        #expect(errorMessage { _ = try RunRecord(directory: tiny.directory) }.contains("has no metrics.jsonl"))
        #expect(errorMessage { _ = try RunRecord.find(under: tiny.directory + "/nothing") }.contains("no such folder"))
        #expect(errorMessage { _ = try RunRecord.find(under: tiny.configPath) }.contains("is a file, not a folder"))
    }

    @Test func curvesFollowTheLogOnEachAxis() throws {
        let tiny = try TinyRun()
        let run = try PretrainingRun(config: try tiny.config())
        try run.train()
        let record = try RunRecord(directory: run.directory)
        let validations = record.events.validations, train = record.events.trainLines
        let byRST = record.curve(.validationLoss, x: .rst)
        #expect(byRST.map(\.x) == validations.map(\.rstSeconds) && byRST.map(\.y) == validations.map(\.loss))
        #expect(record.curve(.trainLoss, x: .step).map(\.x) == train.map { Double($0.step) })
        #expect(record.curve(.learningRate, x: .tokens).map(\.x) == train.map { Double($0.tokens) })
        // Validations at steps 0, 2, 4, 6 (log_every 1): their tokens are the train lines' at those steps.
        let tokens = record.curve(.validationAccuracy, x: .tokens).map(\.x)
        #expect(tokens == [0] + train.filter { [2, 4, 6].contains($0.step) }.map { Double($0.tokens) })

        let svg = RunRecord.plot([record, record], metric: .validationLoss, x: .rst)
        #expect(svg.components(separatedBy: "<polyline").count == 3)
        #expect(svg.contains("tiny (adamw)") && svg.contains("RST consumed (s)"))
    }

    /// Tokens between logged lines: linear between neighbours, the last rate beyond the last line.
    @Test func tokensBetweenLoggedLinesAreInterpolated() {
        let known: [(step: Double, tokens: Double)] = [(0, 0), (10, 100), (20, 300)]
        #expect(RunRecord.interpolate(known, at: 10) == 100)
        #expect(RunRecord.interpolate(known, at: 15) == 200)
        #expect(RunRecord.interpolate(known, at: 5) == 50)
        #expect(RunRecord.interpolate(known, at: 25) == 400)
        #expect(RunRecord.interpolate([(0, 0)], at: 3) == 0)
    }
}
