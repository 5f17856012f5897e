import Foundation

/// The report of an experiment, computed from the stored run directories alone (so it can be
/// rebuilt at any time without rerunning): per budget and method, the final validation loss and
/// downstream score as mean ± std over seeds, the 95% confidence interval (Welch) of the
/// difference to the baseline with a mark where it excludes zero, the optimiser steps and tokens
/// each method managed within the budget, and the split of the RST into training, selection and
/// Hessian charges. Written as Markdown and JSON, with SVG plots.
public struct ExperimentReport: Codable, Sendable {
    public struct CellResult: Codable, Sendable {
        public var method: String
        public var budgetSeconds: Double
        public var seed: UInt64
        public var finalValidationLoss: Double
        /// (RST seconds, validation loss).
        public var validations: [[Double]]
        public var steps: Int
        public var tokens: Int
        /// Charged RST seconds by ledger kind.
        public var charged: [Ledger.Kind: Double]
        public var wallSeconds: Double
        public var glue: Double?
    }

    public struct Row: Codable, Sendable {
        public var method: String
        public var seeds: Int
        public var validationLossMean: Double
        public var validationLossStd: Double
        public var validationLossDifference: Statistics.Difference?
        public var glueMean: Double?
        public var glueStd: Double?
        public var glueDifference: Statistics.Difference?
        public var stepsMean: Double
        public var tokensMean: Double
        public var chargedMean: [Ledger.Kind: Double]
        public var wallSecondsMean: Double
    }

    public struct BudgetTable: Codable, Sendable {
        public var budget: String
        public var rows: [Row]
    }

    public var experiment: String
    public var cells: [CellResult]
    public var tables: [BudgetTable]
    public var missingCells: [String]

    /// Reads every finished cell of `experiment`.
    public static func build(_ experiment: ExperimentConfig) throws -> ExperimentReport {
        var cells: [CellResult] = [], missing: [String] = []
        for cell in experiment.cells {
            guard let result = try read(cell) else { missing.append(cell.label); continue }
            cells.append(result)
        }
        var tables: [BudgetTable] = []
        for budget in experiment.budgets {
            let atBudget = cells.filter { $0.budgetSeconds == budget.seconds }
            let baseline = atBudget.filter { $0.method == ExperimentConfig.baselineName }
            var rows: [Row] = []
            for method in experiment.methods.map(\.name) {
                let c = atBudget.filter { $0.method == method }
                guard !c.isEmpty else { continue }
                let losses = c.map(\.finalValidationLoss), glue = c.compactMap(\.glue)
                let isBaseline = method == ExperimentConfig.baselineName
                var charged: [Ledger.Kind: Double] = [:]
                for kind in Set(c.flatMap { $0.charged.keys }) {
                    charged[kind] = Statistics.mean(c.map { $0.charged[kind] ?? 0 })
                }
                rows.append(
                    Row(
                        method: method, seeds: c.count, validationLossMean: Statistics.mean(losses),
                        validationLossStd: Statistics.standardDeviation(losses),
                        validationLossDifference: isBaseline
                            ? nil : Statistics.welchInterval(losses, baseline.map(\.finalValidationLoss)),
                        glueMean: glue.isEmpty ? nil : Statistics.mean(glue),
                        glueStd: glue.isEmpty ? nil : Statistics.standardDeviation(glue),
                        glueDifference: isBaseline || glue.isEmpty
                            ? nil : Statistics.welchInterval(glue, baseline.compactMap(\.glue)),
                        stepsMean: Statistics.mean(c.map { Double($0.steps) }),
                        tokensMean: Statistics.mean(c.map { Double($0.tokens) }),
                        chargedMean: charged, wallSecondsMean: Statistics.mean(c.map(\.wallSeconds))))
            }
            tables.append(BudgetTable(budget: budget.description, rows: rows))
        }
        return ExperimentReport(experiment: experiment.name, cells: cells, tables: tables, missingCells: missing)
    }

    /// A finished cell's figures, or nil.
    static func read(_ cell: ExperimentCell) throws -> CellResult? {
        guard FileManager.default.fileExists(atPath: cell.directory + "/metrics.jsonl") else { return nil }
        let log = try MetricsLog.read(cell.directory + "/metrics.jsonl")
        guard let end = log.end else { return nil }
        var glue: Double?
        let evaluation = cell.directory + "/evaluation-glue.json"
        if FileManager.default.fileExists(atPath: evaluation) {
            let report = try JSONCoding.read(EvaluationReport.self, from: evaluation, what: "an evaluation report")
            glue = report.averages["glue"]?.value ?? report.averages.values.first?.value
        }
        return CellResult(
            method: cell.method.name, budgetSeconds: cell.budget.seconds, seed: cell.seed,
            finalValidationLoss: end.finalValidationLoss,
            validations: log.validations.map { [$0.rstSeconds, $0.loss] },
            steps: end.step, tokens: end.tokens, charged: end.ledger.entries.mapValues(\.charged.seconds),
            wallSeconds: end.wallSeconds, glue: glue)
    }

    static func signed(_ d: Statistics.Difference?, scale: Double = 1, digits: Int = 3) -> String {
        guard let d else { return "—" }
        let f = "%+.\(digits)f"
        return String(
            format: "\(f) [\(f), \(f)]%@", d.estimate * scale, d.lower * scale, d.upper * scale,
            d.significant ? " *" : "")
    }

    public func markdown() -> String {
        var s =
            "# Experiment \(experiment)\n\nFinal validation loss (masked-LM, lower is better) and GLUE average "
            + "(higher is better) as mean ± std over seeds; Δ is the difference to the baseline with its 95% "
            + "confidence interval (Welch), * where the interval excludes 0. Steps and tokens are what each method "
            + "fitted into the same RST budget; RST charged is split into training / selection / Hessian / "
            + "skipped (steps dropped for a non-finite loss).\n"
        for t in tables {
            s +=
                "\n## Budget \(t.budget) RST\n\n| method | seeds | val. loss | Δ loss vs baseline | GLUE | Δ GLUE "
                + "| steps | tokens | RST \(Ledger.Kind.allCases.map(\.shortName).joined(separator: " / ")) (s) |\n"
            s += "|---|---|---|---|---|---|---|---|---|\n"
            for r in t.rows {
                let glue = r.glueMean.map { String(format: "%.2f ± %.2f", 100 * $0, 100 * (r.glueStd ?? 0)) } ?? "—"
                let split = Ledger.Kind.allCases.map { String(format: "%.1f", r.chargedMean[$0] ?? 0) }
                    .joined(separator: " / ")
                s +=
                    "| \(r.method) | \(r.seeds) | "
                    + "\(String(format: "%.4f ± %.4f", r.validationLossMean, r.validationLossStd)) | "
                    + "\(ExperimentReport.signed(r.validationLossDifference)) | \(glue) | "
                    + "\(ExperimentReport.signed(r.glueDifference, scale: 100, digits: 2)) | "
                    + "\(Int(r.stepsMean.rounded())) | \(Int(r.tokensMean.rounded())) | \(split) |\n"
            }
        }
        if !missingCells.isEmpty { s += "\nNot finished: \(missingCells.joined(separator: ", ")).\n" }
        return s
    }

    /// Writes report.md, report.json and the SVG (and PNG) plots into `directory`; returns the plot paths.
    @discardableResult
    public func write(to directory: String, methods: [String]) throws -> [String] {
        try OwnedFolder(directory, kind: .experiment).open()
        try markdown().write(toFile: directory + "/report.md", atomically: true, encoding: .utf8)
        try JSONCoding.write(self, to: directory + "/report.json")
        var plots: [String] = []
        for t in tables {
            let budgetSeconds = RST(parsing: t.budget)?.seconds ?? 0
            var series: [SVGPlot.Series] = []
            for method in methods {
                let curves = cells.filter { $0.method == method && $0.budgetSeconds == budgetSeconds }.map(
                    \.validations)
                guard let first = curves.first, !first.isEmpty else { continue }
                let n = curves.map(\.count).min()!
                let points = (0..<n).map { i in (x: first[i][0] / 60, y: Statistics.mean(curves.map { $0[i][1] })) }
                let band = (0..<n).map { i in
                    (lower: curves.map { $0[i][1] }.min()!, upper: curves.map { $0[i][1] }.max()!)
                }
                series.append(.init(name: method, points: points, band: band))
            }
            let path = directory + "/validation-loss-\(t.budget).svg"
            try SVGPlot.write(
                SVGPlot(
                    title: "Validation loss vs RST, budget \(t.budget)", xLabel: "RST consumed (minutes)",
                    yLabel: "validation loss (masked-LM cross-entropy)"
                ).lines(series), to: path)
            plots.append(path)
            let kinds = Ledger.Kind.allCases
            let split = SVGPlot(
                title: "RST charged by purpose, budget \(t.budget)", xLabel: "method", yLabel: "RST charged (seconds)"
            )
            .stackedBars(
                categories: t.rows.map(\.method), parts: kinds.map(\.rawValue),
                values: t.rows.map { r in kinds.map { r.chargedMean[$0] ?? 0 } })
            let splitPath = directory + "/cost-split-\(t.budget).svg"
            try SVGPlot.write(split, to: splitPath)
            plots.append(splitPath)
        }
        if cells.contains(where: { $0.glue != nil }) {
            var series: [SVGPlot.Series] = []
            for method in methods {
                let points = tables.compactMap { t -> (x: Double, y: Double)? in
                    guard let r = t.rows.first(where: { $0.method == method }), let g = r.glueMean else { return nil }
                    return (x: (RST(parsing: t.budget)?.seconds ?? 0) / 60, y: 100 * g)
                }
                let band = tables.compactMap { t -> (lower: Double, upper: Double)? in
                    guard let r = t.rows.first(where: { $0.method == method }), let g = r.glueMean else { return nil }
                    return (lower: 100 * (g - (r.glueStd ?? 0)), upper: 100 * (g + (r.glueStd ?? 0)))
                }
                if !points.isEmpty { series.append(.init(name: method, points: points, band: band)) }
            }
            let path = directory + "/glue-vs-budget.svg"
            try SVGPlot.write(
                SVGPlot(
                    title: "GLUE average vs budget", xLabel: "budget (RST minutes)",
                    yLabel: "GLUE average (mean ± std over seeds)"
                )
                .lines(series), to: path)
            plots.append(path)
        }
        return plots
    }
}
