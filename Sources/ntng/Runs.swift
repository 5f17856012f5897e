import ArgumentParser
import Foundation
import NoTrainNoGain

/// `ntng runs`: one line per run under a folder.
struct Runs: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "List the runs under a folder: model, optimiser and methods, budget used, last validation loss, status.",
        discussion: """
            Every folder with a metrics.jsonl below <folder> is a run. Status: running (a process holds the run's \
            lock), finished (its log has the end line) or interrupted (neither; `ntng pretrain --resume` continues \
            it). The loss is the final validation loss of a finished run, else the last one logged.
            """)

    @Argument(help: "Folder to search (default: runs).", completion: .directory) var folder = "runs"
    @Flag(help: "Print one JSON object per run instead of the table.") var json = false

    func run() throws {
        let folder = self.folder.hasSuffix("/") && self.folder.count > 1 ? String(self.folder.dropLast()) : self.folder
        let runs = try RunRecord.find(under: folder).map { try RunRecord(directory: $0).overview }
        if json {
            for r in runs { print(String(decoding: try JSONCoding.encoder(pretty: false).encode(r), as: UTF8.self)) }
            return
        }
        guard !runs.isEmpty else {
            stderrLine("no runs under \(folder) (no metrics.jsonl found)")
            return
        }
        let header = ["run", "model", "optimizer", "methods", "RST used / budget", "val. loss", "status"]
        let rows = runs.map { r in
            [
                r.run, r.model, r.optimizer, r.methods.isEmpty ? "—" : r.methods.joined(separator: ", "),
                "\(seconds(r.usedRstSeconds)) / \(seconds(r.budgetRstSeconds))",
                r.validationLoss.map { String(format: "%.4f", $0) } ?? "—", r.status.rawValue,
            ]
        }
        let widths = header.indices.map { c in ([header] + rows).map { $0[c].count }.max() ?? 0 }
        for row in [header] + rows {
            print(
                zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
                    .trimmingCharacters(in: .whitespaces))
        }
    }

    func seconds(_ s: Double) -> String { format(RST(seconds: s)) }
}
