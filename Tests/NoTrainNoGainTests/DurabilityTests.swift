import Engine
import Foundation
@testable import NoTrainNoGain
import Synchronization
import Testing

/// Nothing lost: checkpoints are checksummed, rotated (the newest `keep` stay), recovered after an
/// interrupted rotation or damage, never half-written over the previous one, and a run folder has
/// one trainer at a time.
@Suite("Durable checkpoints", .serialized)
struct DurabilityTests {
    /// Flips one byte in the middle of `path`.
    func damage(_ path: String) throws {
        var data = try Data(contentsOf: URL(fileURLWithPath: path))
        data[data.count / 2] ^= 0xFF
        try data.write(to: URL(fileURLWithPath: path))
    }

    func step(_ checkpoint: String) throws -> Int {
        try JSONCoding.read(TrainingState.self, from: checkpoint + "/state.json", what: "a state").step
    }

    @Test func checkpointsAreChecksummedAndTheNewestKeepAreKept() throws {
        let tiny = try TinyRun(budgetSeconds: 20)  // checkpoints every 6 RST s: steps 3, 6, 9 and the end
        let run = try PretrainingRun(config: try tiny.config(["training.keep_checkpoints=2"]))
        try run.train()
        let names = try FileManager.default.contentsOfDirectory(atPath: run.directory).filter {
            $0.hasPrefix("checkpoint")
        }
        #expect(Set(names) == ["checkpoint", "checkpoint.1"])
        #expect(try step(run.directory + "/checkpoint") == 10 && step(run.directory + "/checkpoint.1") == 9)
        let state = try Checkpointer.verify(run.directory + "/checkpoint")
        #expect(Set(state.checksums.keys) == ["model.safetensors", "optimizer.safetensors"])
        let model = try Data(contentsOf: URL(fileURLWithPath: run.directory + "/checkpoint/model.safetensors"))
        #expect(state.checksums["model.safetensors"] == DurableStorage.sha256(model))
        #expect(
            DurableStorage.sha256(Data("abc".utf8))
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")  // FIPS 180-2 example
    }

    @Test func aDamagedCheckpointFallsBackToThePreviousAndResumesExactly() throws {
        let tiny = try TinyRun(budgetSeconds: 20)
        let straight = try PretrainingRun(config: try tiny.config())
        try straight.train()
        let config = try tiny.config(["run_directory=\(tiny.directory)/damaged"])
        try PretrainingRun(config: config).train(stopAfterSteps: 7)  // checkpoints at steps 3 and 6, then 7
        try damage(config.runDirectory + "/checkpoint/model.safetensors")
        var lines: [String] = []
        let resumed = try PretrainingRun(config: config, resume: true) { lines.append($0) }
        #expect(resumed.state.step == 6)
        #expect(
            lines.contains {
                $0.hasPrefix("resuming from checkpoint.1 (step 6), now checkpoint") && $0.contains("SHA-256")
            }, "\(lines)")
        #expect(FileManager.default.fileExists(atPath: config.runDirectory + "/checkpoint.damaged"))
        try resumed.train()
        #expect(try tiny.trainLosses(resumed.directory) == tiny.trainLosses(straight.directory))
        #expect(resumed.arena.values.scalars() == straight.arena.values.scalars())
    }

    @Test func anInterruptedRotationIsRecoveredAndNothingUsableIsSaidInOneLine() throws {
        let tiny = try TinyRun(budgetSeconds: 20)
        let config = try tiny.config()
        try PretrainingRun(config: config).train(stopAfterSteps: 4)
        let fm = FileManager.default
        let run = config.runDirectory
        // Killed after `checkpoint` moved to `checkpoint.1` and before `checkpoint.tmp` took its place.
        try fm.moveItem(atPath: run + "/checkpoint.1", toPath: run + "/checkpoint.2")
        try fm.moveItem(atPath: run + "/checkpoint", toPath: run + "/checkpoint.tmp")
        do {
            var lines: [String] = []
            let resumed = try PretrainingRun(config: config, resume: true) { lines.append($0) }
            #expect(resumed.state.step == 4)
            #expect(lines.contains { $0.contains("from checkpoint.tmp (step 4)") && $0.contains("interrupted") })
        }
        #expect(fm.fileExists(atPath: run + "/checkpoint") && !fm.fileExists(atPath: run + "/checkpoint.tmp"))
        // Every checkpoint damaged: one line naming them.
        for name in try fm.contentsOfDirectory(atPath: run) where name.hasPrefix("checkpoint") {
            try damage(run + "/" + name + "/optimizer.safetensors")
        }
        let error = errorMessage { _ = try PretrainingRun(config: config, resume: true) }
        #expect(error.hasPrefix("nothing to resume: \(run) has no complete checkpoint ("), "\(error)")
        #expect(error.contains("optimizer.safetensors: does not match its SHA-256") && !error.contains("\n"))
    }

    @Test func aFullDiskLeavesThePreviousCheckpointAndSaysSo() throws {
        let tiny = try TinyRun(budgetSeconds: 20)
        let run = try PretrainingRun(config: try tiny.config())
        let writes = Mutex(0)
        run.checkpointStorage = DurableStorage { data, path in
            // The second checkpoint (step 6) finds the disk full when it writes its state file.
            let n = writes.withLock { count -> Int in
                count += 1
                return count
            }
            if n > 5 { throw InputError(path, "cannot write (No space left on device)") }
            try DurableStorage.disk.write(data, path)
        }
        let error = errorMessage { try run.train() }
        #expect(
            error.hasPrefix("could not write the checkpoint of step 6 (")
                && error.contains("No space left on device")
                && error.contains("the previous checkpoint (step 3) is intact in \(run.checkpointDirectory)"),
            "\(error)")
        #expect(try step(run.checkpointDirectory) == 3)
        #expect(!FileManager.default.fileExists(atPath: run.directory + "/checkpoint.tmp"))
        _ = try Checkpointer.verify(run.checkpointDirectory)
    }

    @Test func aRunWithoutCadencesKeepsItsResultAndAFolderHasOneTrainerAtATime() throws {
        // No validate_every and no checkpoint_every: the final checkpoint holds ∞ cadences (it once
        // failed to encode them and lost the run's result).
        let tiny = try TinyRun(budgetSeconds: 4)
        let config = try tiny.config(["training.validate_every=null", "training.checkpoint_every=null"])
        let run = try PretrainingRun(config: config)
        // A second trainer on the same folder is refused while this one holds it.
        let busy = errorMessage { _ = try PretrainingRun(config: config, resume: true) }
        #expect(busy.contains("is in use by process \(getpid()) on "), "\(busy)")
        try run.train()
        let state = try Checkpointer.verify(run.checkpointDirectory)
        #expect(state.nextValidation == .infinity && state.nextCheckpoint == .infinity && state.step == 2)
        #expect(run.state.validations.count == 2)
    }
}
