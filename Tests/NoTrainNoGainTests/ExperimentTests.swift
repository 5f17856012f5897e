import Foundation
import NoTrainNoGain
import Synchronization
import Testing

@Suite("Fixed-budget comparison", .serialized)
struct ExperimentTests {
    /// A 2-method (baseline and `method`) × 1-budget × 2-seed experiment over the tiny run's config;
    /// `reservedRows` holds 20% of the rows out of every cell (for RHO's IL model).
    func experiment(
        _ tiny: TinyRun, method: String = "stacking: {stacking: {initial_blocks: 1, fractions: [0.3]}}",
        reservedRows: Bool = false, extra: String = ""
    ) throws -> ExperimentConfig {
        let path = tiny.directory + "/experiment.yaml"
        try """
        name: tiny-compare
        base_config: tiny.yaml
        budgets: [6s]
        seeds: [0, 1]
        common:
          \(reservedRows ? "data: {reserve_fraction: 0.2}" : "")
          training: {validate_every: 3s, checkpoint_every: 100s}
        methods:
          baseline: {}
          \(method)
        output: \(tiny.directory)/experiment
        \(extra)
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return try ExperimentConfig.load(path: path)
    }

    @Test func runsEveryCellOnceThenOnlyMissingOnesAndReportsFromStoredRuns() throws {
        let tiny = try TinyRun()
        let exp = try experiment(tiny)
        #expect(exp.methods.map(\.name) == ["baseline", "stacking"])
        #expect(exp.cells.count == 4)
        let ran = Mutex<[String]>([])
        let recording: ExperimentRunner.Executor = { cell, base, overrides, resume in
            ran.withLock { $0.append(cell.label) }
            try ExperimentRunner.inProcess(cell, base, overrides, resume)
        }
        try ExperimentRunner(exp).run(executor: recording)
        #expect(ran.withLock { $0.count } == 4)
        // Everything finished: nothing runs again.
        try ExperimentRunner(exp).run(executor: recording)
        #expect(ran.withLock { $0.count } == 4)
        // Lose one cell: only that one runs.
        let lost = exp.cells[3]
        try FileManager.default.removeItem(atPath: lost.directory)
        try ExperimentRunner(exp).run(executor: recording)
        #expect(ran.withLock { $0 }.suffix(1) == [lost.label])

        // The report is built from the stored runs only.
        let report = try ExperimentReport.build(exp)
        #expect(report.missingCells.isEmpty && report.cells.count == 4 && report.irreducibleLossModel == nil)
        let table = report.tables[0]
        #expect(table.budget == "6s")
        let baseline = table.rows.first { $0.method == "baseline" }!,
            stacking = table.rows.first { $0.method == "stacking" }!
        let losses = report.cells.filter { $0.method == "baseline" }.map(\.finalValidationLoss)
        #expect(baseline.validationLossMean == Statistics.mean(losses) && baseline.validationLossDifference == nil)
        #expect(
            stacking.validationLossDifference?.estimate == stacking.validationLossMean - baseline.validationLossMean)
        // 6 RST s at 1 s per micro-batch of 8 and 2 micro-batches per step: 3 steps, whatever the method.
        #expect(baseline.stepsMean == 3 && baseline.chargedMean[.training] == 6)
        let plots = try report.write(to: exp.output, methods: exp.methods.map(\.name))
        #expect(plots.count == 2)
        let svg = try String(contentsOfFile: plots[0], encoding: .utf8)
        #expect(
            svg.contains("<svg") && svg.contains("validation loss") && svg.contains("RST consumed (minutes)")
                && svg.contains("stacking"))
        #expect(try String(contentsOfFile: exp.output + "/report.md", encoding: .utf8).contains("| stacking | 2 |"))
    }

    @Test func runsStartedWithOtherSettingsAreRefusedNotReused() throws {
        let tiny = try TinyRun()
        try ExperimentRunner(try experiment(tiny)).run()
        // The same output, the stacking schedule changed: its finished cells would report the old one.
        let changed = try experiment(tiny, method: "stacking: {stacking: {initial_blocks: 1, fractions: [0.5]}}")
        let error = #expect(throws: InputError.self) { try ExperimentRunner(changed).run() }
        let message = error.map { "\($0)" } ?? ""
        #expect(
            message.contains("2 run(s)") && message.contains("stacking @ 6s seed 0")
                && message.contains("stacking @ 6s seed 1"))
        #expect(message.contains("[0.3] (stored) vs [0.5] (now)") && !message.contains("baseline"))
        // Unchanged, it runs (nothing left to do).
        try ExperimentRunner(try experiment(tiny)).run()
    }

    @Test func rhoCellsShareOneIrreducibleLossModelTrainedAndExtractedFirst() throws {
        let tiny = try TinyRun()
        let exp = try experiment(
            tiny, method: "rho: {batch_selection: {method: rho, mega_batch: 2}}", reservedRows: true,
            extra: "il_budget: 4s")
        try ExperimentRunner(exp).run()
        let losses = exp.output + "/il/il_losses.safetensors"
        #expect(FileManager.default.fileExists(atPath: losses))
        let il = try String(contentsOfFile: exp.output + "/il/metrics.jsonl", encoding: .utf8)
        #expect(il.contains("\"event\":\"end\""))
        let report = try ExperimentReport.build(exp)
        #expect(report.missingCells.isEmpty && report.cells.count == 4)
        let rho = report.tables[0].rows.first { $0.method == "rho" }!
        // Per step: 4 selection forwards at 0.5 s + 2 training micro-batches at 1 s → 6 RST s is 1.5 steps.
        #expect(
            (rho.chargedMean[.selection] ?? 0) > 0
                && rho.stepsMean < report.tables[0].rows.first { $0.method == "baseline" }!.stepsMean)
        // The IL model's budget and result are in the report, with what is (not) charged.
        let ilModel = try #require(report.irreducibleLossModel)
        #expect(ilModel.budgetSeconds == 4 && ilModel.steps == 2)
        #expect(
            report.markdown().contains(
                "RHO-loss's irreducible-loss model (one for every RHO-loss cell, in `il/`): trained for 4s RST on the "
                    + "held-out rows (2 steps"))
        for cell in exp.cells where cell.method.name == "rho" {
            let config = try String(contentsOfFile: cell.directory + "/config.json", encoding: .utf8)
            #expect(config.contains("il_losses.safetensors"))
        }
    }

    @Test func barNamesTooWideForTheirSlotAreSlantedAndTheChartGrows() {
        let plot = SVGPlot(title: "cost", xLabel: "method", yLabel: "RST (s)")
        let narrow = plot.stackedBars(categories: ["a", "b"], parts: ["training"], values: [[1], [2]])
        #expect(!narrow.contains("rotate(-30)") && narrow.contains("height=\"460\""))
        let names = ["baseline", "layer-drop", "lion", "rho-loss", "selective-backprop", "sophia", "stacking"]
        let wide = plot.stackedBars(categories: names, parts: ["training"], values: names.map { _ in [1] })
        #expect(
            wide.contains("rotate(-30)\" text-anchor=\"end\">selective-backprop<") && wide.contains("height=\"518\""))
    }

    @Test func bundledExperimentsGiveAValidConfigForEveryCell() throws {
        let folder = Fixtures.repository.appendingPathComponent("Resources/experiments").path
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".yaml") }
            .sorted()
        #expect(names == ["cpu-small.yaml", "optimizer-lr.yaml", "sophia-original-code.yaml"])
        for name in names {
            let experiment = try ExperimentConfig.load(path: folder + "/" + name)
            for cell in experiment.cells {
                let config = try PretrainingConfig.load(
                    path: experiment.baseConfig, overrides: cell.overrides(common: experiment.common))
                #expect(config.training.budget == cell.budget && config.training.seed == cell.seed)
                if cell.method.name.hasSuffix("-at-adamw-lr") { #expect(config.training.learningRate == 2e-3) }
                if cell.method.name == "lion" { #expect(config.training.learningRate == 7e-4) }
                if cell.method.name.hasPrefix("sophia") && !cell.method.name.hasSuffix("-at-adamw-lr") {
                    #expect(config.training.learningRate == 4e-4)
                    let sophia = try #require(config.optimizer.settings(Sophia.Settings.self))
                    let original = cell.method.name == "sophia-original-code"
                    #expect(config.reproduce == (original ? .originalCode : .intended))
                    #expect(sophia.hessianGradient == (original ? .lastMicroBatch : .mean))
                    #expect(sophia.hessianMicroBatches == (name == "sophia-original-code.yaml" ? 2 : 1))
                }
            }
        }
    }

    @Test func experimentFileErrorsNameTheKey() throws {
        let tiny = try TinyRun()
        func error(_ text: String) -> String {
            let p = tiny.directory + "/bad.yaml"
            try? text.write(toFile: p, atomically: true, encoding: .utf8)
            do { _ = try ExperimentConfig.load(path: p); return "no error" } catch { return "\(error)" }
        }
        #expect(
            error("base_config: tiny.yaml\nbudgets: [1m]\nmethods: {lion: {}}").contains(
                "needs a method named 'baseline'"))
        #expect(
            error("base_config: tiny.yaml\nbudgets: [-1m]\nmethods: {baseline: {}}").contains(
                "'-1m' is not a positive duration"))
        #expect(error("budgets: [1m]\nmethods: {baseline: {}}").contains("base_config: required"))
        #expect(
            error("base_config: tiny.yaml\nbudgets: [1m]\nmethods: {baseline: {}}\nparalel: 2").contains(
                "paralel: unknown key"))
        #expect(
            error("base_config: tiny.yaml\nbudgets: [1m]\nmethods: {baseline: 3}").contains(
                "methods.baseline: must be a mapping"))
    }
}
