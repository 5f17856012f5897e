import Foundation

/// The GLUE tasks in the original TSV layout (`glue_data/<TASK>/{train,dev}.tsv`), with the
/// paper's metrics (paper §4.1). The GLUE score is the mean of 9 numbers: QQP F1, QNLI accuracy,
/// MRPC F1, MNLI-m and MNLI-mm accuracy, STS-B Pearson, SST-2 accuracy, RTE accuracy and CoLA
/// MCC. WNLI is readable but excluded, as in the paper.
public enum GLUE {
    public static let tasks: [DownstreamTask] = [cola, sst2, mrpc, stsb, qqp, mnli, qnli, rte, wnli]
    /// Tasks in the average (all but WNLI).
    public static let scored = ["CoLA", "SST-2", "MRPC", "STS-B", "QQP", "MNLI", "QNLI", "RTE"]

    /// Reads a headed TSV: `columns` name the text and label columns; `labels` maps label strings to
    /// classes (nil: the label is a number).
    static func reader(
        _ a: String, _ b: String?, label: String, labels: [String]? = nil
    ) -> @Sendable (String) throws -> [TaskExample] {
        { path in
            let rows = try tsvRows(path)
            guard let header = rows.first else { throw InputError(path, "empty file") }
            func column(_ name: String) throws -> Int {
                guard let i = header.firstIndex(of: name) else {
                    throw InputError(path, "no column '\(name)' in the header")
                }
                return i
            }
            let ia = try column(a), ib = try b.map(column), il = try column(label)
            return try rows.dropFirst().enumerated().map { n, row in
                guard row.count > max(ia, ib ?? 0, il) else {
                    throw InputError(path, "line \(n + 2): \(row.count) columns")
                }
                let value: Double
                if let labels {
                    guard let k = labels.firstIndex(of: row[il]) else {
                        throw InputError(path, "line \(n + 2): unknown label '\(row[il])'")
                    }
                    value = Double(k)
                } else {
                    guard let v = Double(row[il]) else {
                        throw InputError(path, "line \(n + 2): label '\(row[il])' is not a number")
                    }
                    value = v
                }
                return TaskExample(row[ia], ib.map { row[$0] }, label: value)
            }
        }
    }

    /// CoLA's files have no header: source, label, original label, sentence.
    public static let cola = DownstreamTask(
        name: "CoLA", suite: .glue, labels: 2, folder: "CoLA", trainFile: "train.tsv", devFiles: [("dev", "dev.tsv")],
        primaryMetric: "mcc",
        read: { path in
            try tsvRows(path).enumerated().map { n, row in
                guard row.count >= 4, let l = Double(row[1]) else {
                    throw InputError(path, "line \(n + 1): expected 4 columns with a 0/1 label")
                }
                return TaskExample(row[3], label: l)
            }
        },
        scoreFunction: { o, e in
            [
                "mcc": Metrics.matthewsCorrelation(DownstreamTask.classes(o), DownstreamTask.gold(e)),
                "accuracy": Metrics.accuracy(DownstreamTask.classes(o), DownstreamTask.gold(e)),
            ]
        })

    public static let sst2 = DownstreamTask(
        name: "SST-2", suite: .glue, labels: 2, folder: "SST-2", trainFile: "train.tsv",
        devFiles: [("dev", "dev.tsv")], primaryMetric: "accuracy",
        read: reader("sentence", nil, label: "label"), scoreFunction: DownstreamTask.accuracyOnly)

    public static let mrpc = DownstreamTask(
        name: "MRPC", suite: .glue, labels: 2, folder: "MRPC", trainFile: "train.tsv",
        devFiles: [("dev", "dev.tsv")], primaryMetric: "f1",
        read: reader("#1 String", "#2 String", label: "Quality"), scoreFunction: DownstreamTask.accuracyAndF1)

    public static let stsb = DownstreamTask(
        name: "STS-B", suite: .glue, labels: 1, folder: "STS-B", trainFile: "train.tsv", devFiles: [("dev", "dev.tsv")],
        primaryMetric: "pearson", read: reader("sentence1", "sentence2", label: "score"),
        scoreFunction: { o, e in
            ["pearson": Metrics.pearson(o, e.map(\.label)), "spearman": Metrics.spearman(o, e.map(\.label))]
        })

    public static let qqp = DownstreamTask(
        name: "QQP", suite: .glue, labels: 2, folder: "QQP", trainFile: "train.tsv",
        devFiles: [("dev", "dev.tsv")], primaryMetric: "f1",
        read: reader("question1", "question2", label: "is_duplicate"),
        scoreFunction: DownstreamTask.accuracyAndF1)

    /// MNLI: matched and mismatched dev sets; the mismatched score is taken once, after the last epoch.
    public static let mnli = DownstreamTask(
        name: "MNLI", suite: .glue, labels: 3, folder: "MNLI", trainFile: "train.tsv",
        devFiles: [("matched", "dev_matched.tsv"), ("mismatched", "dev_mismatched.tsv")],
        primaryMetric: "accuracy",
        read: reader(
            "sentence1", "sentence2", label: "gold_label", labels: ["entailment", "neutral", "contradiction"]),
        scoreFunction: DownstreamTask.accuracyOnly)

    public static let qnli = DownstreamTask(
        name: "QNLI", suite: .glue, labels: 2, folder: "QNLI", trainFile: "train.tsv",
        devFiles: [("dev", "dev.tsv")], primaryMetric: "accuracy",
        read: reader("question", "sentence", label: "label", labels: ["entailment", "not_entailment"]),
        scoreFunction: DownstreamTask.accuracyOnly)

    public static let rte = DownstreamTask(
        name: "RTE", suite: .glue, labels: 2, folder: "RTE", trainFile: "train.tsv",
        devFiles: [("dev", "dev.tsv")], primaryMetric: "accuracy",
        read: reader("sentence1", "sentence2", label: "label", labels: ["entailment", "not_entailment"]),
        scoreFunction: DownstreamTask.accuracyOnly)

    public static let wnli = DownstreamTask(
        name: "WNLI", suite: .glue, labels: 2, folder: "WNLI", trainFile: "train.tsv",
        devFiles: [("dev", "dev.tsv")], primaryMetric: "accuracy",
        read: reader("sentence1", "sentence2", label: "label"), scoreFunction: DownstreamTask.accuracyOnly)
}
