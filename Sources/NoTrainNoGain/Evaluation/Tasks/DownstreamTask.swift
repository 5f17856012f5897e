import Foundation

/// One labelled example of a downstream task: one or two texts and a label (a class index, or a
/// score for regression). `group` ties MultiRC's answer options to their question.
public struct TaskExample: Sendable, Equatable {
    public var textA: String
    public var textB: String?
    public var label: Double
    public var group: Int?

    public init(_ a: String, _ b: String? = nil, label: Double, group: Int? = nil) {
        textA = a
        textB = b
        self.label = label
        self.group = group
    }
}

/// A fine-tuning task of GLUE or SuperGLUE: where its files are, how to read them, how many
/// outputs its head has, and how predictions are scored (the original code's `bert/eval.py`).
public struct DownstreamTask: Sendable {
    public enum Suite: String, Sendable, Codable { case glue, superglue }

    public let name: String
    public let suite: Suite
    /// 1 for regression (STS-B), else the number of classes.
    public let labels: Int
    /// Folder under the suite's data directory.
    public let folder: String
    public let trainFile: String
    /// Evaluation splits: name → file. MNLI has matched and mismatched.
    public let devFiles: [(String, String)]
    /// The metric the task contributes to the suite's average, and the others reported.
    public let primaryMetric: String
    let read: @Sendable (String) throws -> [TaskExample]
    let scoreFunction: @Sendable ([Double], [TaskExample]) -> [String: Double]

    public var isRegression: Bool { labels == 1 }

    public func trainPath(_ dataDirectory: String) -> String { "\(dataDirectory)/\(folder)/\(trainFile)" }

    public func readTrain(_ dataDirectory: String) throws -> [TaskExample] { try read(trainPath(dataDirectory)) }

    public func readDev(_ dataDirectory: String) throws -> [(String, [TaskExample])] {
        try devFiles.map { ($0.0, try read("\(dataDirectory)/\(folder)/\($0.1)")) }
    }

    /// Metrics of raw outputs (a score for regression, else the predicted class) against the examples.
    public func score(_ outputs: [Double], _ examples: [TaskExample]) -> [String: Double] {
        scoreFunction(outputs, examples)
    }

    /// The same task reading at most `n` training examples (the first n; for quick checks).
    public func limitingTraining(to n: Int) -> DownstreamTask {
        let read = self.read, trainFile = self.trainFile
        return DownstreamTask(
            name: name, suite: suite, labels: labels, folder: folder, trainFile: trainFile, devFiles: devFiles,
            primaryMetric: primaryMetric,
            read: { path in
                let all = try read(path)
                return path.hasSuffix("/" + trainFile) ? Array(all.prefix(n)) : all
            }, scoreFunction: scoreFunction)
    }

    /// The files this task needs that are missing under `dataDirectory`.
    public func missingFiles(_ dataDirectory: String) -> [String] {
        ([trainPath(dataDirectory)] + devFiles.map { "\(dataDirectory)/\(folder)/\($0.1)" })
            .filter { !FileManager.default.fileExists(atPath: $0) }
    }
}

// MARK: Scoring helpers

extension DownstreamTask {
    static func classes(_ outputs: [Double]) -> [Int] { outputs.map { Int($0) } }
    static func gold(_ examples: [TaskExample]) -> [Int] { examples.map { Int($0.label) } }

    static let accuracyOnly: @Sendable ([Double], [TaskExample]) -> [String: Double] = { o, e in
        ["accuracy": Metrics.accuracy(classes(o), gold(e))]
    }
    static let accuracyAndF1: @Sendable ([Double], [TaskExample]) -> [String: Double] = { o, e in
        ["accuracy": Metrics.accuracy(classes(o), gold(e)), "f1": Metrics.f1(classes(o), gold(e))]
    }
}

// MARK: File reading

/// Lines of a TSV file split on tabs (GLUE files are unquoted); a UTF-8 BOM is dropped.
func tsvRows(_ path: String) throws -> [[String]] {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw InputError(path, "cannot read the file")
    }
    var text = String(decoding: data, as: UTF8.self)
    if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
    return text.split(separator: "\n", omittingEmptySubsequences: true).map { line in
        line.split(separator: "\t", omittingEmptySubsequences: false).map {
            String($0).trimmingCharacters(in: .init(charactersIn: "\r"))
        }
    }
}

/// Objects of a JSONL file.
func jsonLines(_ path: String) throws -> [[String: Any]] {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw InputError(path, "cannot read the file")
    }
    var out: [[String: Any]] = []
    for (n, line) in data.split(separator: UInt8(ascii: "\n")).enumerated()
    where !line.allSatisfy({ $0 == 32 || $0 == 13 }) {
        guard let o = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
            throw InputError(path, "line \(n + 1): not a JSON object")
        }
        out.append(o)
    }
    return out
}
