import Foundation

/// A pre-training corpus: one or more files or folders of raw text, read as documents in a fixed
/// order (paths sorted). Formats, recognised by name:
/// - `*.txt`: plain text, documents separated by blank lines;
/// - `*.jsonl`, `*.json`: one JSON object per line with a text field (`text` by default);
/// - `*.json.gz`, `*.jsonl.gz`: the same, gzip-compressed (C4's shards);
/// - `wiki_NN` inside a folder: WikiExtractor output, `<doc …>` blocks whose first line (the
///   title) is dropped, as for the paper's Wikipedia data.
public struct Corpus: Sendable {
    public enum Format: String, Sendable, Codable { case plainText, jsonLines, gzipJSONLines, wikiExtractor }

    public struct File: Sendable, Codable, Equatable {
        public let path: String
        public let format: Format
        public let size: Int
        public let modified: Double
    }

    public let files: [File]
    public var textField: String

    /// Finds the corpus files under `paths` (files or folders, searched recursively).
    public init(paths: [String], textField: String = "text") throws {
        var files: [File] = []
        let fm = FileManager.default
        for path in paths {
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw InputError(path, "no such file or folder")
            }
            if isDirectory.boolValue {
                guard let walker = fm.enumerator(atPath: path) else {
                    throw InputError(path, "cannot list the folder")
                }
                var found: [String] = []
                for case let relative as String in walker {
                    let full = path + "/" + relative
                    var dir: ObjCBool = false
                    if fm.fileExists(atPath: full, isDirectory: &dir), !dir.boolValue, Corpus.format(of: full) != nil {
                        found.append(full)
                    }
                }
                guard !found.isEmpty else {
                    throw InputError(
                        path, "no corpus files (.txt, .jsonl, .json.gz or WikiExtractor wiki_NN) in this folder")
                }
                for f in found.sorted() { files.append(try Corpus.describe(f, Corpus.format(of: f)!)) }
            } else {
                guard let format = Corpus.format(of: path) else {
                    throw InputError(
                        path,
                        "unsupported corpus file (expected .txt, .jsonl, .json, .json.gz or WikiExtractor wiki_NN)")
                }
                files.append(try Corpus.describe(path, format))
            }
        }
        guard !files.isEmpty else { throw InputError("corpus", "no corpus paths given") }
        self.files = files
        self.textField = textField
    }

    static func format(of path: String) -> Format? {
        let name = (path as NSString).lastPathComponent
        if name.hasSuffix(".json.gz") || name.hasSuffix(".jsonl.gz") { return .gzipJSONLines }
        if name.hasSuffix(".jsonl") || name.hasSuffix(".json") { return .jsonLines }
        if name.hasSuffix(".txt") { return .plainText }
        if name.hasPrefix("wiki_"), name.dropFirst(5).allSatisfy(\.isNumber), name.count > 5 { return .wikiExtractor }
        return nil
    }

    static func describe(_ path: String, _ format: Format) throws -> File {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        let size = (attributes[.size] as? NSNumber)?.intValue ?? 0
        let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        return File(path: path, format: format, size: size, modified: modified)
    }

    /// Total bytes on disk.
    public var byteCount: Int { files.reduce(0) { $0 + $1.size } }

    /// Calls `body` with the documents of each file in order.
    public func forEachFile(_ body: (File, [String]) throws -> Void) throws {
        for file in files { try body(file, try documents(of: file)) }
    }

    /// All documents (in memory).
    public func documents() throws -> [String] {
        var all: [String] = []
        try forEachFile { all += $1 }
        return all
    }

    func documents(of file: File) throws -> [String] {
        switch file.format {
        case .plainText: return Corpus.paragraphs(try Corpus.readText(file.path))
        case .wikiExtractor: return try Corpus.wikiExtractorDocuments(Corpus.readText(file.path), path: file.path)
        case .jsonLines:
            guard let data = FileManager.default.contents(atPath: file.path) else {
                throw InputError(file.path, "cannot read")
            }
            return try Corpus.jsonLines(data, field: textField, path: file.path)
        case .gzipJSONLines:
            return try Corpus.jsonLines(GzipReader.read(file.path), field: textField, path: file.path)
        }
    }

    static func readText(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else { throw InputError(path, "cannot read") }
        return String(decoding: data, as: UTF8.self)
    }

    /// Documents separated by blank lines; inner line breaks become spaces.
    static func paragraphs(_ text: String) -> [String] {
        var docs: [String] = [], current: [Substring] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty {
                if !current.isEmpty { docs.append(current.joined(separator: " ")); current = [] }
            } else {
                current.append(line)
            }
        }
        if !current.isEmpty { docs.append(current.joined(separator: " ")) }
        return docs
    }

    /// `<doc id=… url=… title=…>` title line, body lines, `</doc>`; the body joined with spaces.
    static func wikiExtractorDocuments(_ text: String, path: String) throws -> [String] {
        var docs: [String] = [], body: [Substring] = []
        var inDoc = false, sawTitle = false, lineNumber = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            if line.hasPrefix("<doc ") {
                guard !inDoc else { throw InputError(path, "line \(lineNumber): <doc> inside another <doc>") }
                inDoc = true; sawTitle = false; body = []
            } else if line.hasPrefix("</doc>") {
                guard inDoc else { throw InputError(path, "line \(lineNumber): </doc> without <doc>") }
                inDoc = false
                let doc = body.joined(separator: " ")
                if !doc.isEmpty { docs.append(doc) }
            } else if inDoc {
                if !sawTitle { sawTitle = true; continue }
                if !line.isEmpty { body.append(line) }
            }
        }
        guard !inDoc else { throw InputError(path, "unterminated <doc> at the end of the file") }
        return docs
    }

    static func jsonLines(_ data: Data, field: String, path: String) throws -> [String] {
        var docs: [String] = []
        var lineNumber = 0
        for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            if line.allSatisfy({ $0 == 32 || $0 == 9 || $0 == 13 }) { continue }
            guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
                throw InputError(path, "line \(lineNumber): not a JSON object")
            }
            guard let text = object[field] as? String else {
                throw InputError(path, "line \(lineNumber): no string field '\(field)'")
            }
            docs.append(text)
        }
        return docs
    }
}
