import Foundation

/// A folder `ntng` made and may later empty or write over: a pre-training run, an experiment's
/// output, a fine-tuning output, the data cache. It carries a marker file (`.ntng-run`: its kind, an
/// id and the ntng version) written when ntng creates it, and ntng
///
/// - writes into an existing folder only if it is empty or carries the marker of its kind;
/// - deletes only inside a marked folder, and there only the entries it writes itself
///   (`ownEntries`); anything else in the folder stays;
/// - never creates, empties or resumes in a protected path — `/`, the home directory, the current
///   directory or any folder above it, a repository root (a folder holding `.git`) — whatever it holds.
public struct OwnedFolder: Sendable {
    public enum Kind: String, Codable, Sendable, CustomStringConvertible {
        case run
        case experiment
        case fineTuning = "fine-tuning"
        case cache

        /// "a run", "an experiment output", … for messages.
        public var description: String {
            switch self {
            case .run: "a run"
            case .experiment: "an experiment output"
            case .fineTuning: "a fine-tuning output"
            case .cache: "a data cache"
            }
        }
    }

    /// The marker's content.
    public struct Marker: Codable, Equatable, Sendable {
        public var kind: Kind
        public var id: String
        public var ntngVersion: String
        public var created: String
    }

    public static let markerName = ".ntng-run"

    public let path: String
    public let kind: Kind

    public init(_ path: String, kind: Kind) {
        self.path = path
        self.kind = kind
    }

    var markerPath: String { path + "/" + OwnedFolder.markerName }

    /// The entries ntng writes in a folder of this kind (`*` matches any run of characters), the only
    /// ones `empty()` deletes.
    public var ownEntries: [String] {
        switch kind {
        case .run:
            [
                "checkpoint", "checkpoint.*", "metrics.jsonl", "tb", "tokenizer.json", "config.json",
                "il_losses.safetensors", "evaluation-*.json", "evaluation-sni", "evaluation-sni-*", "finetune-*",
                // What an atomic write (Foundation's) killed half-way leaves behind.
                ".dat.nosync*",
            ]
        case .experiment: ["report.md", "report.json", "*.svg", "*.png", "*.log", "slurm"]
        case .fineTuning: ["model.safetensors", "result.json", "report.json", "report.md", "predictions.jsonl"]
        case .cache: []
        }
    }

    /// The marker, if the folder has one (nil: none, or not readable as one).
    public var marker: Marker? {
        FileManager.default.contents(atPath: markerPath).flatMap {
            try? JSONCoding.decoder().decode(Marker.self, from: $0)
        }
    }

    public var exists: Bool { FileManager.default.fileExists(atPath: path) }

    /// Whether the folder exists and holds nothing.
    public var isEmpty: Bool { ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? ["?"]).isEmpty }

    /// Whether ntng made this folder for this kind of output.
    public var isOwned: Bool { marker?.kind == kind }

    /// Why ntng must not create, empty or resume anything at `path` (nil when it may).
    public static func protection(of path: String) -> String? {
        let fm = FileManager.default
        let target = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
        let current = URL(fileURLWithPath: fm.currentDirectoryPath).standardizedFileURL.resolvingSymlinksInPath().path
        let home = URL(fileURLWithPath: NSHomeDirectory()).standardizedFileURL.resolvingSymlinksInPath().path
        if target == "/" { return "it is the root folder" }
        if target == home { return "it is the home directory" }
        if target == current { return "it is the current directory" }
        if current.hasPrefix(target + "/") { return "it holds the current directory" }
        if fm.fileExists(atPath: target + "/.git") { return "it is the root of a repository" }
        return nil
    }

    func refuseProtected() throws {
        if let why = OwnedFolder.protection(of: path) {
            throw InputError(path, "ntng will not use this folder for \(kind): \(why); choose a folder of its own")
        }
    }

    /// Makes sure the folder is ours to write in: created (with the marker) if missing, marked if
    /// empty, used if already marked as this kind; a folder holding anything else is refused.
    public func open() throws {
        try refuseProtected()
        if exists && !isOwned && !isEmpty {
            if kind == .run && FileManager.default.fileExists(atPath: path + "/metrics.jsonl") && marker == nil {
                throw InputError(
                    path,
                    "holds a run of an earlier ntng (without a \(OwnedFolder.markerName) marker); "
                        + "delete it yourself to use this folder again")
            }
            throw InputError(
                path,
                "is not \(kind) of ntng (no \(OwnedFolder.markerName) marker) and not empty; "
                    + "choose another folder — ntng never writes over files it did not make")
        }
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        if !isOwned { try writeMarker() }
    }

    /// Deletes the entries ntng writes here (`ownEntries`) and renews the marker; returns the entries
    /// it left because ntng did not write them. The folder must carry the marker of its kind.
    @discardableResult
    public func empty() throws -> [String] {
        try refuseProtected()
        guard isOwned else {
            throw InputError(path, "is not \(kind) of ntng (no \(OwnedFolder.markerName) marker); nothing deleted")
        }
        let fm = FileManager.default
        var kept: [String] = []
        for name in try fm.contentsOfDirectory(atPath: path).sorted() where !name.hasPrefix(".ntng-") {
            guard ownEntries.contains(where: { OwnedFolder.matches(name, $0) }) else {
                kept.append(name)
                continue
            }
            // A folder inside (a fine-tuning output) is deleted only if ntng made it too.
            var isFolder: ObjCBool = false
            if fm.fileExists(atPath: path + "/" + name, isDirectory: &isFolder), isFolder.boolValue,
                !OwnedFolder.matches(name, "checkpoint") && !OwnedFolder.matches(name, "checkpoint.*"),
                !OwnedFolder(path + "/" + name, kind: .fineTuning).isOwned
            {
                kept.append(name)
                continue
            }
            try fm.removeItem(atPath: path + "/" + name)
        }
        try writeMarker()
        return kept
    }

    func writeMarker() throws {
        let marker = Marker(
            kind: kind, id: UUID().uuidString.lowercased(), ntngVersion: NoTrainNoGain.version,
            created: ISO8601DateFormatter().string(from: Date()))
        try JSONCoding.write(marker, to: markerPath)
    }

    /// `name` against a pattern whose `*` matches any run of characters.
    static func matches(_ name: String, _ pattern: String) -> Bool {
        let parts = pattern.split(separator: "*", omittingEmptySubsequences: false).map(String.init)
        guard parts.count > 1 else { return name == pattern }
        guard name.hasPrefix(parts[0]), name.hasSuffix(parts[parts.count - 1]),
            name.count >= parts[0].count + parts[parts.count - 1].count
        else { return false }
        var rest = Substring(name.dropFirst(parts[0].count).dropLast(parts[parts.count - 1].count))
        for middle in parts.dropFirst().dropLast() {
            guard let r = rest.range(of: middle) else { return false }
            rest = rest[r.upperBound...]
        }
        return true
    }

    /// A file ntng is about to write over must be one it wrote: readable as `T` (an evaluation
    /// report, a cost table). A missing file is fine.
    public static func checkReplaceable<T: Decodable>(_ path: String, as type: T.Type, what: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else { return }
        guard (try? JSONCoding.decoder().decode(T.self, from: data)) != nil else {
            throw InputError(path, "exists and is not \(what) written by ntng; choose another output path")
        }
    }
}
