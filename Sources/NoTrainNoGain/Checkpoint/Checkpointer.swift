import Engine
import Foundation

/// Saving and restoring a run: `model.safetensors` (Hugging Face BERT or T5 names where a
/// counterpart exists; the model's kind and shape in its metadata), `optimizer.safetensors` (the
/// optimiser's state by parameter name), `methods.safetensors` (the plug-ins' tensors, if any) and
/// `state.json` (`TrainingState`, with the plug-ins' values). A
/// checkpoint is written to a temporary folder and renamed into place, so an interrupted write
/// never leaves a half checkpoint.
public enum Checkpointer {
    public static func save(
        to directory: String, model: any PretrainingModel, optimizer: ArenaOptimizer, state: TrainingState,
        pluginTensors: [(String, Tensor)] = [], metadata: [String: String]
    ) throws {
        let fm = FileManager.default
        // The rotation below replaces checkpoint, checkpoint.tmp and checkpoint.old: only in a run's folder.
        let run = URL(fileURLWithPath: directory).deletingLastPathComponent().path
        guard OwnedFolder(run, kind: .run).isOwned else {
            throw InputError(run, "is not a run of ntng (no \(OwnedFolder.markerName) marker); no checkpoint written")
        }
        let temporary = directory + ".tmp"
        try? fm.removeItem(atPath: temporary)
        try fm.createDirectory(atPath: temporary, withIntermediateDirectories: true)
        var meta = metadata
        meta["format"] = "pt"
        meta["ntng_model"] = type(of: model.shape).name
        meta["ntng_model_config"] = String(
            decoding: try JSONCoding.encoder(pretty: false).encode(model.shape), as: UTF8.self)
        try SafeTensors.write(model.checkpointTensors, metadata: meta, to: temporary + "/model.safetensors")
        var buffers: [(String, Tensor)] = []
        for (i, p) in optimizer.arena.parameters.enumerated() {
            for (prefix, buffer) in optimizer.state {
                buffers.append((prefix + "." + p.name, optimizer.arena.view(of: buffer, parameter: i)))
            }
        }
        try SafeTensors.write(
            buffers, metadata: ["ntng_optimizer": optimizer.name], to: temporary + "/optimizer.safetensors")
        if !pluginTensors.isEmpty { try SafeTensors.write(pluginTensors, to: temporary + "/methods.safetensors") }
        try JSONCoding.encoder().encode(state).write(to: URL(fileURLWithPath: temporary + "/state.json"))
        let old = directory + ".old"
        try? fm.removeItem(atPath: old)
        if fm.fileExists(atPath: directory) { try fm.moveItem(atPath: directory, toPath: old) }
        try fm.moveItem(atPath: temporary, toPath: directory)
        try? fm.removeItem(atPath: old)
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

    /// Restores weights, optimiser moments and state from a checkpoint folder.
    public static func load(
        from directory: String, model: any PretrainingModel, optimizer: ArenaOptimizer
    ) throws -> TrainingState {
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
                    ?? "written by an earlier ntng (before state format 2); start the run again")
        }
        let state: TrainingState
        do { state = try JSONCoding.decoder().decode(TrainingState.self, from: data) } catch {
            throw InputError(statePath, "unreadable (\(JSONCoding.reason(error)))")
        }
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
