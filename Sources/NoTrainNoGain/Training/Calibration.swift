import Engine
import Foundation

/// `ntng calibrate`: measures this machine as a reference system for a model (spec §7's
/// procedure, in miniature): the time of one training micro-batch — forward, backward and the
/// optimiser step amortised over the accumulation steps — for every number of active layers
/// 1…L, and of a forward-only pass with all layers. The result is a `CostModel` that budgets of
/// small CPU models are charged from; runs record which table they used.
public enum Calibration {
    public static func measure(_ config: PretrainingConfig, repeats: Int = 3, progress: (String) -> Void = { _ in }) -> CostModel {
        let micro = config.training.microBatchSize, length = config.data.sequenceLength
        let accumulation = config.training.batchSize / micro
        let model = CrammedBERT(config.model, seed: 0)
        let arena = ParameterArena(model.parameters)
        let optimizer = config.optimizer.make(arena, batchTokens: config.training.batchSize * config.data.sequenceLength)
        let vocabulary = config.model.vocabularySize
        let masking = MLMMasking(maskTokenID: 6, vocabularySize: vocabulary, specialTokenIDs: Array(0..<7))
        var g = SeededGenerator(seed: 3)
        func batch() -> MLMBatch {
            let tokens = (0..<(micro * length)).map { _ in Int32(7 + g.int(below: vocabulary - 7)) }
            return masking.mask(tokens, sequenceLength: length, exampleIndices: Array(0..<micro), generator: &g)
        }
        func median(_ body: () -> Void) -> Double {
            body()   // warm-up
            return Stopwatch.median((0..<repeats).map { _ in Stopwatch.time(body) })
        }
        let optimizerTime = median {
            let out = model.maskedLMLoss(batch())
            out.loss.backward()
            optimizer.step(learningRate: 0)
            arena.zeroGrad()
        } - median {
            let out = model.maskedLMLoss(batch())
            out.loss.backward()
            arena.zeroGrad()
        }
        var perLayers: [Double] = []
        for layers in 1...config.model.layers {
            let active = Array(0..<layers)
            let t = median {
                let out = model.maskedLMLoss(batch(), activeBlocks: active)
                out.loss.backward()
                arena.zeroGrad()
            }
            perLayers.append(t + max(optimizerTime, 0) / Double(accumulation))
            progress("\(layers) layer(s): \(String(format: "%.4f", perLayers.last!)) s per micro-batch of \(micro)")
        }
        let forward = median { _ = withoutGradients { model.maskedLMLoss(batch()) } }
        progress("forward only: \(String(format: "%.4f", forward)) s")
        let cpu = CPUFeatures.host
        let source = "calibrated: \(config.model.layers)L/\(config.model.hidden)d/\(config.model.heads)h vocab \(vocabulary), "
            + "micro-batch \(micro)×\(length), on \(cpu.modelName) (\(Parallel.threadCount) threads, "
            + "\(CPUBackend.shared.blas.kind.rawValue) \(CPUBackend.shared.blas.kernel))"
        return CostModel(source: source, trainingPerLayers: perLayers, forwardOnly: forward, microBatchSize: micro)
    }
}
