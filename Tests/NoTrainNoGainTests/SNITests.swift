import Foundation
import Testing

@testable import NoTrainNoGain

/// The SNI leg against the original code's outputs (fixtures written by scripts/make_sni_fixtures.py).
struct SNITests {
    struct RougeCase: Decodable {
        var source: String
        var prediction: String
        var references: [String]
        var rouge_l_each: [Double]
        var rouge_l: Double
        var exact_match: Double
    }

    struct PromptTask: Decodable {
        var task: String
        var file: JSONValue
        var cases: [PromptCase]
    }

    struct PromptCase: Decodable {
        var instance: String
        var max_source_length: Int
        var source: String
        var input_ids: [Int32]
        var label: String
        var label_ids: [Int32]
    }

    @Test func porterStemmerMatchesNLTKOnTheWordList() throws {
        let text = try String(contentsOfFile: Fixtures.path("sni/porter.tsv"), encoding: .utf8)
        let pairs = text.split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false) }
        #expect(pairs.count > 8000)
        var wrong: [String] = []
        for pair in pairs where PorterStemmer.stem(String(pair[0])) != pair[1] {
            wrong.append("\(pair[0]) → \(PorterStemmer.stem(String(pair[0]))), NLTK \(pair[1])")
        }
        #expect(wrong.isEmpty, "\(wrong.count) words differ: \(wrong.prefix(20))")
        // The rules the list covers, by hand: Porter's own examples and NLTK's extensions.
        let hand = [
            "caresses": "caress", "ponies": "poni", "ties": "tie", "hopping": "hop", "filing": "file",
            "happy": "happi", "relational": "relat", "generalization": "gener", "dying": "die",
            "enjoy": "enjoy", "archaeology": "archaeolog", "is": "is",
        ]
        for (word, stem) in hand { #expect(PorterStemmer.stem(word) == stem, "\(word)") }
    }

    @Test func rougeLAndExactMatchMatchRougeScoreAndTkInstruct() throws {
        let cases = try Fixtures.json("sni/rouge.json", as: [RougeCase].self)
        #expect(cases.count > 300 && cases.contains { $0.source == "edge" })
        var largest = 0.0
        for c in cases {
            for (reference, expected) in zip(c.references, c.rouge_l_each) {
                largest = max(largest, abs(Metrics.rougeL(c.prediction, reference) - expected))
            }
            #expect(
                Metrics.best(Metrics.rougeL, c.prediction, references: c.references) == c.rouge_l, "\(c.prediction)")
            #expect(
                Metrics.best(Metrics.exactMatch, c.prediction, references: c.references) == c.exact_match,
                "\(c.prediction) vs \(c.references)")
        }
        #expect(largest == 0, "largest ROUGE-L difference \(largest)")
    }

    @Test func rougeLFollowsItsFormulaOnAHandCheckedCase() {
        // Tokens (words of ≤ 3 letters are not stemmed): prediction [the, cat, sat, on, the, mat], reference
        // [the, cat, lay, on, a, mat]; LCS = the, cat, on, mat = 4, so P = R = 4/6.
        let f = Metrics.rougeL("The cat sat on the mat.", "the cat lay on a mat")
        let p = 4.0 / 6, r = 4.0 / 6
        #expect(f == 2 * p * r / (p + r))
        #expect(Metrics.rougeTokens("Running, runners!") == ["run", "runner"])
        #expect(Metrics.rougeTokens("Running, runners!", stem: false) == ["running", "runners"])
        #expect(Metrics.rougeL("", "x") == 0 && Metrics.rougeL("!!", "x") == 0)
        #expect(Metrics.normalizedAnswer("  The  Answer:\tYES! ") == "the answer yes")
    }

    @Test func pythonTextOperationsKeepPythonsUnicodeRules() {
        #expect(PythonText.lower("ΟΔΟΣ ΣΑΣ") == "οδος σας")
        #expect(PythonText.lower("Σ") == "σ")
        #expect(PythonText.lower("İ") == "i\u{0307}")
        #expect(PythonText.strip("\u{1C} \u{A0}x y\u{2003}\n") == "x y")
        #expect(PythonText.split(" a\u{1F}b  c\t") == ["a", "b", "c"])
        #expect(PythonText.stopped("Output: yes") == "Output: yes." && PythonText.stopped("a?") == "a?")
        #expect(PythonText.stopped("Chinese。") == "Chinese。.")
    }

    @Test func promptsMatchTkInstructsCollator() throws {
        let tasks = try Fixtures.json("sni/prompts.json", as: [PromptTask].self)
        let tokenizer = try Tokenizer.load(Fixtures.path("hf-unigram-t5style.json"))
        let directory = Fixtures.temporaryDirectory()
        var checked = 0, truncated = 0, dropped = 0
        for entry in tasks {
            let path = directory + "/" + entry.task + ".json"
            try JSONEncoder().encode(entry.file).write(to: URL(fileURLWithPath: path))
            let task = try SNITask.load(path)
            #expect(task.name == entry.task)
            for c in entry.cases {
                let instance = try #require(task.instances.first { $0.id == c.instance })
                var prompt = SNIPrompt()
                prompt.maxSourceLength = c.max_source_length
                let source = prompt.source(task, instance, tokenizer: tokenizer)
                #expect(source == c.source, "\(entry.task) \(c.instance) at \(c.max_source_length)")
                #expect(prompt.sourceIDs(task, instance, tokenizer: tokenizer) == c.input_ids)
                #expect(prompt.targetIDs(c.label, tokenizer: tokenizer) == c.label_ids)
                checked += 1
                if !c.source.hasSuffix("Output: ") { truncated += 1 }
                if !c.source.contains("Positive Example 2") { dropped += 1 }
            }
        }
        // The fixture covers whole prompts, dropped examples and cut prompts.
        #expect(checked == 36 && truncated > 5 && dropped > 10)
    }

    func write(_ text: String, _ path: String) throws {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    static let validTask = """
        {"Definition": ["Answer the question."], "Positive Examples": [{"input": "1+1?", "output": "2"}],
         "Negative Examples": [], "Categories": ["Question Answering"],
         "Instances": [{"id": "t-1", "input": "2+2?", "output": ["4", "four"]}]}
        """

    @Test func badTaskFilesAndSplitListsAreOneLineErrors() throws {
        let root = Fixtures.temporaryDirectory()
        let cases: [(String, String)] = [
            ("{\"Definition\": [\"x\"], ", "not an SNI task file"),
            (
                #"{"Definition": ["d"], "Positive Examples": [], "#
                    + #""Instances": [{"id": "t-9", "input": "x", "output": []}]}"#,
                "instance t-9 has no output"
            ),
            (#"{"Definition": [" "], "Positive Examples": [], "Instances": []}"#, "the task has no definition"),
            (#"{"Definition": ["d"], "Instances": []}"#, "not an SNI task file"),
        ]
        for (i, (text, expected)) in cases.enumerated() {
            let path = root + "/tasks/bad\(i).json"
            try write(text, path)
            let message = errorMessage { _ = try SNITask.load(path) }
            #expect(message.contains(path) && message.contains(expected), "\(message)")
            #expect(!message.contains("\n"))
        }
        #expect(errorMessage { _ = try SNITask.load(root + "/nope.json") }.contains("cannot read the task file"))
        // A split list: comments and blanks skipped; absent tasks reported, not fatal; an empty list refused.
        try write(SNITests.validTask, root + "/tasks/good.json")
        try write("# header\ngood\n\nmissing_task\n", root + "/splits/default/test_tasks.txt")
        try write("\n# nothing\n", root + "/splits/default/train_tasks.txt")
        let data = SNIData(root: root)
        let (tasks, missing) = try data.tasks(split: "default", subset: "test")
        #expect(tasks.map(\.name) == ["good"] && missing == ["missing_task"])
        #expect(tasks[0].instances[0].output == ["4", "four"] && tasks[0].categories == ["Question Answering"])
        #expect(errorMessage { _ = try data.taskNames(split: "default", subset: "train") }.contains("names no task"))
        #expect(errorMessage { _ = try data.taskNames(split: "nope", subset: "train") }.contains("cannot read"))
    }

    @Test func instancesAreDrawnAsNIDatasetDrawsThem() throws {
        let instances = (0..<150).map { SNITask.Instance(id: "t-\($0)", input: "\($0)", output: ["\($0)"]) }
        let task = SNITask(
            name: "task_x", definition: ["d"], positiveExamples: [], negativeExamples: [], instances: instances,
            categories: [], inputLanguage: [], outputLanguage: [], instructionLanguage: [])
        // Test: the first 100, all of them without a smaller limit.
        #expect(task.instances(.test, limit: nil, seed: 0) == Array(instances.prefix(100)))
        #expect(task.instances(.test, limit: 100, seed: 5) == Array(instances.prefix(100)))
        let sample = task.instances(.test, limit: 20, seed: 0)
        #expect(sample.count == 20 && sample.allSatisfy { Int($0.input)! < 100 })
        #expect(sample.map { Int($0.input)! } == sample.map { Int($0.input)! }.sorted())
        // Train: a seeded sample of all instances; the same seed gives the same sample, another seed another.
        let train = task.instances(.train, limit: 100, seed: 0)
        #expect(train.count == 100 && train.contains { Int($0.input)! >= 100 })
        #expect(train == task.instances(.train, limit: 100, seed: 0))
        #expect(train != task.instances(.train, limit: 100, seed: 1))
        #expect(task.instances(.train, limit: nil, seed: 0) == instances)
    }

    @Test func stagedSNITasksAllLoad() throws {
        guard let shared = Fixtures.sharedData else { print("skipped: ../shared/data is not present"); return }
        let data = SNIData(root: shared + "/super-natural-instructions")
        let (test, missing) = try data.tasks(split: "default", subset: "test")
        // 103 of the 119 default test tasks are staged; the other 16 are reported as missing.
        #expect(test.count == 103 && missing.count == 16)
        #expect(test.allSatisfy { !$0.instances.isEmpty && !$0.categories.isEmpty })
        #expect(Set(test.map { $0.categories[0] }).count == 12)
        // Training tasks too (97 of them hold Python's bare NaN, e.g. "URL": [NaN]).
        let (train, absent) = try data.tasks(split: "default", subset: "train")
        #expect(train.count == 687 && absent.count == 69)
    }

    @Test func pythonsNonFiniteLiteralsReadAsNullOutsideStrings() throws {
        let text = #"{"a": [NaN, -Infinity, Infinity, -1.5, "NaN", "x\"NaN\\", "I"], "NaN": "Infinity"}"#
        let cleaned = String(decoding: JSONCoding.pythonLiteralsAsNull(Data(text.utf8)), as: UTF8.self)
        #expect(cleaned == #"{"a": [null, null, null, -1.5, "NaN", "x\"NaN\\", "I"], "NaN": "Infinity"}"#)
        let directory = Fixtures.temporaryDirectory()
        let path = directory + "/task_nan.json"
        try SNITests.validTask.replacingOccurrences(of: #""Negative Examples": [],"#, with: #""URL": [NaN],"#)
            .write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try SNITask.load(path).instances.count == 1)
    }
}
