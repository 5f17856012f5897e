import Foundation

/// The SuperGLUE tasks in their JSONL layout (`<Task>/{train,val}.jsonl`), with the paper's metrics
/// (the original code's `config/eval/SuperGLUE.yaml`). Tasks with more than two text fields use
/// all of them (COPA, MultiRC, WiC, WSC):
///
/// | task | text A | text B |
/// |---|---|---|
/// | COPA | premise + "What was the cause?" / "What happened as a result?" | "1: choice1 2: choice2" |
/// | MultiRC | passage | question + answer option |
/// | WiC | word + ": " + sentence 1 | sentence 2 |
/// | WSC | text | "<pronoun> refers to <noun>" |
///
/// The original code passed the fields to the tokenizer positionally, which kept only the first two
/// (`tokenizer(*fields)` treats a third and fourth as targets); `keepFirstTwoFieldsOnly` reproduces
/// that with the fields in the order of its task configs (`config/eval/tasks/*.yaml`, `structure`):
/// COPA (premise, choice1), MultiRC (paragraph, question), WiC (word, sentence1), WSC (text,
/// span1_text). Two averages are reported: the code's (BoolQ acc, CB F1, COPA acc, MultiRC F1a, RTE
/// acc, WiC acc, WSC acc) and the paper's (the same without MultiRC).
public enum SuperGLUE {
    public static let codeAverage = ["BoolQ", "CB", "COPA", "MultiRC", "RTE", "WiC", "WSC"]
    public static let paperAverage = ["BoolQ", "CB", "COPA", "RTE", "WiC", "WSC"]

    public static func tasks(keepFirstTwoFieldsOnly quirk: Bool = false) -> [DownstreamTask] {
        [boolq, cb, copa(quirk), multirc(quirk), rte, wic(quirk), wsc(quirk)]
    }

    static func task(
        _ name: String, labels: Int, primary: String, read: @escaping @Sendable (String) throws -> [TaskExample],
        score: @escaping @Sendable ([Double], [TaskExample]) -> [String: Double] = DownstreamTask.accuracyOnly
    ) -> DownstreamTask {
        DownstreamTask(
            name: name, suite: .superglue, labels: labels, folder: name, trainFile: "train.jsonl",
            devFiles: [("val", "val.jsonl")], primaryMetric: primary, read: read, scoreFunction: score)
    }

    static func string(_ o: [String: Any], _ key: String, _ path: String, _ n: Int) throws -> String {
        guard let s = o[key] as? String else { throw InputError(path, "line \(n + 1): no text field '\(key)'") }
        return s
    }

    /// A label given as a bool, an int, or one of `names`.
    static func label(_ o: [String: Any], _ path: String, _ n: Int, names: [String] = []) throws -> Double {
        if let b = o["label"] as? Bool { return b ? 1 : 0 }
        if let i = o["label"] as? Int { return Double(i) }
        if let s = o["label"] as? String, let k = names.firstIndex(of: s) { return Double(k) }
        throw InputError(path, "line \(n + 1): missing or unknown label \(o["label"].map { "\($0)" } ?? "")")
    }

    static func pairs(_ a: String, _ b: String, names: [String] = []) -> @Sendable (String) throws -> [TaskExample] {
        { path in
            try jsonLines(path).enumerated().map { n, o in
                TaskExample(
                    try string(o, a, path, n), try string(o, b, path, n), label: try label(o, path, n, names: names))
            }
        }
    }

    public static let boolq = task("BoolQ", labels: 2, primary: "accuracy", read: pairs("question", "passage"))

    public static let cb = task(
        "CB", labels: 3, primary: "f1",
        read: pairs("premise", "hypothesis", names: ["entailment", "contradiction", "neutral"]),
        score: { o, e in
            [
                "f1": Metrics.macroF1(DownstreamTask.classes(o), DownstreamTask.gold(e), classes: 3),
                "accuracy": Metrics.accuracy(DownstreamTask.classes(o), DownstreamTask.gold(e)),
            ]
        })

    public static let rte = task(
        "RTE", labels: 2, primary: "accuracy",
        read: pairs("premise", "hypothesis", names: ["entailment", "not_entailment"]))

    static func copa(_ quirk: Bool) -> DownstreamTask {
        task(
            "COPA", labels: 2, primary: "accuracy",
            read: { path in
                try jsonLines(path).enumerated().map { n, o in
                    let premise = try string(o, "premise", path, n), c1 = try string(o, "choice1", path, n)
                    let c2 = try string(o, "choice2", path, n), question = try string(o, "question", path, n)
                    if quirk { return TaskExample(premise, c1, label: try label(o, path, n)) }
                    let ask = question == "cause" ? "What was the cause?" : "What happened as a result?"
                    return TaskExample("\(premise) \(ask)", "1: \(c1) 2: \(c2)", label: try label(o, path, n))
                }
            })
    }

    /// One example per answer option; `group` numbers the questions for exact match.
    static func multirc(_ quirk: Bool) -> DownstreamTask {
        task(
            "MultiRC", labels: 2, primary: "f1a",
            read: { path in
                var out: [TaskExample] = []
                var question = 0
                for (n, o) in try jsonLines(path).enumerated() {
                    guard let passage = o["passage"] as? [String: Any], let text = passage["text"] as? String,
                        let questions = passage["questions"] as? [[String: Any]]
                    else {
                        throw InputError(path, "line \(n + 1): expected passage.text and passage.questions")
                    }
                    for q in questions {
                        guard let qtext = q["question"] as? String, let answers = q["answers"] as? [[String: Any]]
                        else {
                            throw InputError(path, "line \(n + 1): a question without text or answers")
                        }
                        for a in answers {
                            guard let atext = a["text"] as? String else {
                                throw InputError(path, "line \(n + 1): an answer without text")
                            }
                            out.append(
                                TaskExample(
                                    text, quirk ? qtext : "\(qtext) \(atext)", label: try label(a, path, n),
                                    group: question))
                        }
                        question += 1
                    }
                }
                return out
            },
            score: { o, e in
                let r = Metrics.multiRC(
                    DownstreamTask.classes(o), DownstreamTask.gold(e), questions: e.map { $0.group ?? 0 })
                return ["f1a": r.f1a, "exact_match": r.exactMatch]
            })
    }

    static func wic(_ quirk: Bool) -> DownstreamTask {
        task(
            "WiC", labels: 2, primary: "accuracy",
            read: { path in
                try jsonLines(path).enumerated().map { n, o in
                    let word = try string(o, "word", path, n), s1 = try string(o, "sentence1", path, n),
                        s2 = try string(o, "sentence2", path, n)
                    let a = quirk ? word : "\(word): \(s1)", b = quirk ? s1 : s2
                    return TaskExample(a, b, label: try label(o, path, n))
                }
            })
    }

    static func wsc(_ quirk: Bool) -> DownstreamTask {
        task(
            "WSC", labels: 2, primary: "accuracy",
            read: { path in
                try jsonLines(path).enumerated().map { n, o in
                    let text = try string(o, "text", path, n)
                    guard let target = o["target"] as? [String: Any], let noun = target["span1_text"] as? String,
                        let pronoun = target["span2_text"] as? String
                    else {
                        throw InputError(path, "line \(n + 1): expected target.span1_text and target.span2_text")
                    }
                    return TaskExample(
                        text, quirk ? noun : "\(pronoun) refers to \(noun)", label: try label(o, path, n))
                }
            })
    }
}
