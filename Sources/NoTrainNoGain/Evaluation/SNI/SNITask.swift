import Foundation

/// A Super-NaturalInstructions task (Wang et al. 2022) in its original JSON layout
/// (`tasks/<name>.json` of github.com/allenai/natural-instructions): a definition, positive and
/// negative examples, and instances with one or more reference outputs.
public struct SNITask: Sendable, Equatable {
    public struct Example: Codable, Sendable, Equatable {
        public var input: String
        public var output: String
        public var explanation: String?
    }

    public struct Instance: Codable, Sendable, Equatable {
        public var id: String
        public var input: String
        /// The references (ROUGE-L and exact match take the best over them).
        public var output: [String]
    }

    /// The file's name without `.json` (e.g. `task1393_superglue_copa_text_completion`).
    public var name: String
    /// The definitions (the prompt uses the first).
    public var definition: [String]
    public var positiveExamples: [Example]
    public var negativeExamples: [Example]
    public var instances: [Instance]
    public var categories: [String]
    public var inputLanguage: [String]
    public var outputLanguage: [String]
    public var instructionLanguage: [String]

    /// The file's fields as SNI names them.
    struct File: Decodable {
        var definition: StringOrList
        var positiveExamples: [Example]
        var negativeExamples: [Example]?
        var instances: [Instance]
        var categories: [String]?
        var inputLanguage: [String]?
        var outputLanguage: [String]?
        var instructionLanguage: [String]?

        enum CodingKeys: String, CodingKey {
            case definition = "Definition"
            case positiveExamples = "Positive Examples"
            case negativeExamples = "Negative Examples"
            case instances = "Instances"
            case categories = "Categories"
            case inputLanguage = "Input_language"
            case outputLanguage = "Output_language"
            case instructionLanguage = "Instruction_language"
        }
    }

    /// `Definition` is a list in SNI v2 and a string in some copies.
    struct StringOrList: Decodable {
        var values: [String]

        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            values = try (try? c.decode(String.self)).map { [$0] } ?? c.decode([String].self)
        }
    }

    /// Reads `path`; a malformed file, a task without a definition, or an instance without outputs is
    /// a one-line `InputError` naming the file (and the instance).
    public static func load(_ path: String) throws -> SNITask {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError(path, "cannot read the task file (missing or unreadable)")
        }
        let file: File
        do { file = try JSONDecoder().decode(File.self, from: JSONCoding.pythonLiteralsAsNull(data)) } catch {
            throw InputError(path, "not an SNI task file (\(JSONCoding.reason(error)))")
        }
        guard let first = file.definition.values.first, !first.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
        else {
            throw InputError(path, "the task has no definition")
        }
        if let bad = file.instances.first(where: { $0.output.isEmpty }) {
            throw InputError(path, "instance \(bad.id) has no output")
        }
        let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        return SNITask(
            name: name, definition: file.definition.values, positiveExamples: file.positiveExamples,
            negativeExamples: file.negativeExamples ?? [], instances: file.instances, categories: file.categories ?? [],
            inputLanguage: file.inputLanguage ?? [], outputLanguage: file.outputLanguage ?? [],
            instructionLanguage: file.instructionLanguage ?? [])
    }

    /// Which side of a split list a task comes from.
    public enum Subset: String, Sendable {
        case train, test
    }

    /// The instances a run uses, drawn as Tk-Instruct's (and nanoT5's) `ni_dataset.py` draws them: a
    /// test task's pool is its first 100 instances (SNI puts its label-balanced evaluation set first), a
    /// training task's pool all of them; when `limit` is below the pool's size, a random `limit` of it
    /// (a shuffle seeded by `seed` and the task's name). The chosen instances keep the file's order.
    public func instances(_ subset: Subset, limit: Int?, seed: UInt64) -> [Instance] {
        let pool = subset == .test ? Array(instances.prefix(100)) : instances
        guard let limit, limit < pool.count else { return pool }
        var hash = FNV1a()
        hash.add(name)
        var g = SeedStream.sniInstances.generator(seed ^ hash.value)
        return Array(pool.indices).shuffled(using: &g).prefix(limit).sorted().map { pool[$0] }
    }
}

/// An SNI checkout: `tasks/<task>.json` and the split lists `splits/<split>/{train,test}_tasks.txt`.
public struct SNIData: Sendable {
    public let root: String

    public init(root: String) { self.root = root }

    public func taskPath(_ name: String) -> String { root + "/tasks/" + name + ".json" }

    /// The task names a split list holds, in order (blank lines and `#` comments skipped).
    public func taskNames(split: String, subset: String) throws -> [String] {
        let path = root + "/splits/" + split + "/" + subset + "_tasks.txt"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw InputError(path, "cannot read the split list (expected splits/<split>/\(subset)_tasks.txt)")
        }
        let names = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
        guard !names.isEmpty else { throw InputError(path, "the split list names no task") }
        return names
    }

    /// The tasks of a split list whose files exist (at most `limit`, in the list's order), and the names
    /// of the listed tasks whose files are missing (reported once by the caller, then skipped).
    public func tasks(split: String, subset: String, limit: Int? = nil) throws -> (tasks: [SNITask], missing: [String])
    {
        var tasks: [SNITask] = [], missing: [String] = []
        for name in try taskNames(split: split, subset: subset) {
            if let limit, tasks.count >= limit { break }
            guard FileManager.default.fileExists(atPath: taskPath(name)) else {
                missing.append(name)
                continue
            }
            tasks.append(try SNITask.load(taskPath(name)))
        }
        return (tasks, missing)
    }
}
