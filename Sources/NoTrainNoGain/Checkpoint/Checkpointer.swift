import Engine
import Foundation

/// Saving and restoring a run: `model.safetensors` (Hugging Face BERT or T5 names where a
/// counterpart exists; the model's kind and shape in its metadata), `optimizer.safetensors` (the
/// optimiser's state by parameter name) and `state.json`. A
/// checkpoint is written to a temporary folder and renamed into place, so an interrupted write
/// never leaves a half checkpoint.
public enum Checkpointer {
    public static func save(
        to directory: String, model: any PretrainingModel, optimizer: ArenaOptimizer, state: TrainingState,
        methodState: [(String, Tensor)] = [], metadata: [String: String]
    ) throws {
        let fm = FileManager.default
        let temporary = directory + ".tmp"
        try? fm.removeItem(atPath: temporary)
        try fm.createDirectory(atPath: temporary, withIntermediateDirectories: true)
        var meta = metadata
        meta["format"] = "pt"
        meta["ntng_model"] = model.kind
        meta["ntng_model_config"] = model.configJSON
        try SafeTensors.write(model.checkpointTensors, metadata: meta, to: temporary + "/model.safetensors")
        var buffers: [(String, Tensor)] = []
        for (i, p) in optimizer.arena.parameters.enumerated() {
            for (prefix, buffer) in optimizer.state {
                buffers.append((prefix + "." + p.name, optimizer.arena.view(of: buffer, parameter: i)))
            }
        }
        try SafeTensors.write(
            buffers, metadata: ["ntng_optimizer": optimizer.name], to: temporary + "/optimizer.safetensors")
        if !methodState.isEmpty { try SafeTensors.write(methodState, to: temporary + "/methods.safetensors") }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(state).write(to: URL(fileURLWithPath: temporary + "/state.json"))
        let old = directory + ".old"
        try? fm.removeItem(atPath: old)
        if fm.fileExists(atPath: directory) { try fm.moveItem(atPath: directory, toPath: old) }
        try fm.moveItem(atPath: temporary, toPath: directory)
        try? fm.removeItem(atPath: old)
    }

    /// Loads model weights (every tensor the model has must be present with its shape).
    public static func loadModel(from path: String, into model: any PretrainingModel) throws {
        let (tensors, metadata) = try SafeTensors.read(path)
        if let kind = metadata["ntng_model"], kind != model.kind {
            throw CheckpointError.file(path, "holds a \(kind) model, not a \(model.kind)")
        }
        for (name, tensor) in model.checkpointTensors {
            guard let entry = tensors[name] else { throw CheckpointError.file(path, "tensor '\(name)' is missing") }
            try SafeTensors.assign(entry, to: tensor, name: name, path: path)
        }
    }

    /// The methods' saved state (`methods.safetensors`), empty if there is none.
    public static func loadMethodState(from directory: String) throws -> [String: SafeTensors.Entry] {
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
            throw CheckpointError.file(directory, "no checkpoint here (state.json missing)")
        }
        let state: TrainingState
        do { state = try JSONDecoder().decode(TrainingState.self, from: data) } catch {
            throw CheckpointError.file(statePath, "unreadable (\(error))")
        }
        try loadModel(from: directory + "/model.safetensors", into: model)
        let optimizerPath = directory + "/optimizer.safetensors"
        let (stored, metadata) = try SafeTensors.read(optimizerPath)
        guard metadata["ntng_optimizer"] == optimizer.name else {
            throw CheckpointError.file(
                optimizerPath, "holds \(metadata["ntng_optimizer"] ?? "unknown") state, the run uses \(optimizer.name)")
        }
        for (i, p) in optimizer.arena.parameters.enumerated() {
            for (prefix, buffer) in optimizer.state {
                let key = prefix + "." + p.name
                guard let entry = stored[key] else {
                    throw CheckpointError.file(optimizerPath, "tensor '\(key)' is missing")
                }
                try SafeTensors.assign(
                    entry, to: optimizer.arena.view(of: buffer, parameter: i), name: key, path: optimizerPath)
            }
        }
        guard state.parameterSteps.count == optimizer.arena.parameters.count else {
            throw CheckpointError.file(
                statePath,
                "holds \(state.parameterSteps.count) parameter step counters, the model has \(optimizer.arena.parameters.count)"
            )
        }
        optimizer.restoreSteps(state.parameterSteps)
        return state
    }
}
