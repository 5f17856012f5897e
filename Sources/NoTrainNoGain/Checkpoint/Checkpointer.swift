import Engine
import Foundation

/// Saving and restoring a run: `model.safetensors` (Hugging Face BERT or T5 names where a
/// counterpart exists; the model's kind and shape in its metadata), `optimizer.safetensors` (the
/// optimiser's state by parameter name), `methods.safetensors` (the plug-ins' tensors, if any) and
/// `state.json` (`TrainingState`, with the plug-ins' values and the SHA-256 of every other file).
///
/// A checkpoint is written to `checkpoint.tmp`, each file flushed to the device, then rotated into
/// place: `checkpoint` (the newest) becomes `checkpoint.1`, `checkpoint.1` becomes `checkpoint.2`, …
/// up to `keep` checkpoints in all, and the folder is flushed. A kill at any moment leaves at least
/// one complete checkpoint; `recover` finds the newest one whose files match their checksums —
/// after an interrupted rotation, or when the newest is damaged — and puts it in place.
public enum Checkpointer {
    static let latest = "checkpoint"
    static let temporary = "checkpoint.tmp"
    /// Where the single previous checkpoint waited during a swap (`keep` 1; earlier versions).
    static let swapped = "checkpoint.old"
    static let damaged = "checkpoint.damaged"
    static func previous(_ i: Int) -> String { "checkpoint.\(i)" }

    /// Writes a checkpoint of `state` into run folder `run`, keeping the `keep` newest.
    public static func save(
        in run: String, keep: Int, model: any PretrainingModel, optimizer: ArenaOptimizer, state: TrainingState,
        pluginTensors: [(String, Tensor)] = [], metadata: [String: String], storage: DurableStorage = .disk
    ) throws {
        // The rotation below replaces checkpoint folders: only in a run's folder.
        guard OwnedFolder(run, kind: .run).isOwned else {
            throw InputError(run, "is not a run of ntng (no \(OwnedFolder.markerName) marker); no checkpoint written")
        }
        let fm = FileManager.default
        let temporary = run + "/" + Checkpointer.temporary
        try? fm.removeItem(atPath: temporary)
        try fm.createDirectory(atPath: temporary, withIntermediateDirectories: true)
        var state = state
        state.checksums = [:]
        func put(_ data: Data, _ name: String) throws {
            try storage.write(data, temporary + "/" + name)
            state.checksums[name] = DurableStorage.sha256(data)
        }
        try put(try Checkpointer.modelFile(model, metadata: metadata), "model.safetensors")
        var buffers: [(String, Tensor)] = []
        for (i, p) in optimizer.arena.parameters.enumerated() {
            for (prefix, buffer) in optimizer.state {
                buffers.append((prefix + "." + p.name, optimizer.arena.view(of: buffer, parameter: i)))
            }
        }
        try put(try SafeTensors.encode(buffers, metadata: ["ntng_optimizer": optimizer.name]), "optimizer.safetensors")
        if !pluginTensors.isEmpty { try put(try SafeTensors.encode(pluginTensors), "methods.safetensors") }
        try storage.write(try JSONCoding.encoder().encode(state), temporary + "/state.json")
        try DurableStorage.flushFolder(temporary)
        try rotate(run, keep: keep)
    }

    /// A `model.safetensors` of `model`: its checkpoint tensors, with its kind and shape in the metadata
    /// (what `loadModel` and `PretrainedCheckpoint` read back).
    public static func modelFile(_ model: any PretrainingModel, metadata: [String: String] = [:]) throws -> Data {
        var meta = metadata
        meta["format"] = "pt"
        meta["ntng_model"] = type(of: model.shape).name
        meta["ntng_model_config"] = String(
            decoding: try JSONCoding.encoder(pretty: false).encode(model.shape), as: UTF8.self)
        return try SafeTensors.encode(model.checkpointTensors, metadata: meta)
    }

    /// `checkpoint.tmp` becomes `checkpoint`; the earlier ones move down, the oldest beyond `keep`
    /// is deleted.
    static func rotate(_ run: String, keep: Int) throws {
        let fm = FileManager.default
        func path(_ name: String) -> String { run + "/" + name }
        if fm.fileExists(atPath: path(latest)) {
            if keep > 1 {
                try? fm.removeItem(atPath: path(previous(keep - 1)))
                for i in stride(from: keep - 2, through: 1, by: -1) where fm.fileExists(atPath: path(previous(i))) {
                    try fm.moveItem(atPath: path(previous(i)), toPath: path(previous(i + 1)))
                }
                try fm.moveItem(atPath: path(latest), toPath: path(previous(1)))
            } else {
                try? fm.removeItem(atPath: path(swapped))
                try fm.moveItem(atPath: path(latest), toPath: path(swapped))
            }
        }
        try fm.moveItem(atPath: path(temporary), toPath: path(latest))
        try? fm.removeItem(atPath: path(swapped))
        try DurableStorage.flushFolder(run)
    }

    /// Makes `checkpoint` the newest complete checkpoint of run folder `run`: it stays if it is
    /// readable and matches its checksums and nothing newer is; otherwise the newest that does —
    /// a `checkpoint.tmp` an interrupted rotation left complete, `checkpoint.old`, `checkpoint.1`, … —
    /// takes its place (a damaged one is kept as `checkpoint.damaged`). Returns what it did, if
    /// anything; throws when no checkpoint can be resumed from, naming what is wrong with each.
    @discardableResult
    public static func recover(run: String) throws -> String? {
        let fm = FileManager.default
        let earlier = ((try? fm.contentsOfDirectory(atPath: run)) ?? []).compactMap { name -> Int? in
            name.hasPrefix(latest + ".") ? Int(name.dropFirst(latest.count + 1)) : nil
        }
        let names = [latest, temporary, swapped] + earlier.sorted().map(previous)
        var best: (name: String, step: Int)?
        var problems: [String] = []
        for name in names where fm.fileExists(atPath: run + "/" + name) {
            do {
                let state = try verify(run + "/" + name)
                if best == nil || state.step > best!.step { best = (name, state.step) }
            } catch {
                problems.append("\(error)")
            }
        }
        guard let best else {
            throw InputError(
                "nothing to resume: \(run) has no complete checkpoint"
                    + (problems.isEmpty ? "" : " (\(problems.joined(separator: "; ")))"))
        }
        guard best.name != latest else { return nil }
        let why =
            fm.fileExists(atPath: run + "/" + latest)
            ? (problems.first { $0.contains("/\(latest)/") } ?? "it is older")
            : "an interrupted checkpoint rotation left no checkpoint"
        if fm.fileExists(atPath: run + "/" + latest) {
            try? fm.removeItem(atPath: run + "/" + damaged)
            try fm.moveItem(atPath: run + "/" + latest, toPath: run + "/" + damaged)
        }
        try fm.moveItem(atPath: run + "/" + best.name, toPath: run + "/" + latest)
        try DurableStorage.flushFolder(run)
        return "resuming from \(best.name) (step \(best.step)), now \(latest): \(latest) could not be used — \(why)"
    }

    /// The state of checkpoint folder `directory`, after checking that every file it lists matches
    /// its SHA-256.
    public static func verify(_ directory: String) throws -> TrainingState {
        let statePath = directory + "/state.json"
        guard let data = FileManager.default.contents(atPath: statePath) else {
            throw InputError(directory, "no checkpoint here (state.json missing)")
        }
        struct Format: Decodable { var format: Int? }
        let format: Int?
        do { format = try JSONCoding.decoder().decode(Format.self, from: data).format } catch {
            throw InputError(statePath, "unreadable (\(JSONCoding.reason(error)))")
        }
        guard format == TrainingState.currentFormat else {
            throw InputError(
                statePath,
                format.map { "written in state format \($0), this ntng reads \(TrainingState.currentFormat)" }
                    ?? "written by an earlier ntng (before state format \(TrainingState.currentFormat)); "
                    + "start the run again"
            )
        }
        let state: TrainingState
        do { state = try JSONCoding.decoder().decode(TrainingState.self, from: data) } catch {
            throw InputError(statePath, "unreadable (\(JSONCoding.reason(error)))")
        }
        for name in ["model.safetensors", "optimizer.safetensors"] where state.checksums[name] == nil {
            throw InputError(statePath, "lists no checksum for \(name)")
        }
        for (name, sum) in state.checksums.sorted(by: { $0.key < $1.key }) {
            let path = directory + "/" + name
            guard let file = FileManager.default.contents(atPath: path) else { throw InputError(path, "missing") }
            guard DurableStorage.sha256(file) == sum else {
                throw InputError(path, "does not match its SHA-256 in state.json (the file is damaged)")
            }
        }
        return state
    }

    /// Loads model weights (every tensor the model has must be present with its shape).
    public static func loadModel(from path: String, into model: any PretrainingModel) throws {
        let (tensors, metadata) = try SafeTensors.read(path)
        let expected = type(of: model.shape).name
        if let kind = metadata["ntng_model"], kind != expected {
            throw InputError(path, "holds a \(kind) model, not a \(expected)")
        }
        for (name, tensor) in model.checkpointTensors {
            guard let entry = tensors[name] else { throw InputError(path, "tensor '\(name)' is missing") }
            try SafeTensors.assign(entry, to: tensor, name: name, path: path)
        }
    }

    /// The plug-ins' saved tensors (`methods.safetensors`), empty if there are none.
    public static func loadPluginTensors(from directory: String) throws -> [String: SafeTensors.Entry] {
        let path = directory + "/methods.safetensors"
        guard FileManager.default.fileExists(atPath: path) else { return [:] }
        return try SafeTensors.read(path).tensors
    }

    /// Restores weights, optimiser moments and state from a checkpoint folder (checked against its
    /// checksums first).
    public static func load(
        from directory: String, model: any PretrainingModel, optimizer: ArenaOptimizer
    ) throws -> TrainingState {
        let statePath = directory + "/state.json"
        let state = try verify(directory)
        try loadModel(from: directory + "/model.safetensors", into: model)
        let optimizerPath = directory + "/optimizer.safetensors"
        let (stored, metadata) = try SafeTensors.read(optimizerPath)
        guard metadata["ntng_optimizer"] == optimizer.name else {
            throw InputError(
                optimizerPath, "holds \(metadata["ntng_optimizer"] ?? "unknown") state, the run uses \(optimizer.name)")
        }
        for (i, p) in optimizer.arena.parameters.enumerated() {
            for (prefix, buffer) in optimizer.state {
                let key = prefix + "." + p.name
                guard let entry = stored[key] else {
                    throw InputError(optimizerPath, "tensor '\(key)' is missing")
                }
                try SafeTensors.assign(
                    entry, to: optimizer.arena.view(of: buffer, parameter: i), name: key, path: optimizerPath)
            }
        }
        guard state.parameterSteps.count == optimizer.arena.parameters.count else {
            throw InputError(
                statePath,
                "holds \(state.parameterSteps.count) parameter step counters, "
                    + "the model has \(optimizer.arena.parameters.count)"
            )
        }
        optimizer.restoreSteps(state.parameterSteps)
        return state
    }
}
