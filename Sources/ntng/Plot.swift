import ArgumentParser
import Foundation
import NoTrainNoGain

extension RunRecord.Metric: ExpressibleByArgument {}
extension RunRecord.Axis: ExpressibleByArgument {}

/// `ntng plot`: runs side by side.
struct Plot: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Draw a metric of several runs side by side (SVG, and PNG when rsvg-convert is installed).",
        discussion: """
            Reads each run's metrics.jsonl; the legend names each run (its config's name) and its optimiser and \
            methods. With --x rst (the default) runs of different methods line up on the budget, as the paper \
            plots them. Example: ntng plot --runs runs/demo runs/demo-stacking --output docs/demo-vs-stacking.svg
            """)

    @Option(
        name: .customLong("runs"), parsing: .upToNextOption, help: "Run folders (one or more).", completion: .directory)
    var runDirectories: [String]
    @Option(help: "\(RunRecord.Metric.allCases.map(\.rawValue).joined(separator: ", ")).")
    var metric = RunRecord.Metric.validationLoss
    @Option(name: .customLong("x"), help: "x axis: rst (RST seconds), step or tokens.") var axis = RunRecord.Axis.rst
    @Option(
        help: "SVG file to write (a PNG beside it when rsvg-convert is installed).",
        completion: .file(extensions: ["svg"]))
    var output = "plot.svg"

    func validate() throws {
        guard !runDirectories.isEmpty else { throw ValidationError("--runs needs at least one run folder") }
        guard output.hasSuffix(".svg") else { throw ValidationError("--output must name an .svg file: \(output)") }
    }

    func run() throws {
        let runs = try runDirectories.map { try RunRecord(directory: $0) }
        for run in runs where run.curve(metric, x: axis).isEmpty {
            stderrLine("note: \(run.directory) has no \(metric.rawValue) points yet")
        }
        let folder = URL(fileURLWithPath: output).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let files = try SVGPlot.write(RunRecord.plot(runs, metric: metric, x: axis), to: output)
        stderrLine("plot: \(files.joined(separator: ", "))")
    }
}
