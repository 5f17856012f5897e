import Foundation
@testable import NoTrainNoGain
import Testing

/// ntng deletes or writes over only what it made: folders carry a marker, `--overwrite` deletes only
/// ntng's own entries, and some folders are refused whatever they hold.
@Suite("Folders ntng owns", .serialized)
struct OwnedFolderTests {
    @Test func aFolderOfUserFilesSurvivesOverwriteAndIsRefused() throws {
        let tiny = try TinyRun(budgetSeconds: 2)
        let notes = tiny.directory + "/notes"
        try FileManager.default.createDirectory(atPath: notes, withIntermediateDirectories: true)
        try "precious".write(toFile: notes + "/thesis.tex", atomically: true, encoding: .utf8)
        let config = try tiny.config(["run_directory=\(notes)"])
        for (resume, overwrite) in [(false, false), (false, true)] {
            let error = errorMessage { _ = try PretrainingRun(config: config, resume: resume, overwrite: overwrite) }
            #expect(
                error == "\(notes): is not a run of ntng (no .ntng-run marker) and not empty; choose another "
                    + "folder — ntng never writes over files it did not make")
            #expect(!error.contains("--overwrite"), "\(error)")
        }
        #expect(
            errorMessage { _ = try PretrainingRun(config: config, resume: true) }.contains(
                "is not a run of ntng (no .ntng-run marker); nothing to resume"))
        #expect(try String(contentsOfFile: notes + "/thesis.tex", encoding: .utf8) == "precious")
    }

    @Test func overwriteReplacesARunButKeepsWhatNtngDidNotWrite() throws {
        let tiny = try TinyRun(budgetSeconds: 2)
        let directory = try tiny.config().runDirectory
        try PretrainingRun(config: try tiny.config()).train()  // released (and unlocked) at once
        let marker = try #require(OwnedFolder(directory, kind: .run).marker)
        #expect(marker.kind == .run && marker.ntngVersion == NoTrainNoGain.version)
        try "mine".write(toFile: directory + "/notes.txt", atomically: true, encoding: .utf8)
        try "{}".write(toFile: directory + "/evaluation-glue.json", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: directory + "/finetune-x", withIntermediateDirectories: true)
        var lines: [String] = []
        let again = try PretrainingRun(config: try tiny.config(), overwrite: true) { lines.append($0) }
        let names = Set(try FileManager.default.contentsOfDirectory(atPath: again.directory))
        #expect(names.contains("notes.txt") && names.contains("finetune-x"))  // not marked: not ntng's
        #expect(!names.contains("checkpoint") && !names.contains("evaluation-glue.json"))
        #expect(lines.contains { $0.contains("kept in") && $0.contains("finetune-x, notes.txt") })
        #expect(OwnedFolder(again.directory, kind: .run).marker?.id != marker.id)
        // An empty folder is used as it is.
        let empty = tiny.directory + "/empty"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        _ = try PretrainingRun(config: try tiny.config(["run_directory=\(empty)"]))
        #expect(OwnedFolder(empty, kind: .run).isOwned)
    }

    @Test func protectedPathsAreRefusedWhateverTheyHold() throws {
        let fm = FileManager.default
        let current = fm.currentDirectoryPath
        for path in [
            "/", NSHomeDirectory(), current, current + "/.",
            URL(fileURLWithPath: current).deletingLastPathComponent().path,
        ] {
            #expect(OwnedFolder.protection(of: path) != nil, "\(path)")
        }
        let repository = Fixtures.temporaryDirectory()
        try fm.createDirectory(atPath: repository + "/.git", withIntermediateDirectories: true)
        #expect(OwnedFolder.protection(of: repository) == "it is the root of a repository")
        #expect(OwnedFolder.protection(of: Fixtures.temporaryDirectory()) == nil)
        // Even a marked folder: the marker does not make a repository root deletable.
        try JSONSerialization.data(withJSONObject: ["kind": "run", "id": "x", "ntng_version": "0", "created": "now"])
            .write(to: URL(fileURLWithPath: repository + "/.ntng-run"))
        #expect(OwnedFolder(repository, kind: .run).isOwned)
        #expect(errorMessage { try OwnedFolder(repository, kind: .run).empty() }.contains("root of a repository"))
        #expect(fm.fileExists(atPath: repository + "/.git"))
    }

    @Test func experimentFineTuningEvaluationAndCacheOutputsAreGuarded() throws {
        let fm = FileManager.default
        let folder = Fixtures.temporaryDirectory()
        try "x".write(toFile: folder + "/data.csv", atomically: true, encoding: .utf8)
        for kind in [OwnedFolder.Kind.experiment, .fineTuning] {
            #expect(errorMessage { try OwnedFolder(folder, kind: kind).open() }.contains("no .ntng-run marker"))
        }
        let fresh = Fixtures.temporaryDirectory() + "/out"
        try OwnedFolder(fresh, kind: .fineTuning).open()
        #expect(OwnedFolder(fresh, kind: .fineTuning).isOwned && !OwnedFolder(fresh, kind: .run).isOwned)
        // A file written over must be one ntng wrote.
        #expect(
            errorMessage {
                try OwnedFolder.checkReplaceable(folder + "/data.csv", as: CostModel.self, what: "a cost table")
            }
                == "\(folder)/data.csv: exists and is not a cost table written by ntng; choose another output path")
        try JSONCoding.write(CostModel.paperBERT, to: folder + "/cost.json")
        try OwnedFolder.checkReplaceable(folder + "/cost.json", as: CostModel.self, what: "a cost table")
        try OwnedFolder.checkReplaceable(folder + "/none.json", as: CostModel.self, what: "a cost table")
        // The data cache writes only into entry folders that hold nothing but its own files.
        let cache = DatasetCache(directory: Fixtures.temporaryDirectory())
        try fm.createDirectory(atPath: cache.entry("abc"), withIntermediateDirectories: true)
        try "x".write(toFile: cache.entry("abc") + "/thesis.tex", atomically: true, encoding: .utf8)
        #expect(errorMessage { _ = try cache.prepareEntry("abc") }.contains("holds 'thesis.tex'"))
        _ = try cache.prepareEntry("def")
        // A concurrent writer's atomic-write temporary is the cache's own (two cells filling one entry).
        try "x".write(toFile: cache.entry("def") + "/.dat.nosync2029.xUtZ2m", atomically: false, encoding: .utf8)
        _ = try cache.prepareEntry("def")
        // An experiment's output folder that holds other files is refused before any cell runs.
        let tiny = try TinyRun(budgetSeconds: 2)
        let path = tiny.directory + "/experiment.yaml"
        try "base_config: tiny.yaml\nbudgets: [2s]\nmethods: {baseline: {}}\noutput: \(folder)\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        #expect(
            errorMessage { try ExperimentRunner(try ExperimentConfig.load(path: path)).run() }.contains(
                "is not an experiment output of ntng"))
        #expect(fm.fileExists(atPath: folder + "/data.csv"))
    }

    @Test func patternsMatchOnlyWhatTheySay() {
        #expect(OwnedFolder.matches("evaluation-glue.json", "evaluation-*.json"))
        #expect(!OwnedFolder.matches("evaluation-glue.json.bak", "evaluation-*.json"))
        #expect(OwnedFolder.matches("finetune-CoLA", "finetune-*") && !OwnedFolder.matches("finetune", "finetune-*"))
        #expect(
            OwnedFolder.matches("config.json", "config.json") && !OwnedFolder.matches("config.jsonl", "config.json"))
    }
}
