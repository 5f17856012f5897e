import Foundation

/// The report of an experiment, computed from the stored run directories alone (so it can be
/// rebuilt at any time without rerunning): per budget and method, the final validation loss and
/// downstream score as mean ± std over seeds, the 95% confidence interval (Welch) of the
/// difference to the baseline with a mark where it excludes zero, the optimiser steps and tokens
/// each method managed within the budget, and the split of the RST into training, selection and
/// Hessian charges. Written as Markdown and JSON, with SVG plots.
public struct ExperimentReport: Codable, Sendable {
    /// Where a cell keeps its downstream reports (relative to the cell's directory).
    public static let glueReport = "evaluation-glue.json"
    public static let sniReport = "evaluation-sni/report.json"

    /// A cell's downstream score: `key` names the suite ("glue", "sni"), `name` the number, `covers`
    /// what it averages; `value` in percent.
    public struct DownstreamScore: Codable, Sendable, Equatable {
        public var key: String
        public var name: String
        public var covers: String
        public var value: Double
    }

    /// A downstream score over a method's seeds, and its difference to the baseline's.
    public struct DownstreamSummary: Codable, Sendable {
        public var key: String
        public var name: String
        public var covers: String
        public var mean: Double
        public var std: Double
        public var difference: Statistics.Difference?
    }

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
        public var downstream: [DownstreamScore]
        /// Whose behaviour the cell's run followed (`reproduce:` in its config).
        public var reproduce: Reproduce
    }

    public struct Row: Codable, Sendable {
        public var method: String
        public var seeds: Int
        public var validationLossMean: Double
        public var validationLossStd: Double
        public var validationLossDifference: Statistics.Difference?
        public var downstream: [DownstreamSummary]
        public var stepsMean: Double
        public var tokensMean: Double
        public var chargedMean: [Ledger.Kind: Double]
        public var wallSecondsMean: Double
    }

    public struct BudgetTable: Codable, Sendable {
        public var budget: String
        public var rows: [Row]
    }

    /// The irreducible-loss model RHO-loss cells shared: its budget and how its training ended.
    public struct IrreducibleLossModel: Codable, Sendable {
        public var budgetSeconds: Double
        public var steps: Int
        public var tokens: Int
        public var finalValidationLoss: Double
    }

    public var experiment: String
    public var cells: [CellResult]
    public var tables: [BudgetTable]
    public var missingCells: [String]
    /// nil when no IL model was trained (no RHO-loss cell, or each names its own losses).
    public var irreducibleLossModel: IrreducibleLossModel?

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
                let losses = c.map(\.finalValidationLoss)
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
                        downstream: summaries(c, baseline: isBaseline ? nil : baseline),
                        stepsMean: Statistics.mean(c.map { Double($0.steps) }),
                        tokensMean: Statistics.mean(c.map { Double($0.tokens) }),
                        chargedMean: charged, wallSecondsMean: Statistics.mean(c.map(\.wallSeconds))))
            }
            tables.append(BudgetTable(budget: budget.description, rows: rows))
        }
        let ilLog = experiment.irreducibleLossDirectory + "/metrics.jsonl"
        let ilEnd = FileManager.default.fileExists(atPath: ilLog) ? try MetricsLog.read(ilLog).end : nil
        let il = ilEnd.map {
            IrreducibleLossModel(
                budgetSeconds: experiment.irreducibleLossBudget.seconds, steps: $0.step, tokens: $0.tokens,
                finalValidationLoss: $0.finalValidationLoss)
        }
        return ExperimentReport(
            experiment: experiment.name, cells: cells, tables: tables, missingCells: missing, irreducibleLossModel: il)
    }

    /// Each downstream score of `cells` (one method's seeds) as mean ± std, with the difference to
    /// `baseline`'s cells (none for the baseline itself).
    static func summaries(_ cells: [CellResult], baseline: [CellResult]?) -> [DownstreamSummary] {
        var keys: [String] = []
        for c in cells { for d in c.downstream where !keys.contains(d.key) { keys.append(d.key) } }
        return keys.map { key in
            let scores = cells.compactMap { $0.downstream.first { $0.key == key } }
            let values = scores.map(\.value)
            let base = baseline?.compactMap { $0.downstream.first { $0.key == key }?.value } ?? []
            return DownstreamSummary(
                key: key, name: scores[0].name, covers: scores[0].covers, mean: Statistics.mean(values),
                std: Statistics.standardDeviation(values),
                difference: baseline == nil || base.isEmpty ? nil : Statistics.welchInterval(values, base))
        }
    }

    /// The downstream scores stored in a cell's directory: the GLUE average (else the first average
    /// of the report) and SNI's overall ROUGE-L.
    static func downstream(_ directory: String) throws -> [DownstreamScore] {
        var out: [DownstreamScore] = []
        let glue = directory + "/" + glueReport
        if FileManager.default.fileExists(atPath: glue) {
            let report = try JSONCoding.read(EvaluationReport.self, from: glue, what: "an evaluation report")
            if let (name, average) = report.averages["glue"].map({ ("glue", $0) }) ?? report.averages.first {
                out.append(
                    DownstreamScore(
                        key: "glue", name: scoreName(name, covers: average.covers),
                        covers: coverage(report, average), value: 100 * average.value))
            }
        }
        let sni = directory + "/" + sniReport
        if FileManager.default.fileExists(atPath: sni) {
            let report = try JSONCoding.read(SNIReport.self, from: sni, what: "an SNI report")
            out.append(
                DownstreamScore(key: "sni", name: "SNI ROUGE-L", covers: report.covers, value: report.overall.rougeL))
        }
        return out
    }

    /// The name of an average over `covers`: "GLUE average" only over every GLUE number (MNLI
    /// matched and mismatched included), else what it is ("SST-2", "GLUE subset average").
    static func scoreName(_ average: String, covers: [String]) -> String {
        if covers.count == 1 { return covers[0] }
        guard average == "glue" else { return average }
        return covers.count == GLUE.scored.count + 1 ? "GLUE average" : "GLUE subset average"
    }

    /// What an average was fine-tuned on, per task ("CoLA: 8551 training examples, 1 epoch, 2 seeds,
    /// mcc; SST-2: …"); without the task's name when it is the only one (the score is named for it).
    static func coverage(_ report: EvaluationReport, _ average: EvaluationReport.Average) -> String {
        let tasks = report.tasks.filter { t in average.covers.contains { $0 == t.task || $0.hasPrefix(t.task + "-") } }
        return tasks.map { t in
            let examples = t.runs.first?.trainExamples ?? 0, epochs = report.recipe[t.suite.rawValue]?.epochs ?? 0
            return (tasks.count == 1 ? "" : "\(t.task): ")
                + "\(examples) training examples, \(epochs) epoch\(epochs == 1 ? "" : "s"), "
                + "\(t.runs.count) seed\(t.runs.count == 1 ? "" : "s"), \(t.metric)"
        }.joined(separator: "; ")
    }

    /// A finished cell's figures, or nil.
    static func read(_ cell: ExperimentCell) throws -> CellResult? {
        guard FileManager.default.fileExists(atPath: cell.directory + "/metrics.jsonl") else { return nil }
        let log = try MetricsLog.read(cell.directory + "/metrics.jsonl")
        guard let end = log.end else { return nil }
        return CellResult(
            method: cell.method.name, budgetSeconds: cell.budget.seconds, seed: cell.seed,
            finalValidationLoss: end.finalValidationLoss,
            validations: log.validations.map { [$0.rstSeconds, $0.loss] },
            steps: end.step, tokens: end.tokens, charged: end.ledger.entries.mapValues(\.charged.seconds),
            wallSeconds: end.wallSeconds, downstream: try downstream(cell.directory),
            reproduce: log.lazy.compactMap { if case .start(let s) = $0 { s.reproduce } else { nil } }.first
                ?? .intended)
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
            "# Experiment \(experiment)\n\nFinal validation loss (the pre-training objective's cross-entropy, lower is "
            + "better) and downstream scores (higher is better) as mean ± std over seeds; Δ is the difference to the "
            + "baseline with its 95% confidence interval (Welch), * where the interval excludes 0. Steps and tokens "
            + "are what each method fitted into the same RST budget; RST charged is split into training / selection "
            + "/ Hessian / skipped (steps dropped for a non-finite loss).\n"
        for t in tables {
            var scores: [DownstreamSummary] = []
            for r in t.rows {
                for d in r.downstream where !scores.contains(where: { $0.key == d.key }) { scores.append(d) }
            }
            let kinds = Ledger.Kind.allCases.map(\.shortName).joined(separator: " / ")
            s += "\n## Budget \(t.budget) RST\n\n"
            for d in scores { s += "\(d.name): \(d.covers).\n" }
            if !scores.isEmpty { s += "\n" }
            s += "| method | seeds | val. loss | Δ loss vs baseline | "
            s += scores.map { "\($0.name) | Δ \($0.name) | " }.joined()
            s +=
                "steps | tokens | RST \(kinds) (s) |\n|" + String(repeating: "---|", count: 7 + 2 * scores.count) + "\n"
            for r in t.rows {
                let split = Ledger.Kind.allCases.map { String(format: "%.1f", r.chargedMean[$0] ?? 0) }
                    .joined(separator: " / ")
                s +=
                    "| \(r.method) | \(r.seeds) | "
                    + "\(String(format: "%.4f ± %.4f", r.validationLossMean, r.validationLossStd)) | "
                    + "\(ExperimentReport.signed(r.validationLossDifference)) | "
                for score in scores {
                    guard let d = r.downstream.first(where: { $0.key == score.key }) else { s += "— | — | "; continue }
                    s +=
                        String(format: "%.2f ± %.2f", d.mean, d.std) + " | "
                        + ExperimentReport.signed(d.difference, digits: 2) + " | "
                }
                s += "\(Int(r.stepsMean.rounded())) | \(Int(r.tokensMean.rounded())) | \(split) |\n"
            }
        }
        let original = cells.filter { $0.reproduce == .originalCode }.map(\.method)
            .reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        s +=
            "\nMode: "
            + (original.isEmpty
                ? "every cell ran the intended methods (`reproduce: intended`).\n"
                : "`reproduce: original-code` (the original code's quirks, README) for "
                    + "\(original.joined(separator: ", ")); `intended` for the rest.\n")
        if let il = irreducibleLossModel {
            s +=
                "\nRHO-loss's irreducible-loss model (one for every RHO-loss cell, in `il/`): trained for "
                + "\(RST(seconds: il.budgetSeconds)) RST on the held-out rows (\(il.steps) steps, \(il.tokens) "
                + "tokens, final validation loss \(String(format: "%.4f", il.finalValidationLoss))). As in the paper, "
                + "neither its training nor the pass that extracts its losses is charged to the cells' budgets.\n"
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
                    yLabel: "validation loss (pre-training objective)"
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
        let scores = tables.flatMap { $0.rows.flatMap(\.downstream) }
        for key in scores.map(\.key).reduce(into: [String](), { if !$0.contains($1) { $0.append($1) } }) {
            let name = scores.first { $0.key == key }!.name
            var series: [SVGPlot.Series] = []
            for method in methods {
                var points: [(x: Double, y: Double)] = [], band: [(lower: Double, upper: Double)] = []
                for t in tables {
                    guard let r = t.rows.first(where: { $0.method == method }),
                        let d = r.downstream.first(where: { $0.key == key })
                    else { continue }
                    points.append((x: (RST(parsing: t.budget)?.seconds ?? 0) / 60, y: d.mean))
                    band.append((lower: d.mean - d.std, upper: d.mean + d.std))
                }
                if !points.isEmpty { series.append(.init(name: method, points: points, band: band)) }
            }
            let path = directory + "/\(key)-vs-budget.svg"
            try SVGPlot.write(
                SVGPlot(
                    title: "\(name) vs budget", xLabel: "budget (RST minutes)",
                    yLabel: "\(name) (mean ± std over seeds)"
                )
                .lines(series), to: path)
            plots.append(path)
        }
        return plots
    }
}
