import Engine
import Foundation

/// `ntng calibrate`: measures this machine as a reference system for a model, BERT or T5 (the
/// paper's procedure of §2, in miniature): the time of one training micro-batch — forward, backward and the
/// optimiser step amortised over the accumulation steps — for every number of active layers
/// 1…L, and of a forward-only pass with all layers. The result is a `CostModel` that budgets of
/// small CPU models are charged from; runs record which table they used.
public enum Calibration {
    public static func measure(
        _ config: PretrainingConfig, repeats: Int = 3, progress: (String) -> Void = { _ in }
    ) -> CostModel {
        let micro = config.training.microBatchSize
        let accumulation = config.training.batchSize / micro
        let model = config.model.make(seed: 0)
        let arena = ParameterArena(model.parameters)
        let optimizer = config.optimizer.make(
            arena, batchTokens: config.training.batchSize * config.data.sequenceLength)
        var batches = SyntheticBatches(
            model: config.model, objective: config.objective.settings, rowLength: config.rowLength, batchSize: micro,
            seed: 3)
        func batch() -> PretrainingBatch { batches.next() }
        func median(_ body: () -> Void) -> Double {
            body()  // warm-up
            return Stopwatch.median((0..<repeats).map { _ in Stopwatch.time(body) })
        }
        let optimizerTime =
            median {
                let out = model.loss(batch())
                out.loss.backward()
                optimizer.step(learningRate: 0)
                arena.zeroGrad()
            }
            - median {
                let out = model.loss(batch())
                out.loss.backward()
                arena.zeroGrad()
            }
        var perLayers: [Double] = []
        for layers in 1...config.model.layers {
            let active = Array(0..<layers)
            let t = median {
                let out = model.loss(batch(), activeBlocks: active)
                out.loss.backward()
                arena.zeroGrad()
            }
            perLayers.append(t + max(optimizerTime, 0) / Double(accumulation))
            progress("\(layers) layer(s): \(String(format: "%.4f", perLayers.last!)) s per micro-batch of \(micro)")
        }
        let forward = median { _ = withoutGradients { model.loss(batch()) } }
        progress("forward only: \(String(format: "%.4f", forward)) s")
        let cpu = CPUFeatures.host
        let source =
            "calibrated: \(config.model.summary) vocab \(config.model.vocabularySize), "
            + "micro-batch \(micro)×\(config.data.sequenceLength), "
            + "on \(cpu.modelName) (\(Parallel.threadCount) threads, "
            + "\(CPUBackend.shared.blas.kind.rawValue) \(CPUBackend.shared.blas.kernel))"
        return CostModel(source: source, trainingPerLayers: perLayers, forwardOnly: forward, microBatchSize: micro)
    }
}
