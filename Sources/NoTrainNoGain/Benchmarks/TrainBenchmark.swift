import Engine

/// `ntng bench train`: one crammed-BERT training step (forward, backward, clipping, AdamW) on a
/// micro-batch of random tokens, masked as in pre-training; reports tokens/s and the split of the
/// step into phases and kernel families. The default is the tiny CPU model (4 layers, hidden 256,
/// 4 heads, GLU 1024 → 512, vocabulary 8192, sequence 128, batch 32, no dropout).
public struct TrainBenchmark {
    public struct Report: Codable {
        public let benchmark: String
        public let machine: [String: String]
        public let model: CrammedBERTConfig
        public let activeBlocks: Int
        public let batchSize: Int
        public let sequenceLength: Int
        public let steps: Int
        public let tokensPerSecond: Double
        public let stepMilliseconds: Double
        public let gflopsEffective: Double
        /// Median milliseconds per phase.
        public let phasesMilliseconds: [String: Double]
        /// Milliseconds per step in GEMMs (linear layers), fused attention, and everything else.
        public let kernelsMilliseconds: [String: Double]
        /// Median milliseconds of one optimiser step (the update over all parameters) per optimiser.
        public let optimizerStepMilliseconds: [String: Double]
        public let finalLoss: Float
    }

    public var config: CrammedBERTConfig
    public var batchSize: Int
    public var sequenceLength: Int
    public var steps: Int
    public var warmup: Int
    /// Run only the first n blocks (what layer stacking / dropping leave active); nil = all.
    public var activeBlocks: Int?

    public init(config: CrammedBERTConfig = .tiny, batchSize: Int = 32, sequenceLength: Int = 128, steps: Int = 10, warmup: Int = 2) {
        self.config = config
        self.batchSize = batchSize
        self.sequenceLength = sequenceLength
        self.steps = steps
        self.warmup = warmup
    }

    public func run(progress: (String) -> Void = { _ in }) -> Report {
        let backend = CPUBackend.shared
        let model = CrammedBERT(config, seed: 0)
        let arena = ParameterArena(model.parameters)
        let optimizer: ArenaOptimizer = AdamW(arena)
        // Token ids 8… (the first ids are special), masked as in pre-training.
        let masking = MLMMasking(maskTokenID: 4, vocabularySize: config.vocabularySize, specialTokenIDs: Array(0..<8))
        var g = SeededGenerator(seed: 1)
        func batch() -> MLMBatch {
            let tokens = (0..<(batchSize * sequenceLength)).map { _ in Int32(8 + g.int(below: config.vocabularySize - 8)) }
            return masking.mask(tokens, sequenceLength: sequenceLength, exampleIndices: Array(0..<batchSize), generator: &g)
        }
        var forward: [Double] = [], backward: [Double] = [], optimizerTimes: [Double] = [], total: [Double] = []
        var kernels: [String: [Double]] = [:]
        var loss: Float = 0
        for step in 0..<(warmup + steps) {
            let b = batch()
            backend.profile.reset()
            backend.profile.isEnabled = true
            var output: MLMOutput?
            let blocks = activeBlocks.map { Array(0..<$0) }
            let tf = Stopwatch.time { output = model.maskedLMLoss(b, activeBlocks: blocks) }
            let tb = Stopwatch.time { output!.loss.backward() }
            let to = Stopwatch.time {
                clipGradientNorm(arena.tensors, maxNorm: 0.5)
                optimizer.step(learningRate: 1e-3)
                arena.zeroGrad()
            }
            backend.profile.isEnabled = false
            loss = output!.loss.item()
            progress("step \(step + 1)/\(warmup + steps): loss \(loss), \(Int((tf + tb + to) * 1000)) ms")
            guard step >= warmup else { continue }
            forward.append(tf); backward.append(tb); optimizerTimes.append(to); total.append(tf + tb + to)
            let s = backend.profile.seconds
            let gemm = s["gemm"] ?? 0, attention = s["attention"] ?? 0
            kernels["gemm", default: []].append(gemm)
            kernels["attention", default: []].append(attention)
            kernels["other", default: []].append(tf + tb + to - gemm - attention)
        }
        // Optimiser step alone, per optimiser, on the gradients of one more backward pass.
        let output = model.maskedLMLoss(batch())
        output.loss.backward()
        var optimizerSteps: [String: Double] = [:]
        for name in OptimizerConfig.Name.allCases {
            let o = OptimizerConfig(name: name).make(arena, batchTokens: batchSize * sequenceLength)
            let ms = Stopwatch.median(repeats: max(steps, 5)) { o.step(learningRate: 1e-9) } * 1000
            optimizerSteps[name.rawValue] = ms.rounded(to: 2)
        }
        arena.zeroGrad()
        let t = Stopwatch.median(total)
        let tokens = Double(batchSize * sequenceLength)
        let flops = config.trainingFLOPsPerToken(sequenceLength: sequenceLength, maskedFraction: 0.15) * tokens
        let ms = { (xs: [Double]) in (Stopwatch.median(xs) * 1000).rounded(to: 2) }
        return Report(benchmark: "train", machine: backend.report, model: config, activeBlocks: activeBlocks ?? config.layers,
                      batchSize: batchSize,
                      sequenceLength: sequenceLength, steps: steps, tokensPerSecond: (tokens / t).rounded(to: 0),
                      stepMilliseconds: (t * 1000).rounded(to: 2), gflopsEffective: (flops / t / 1e9).rounded(to: 1),
                      phasesMilliseconds: ["forward": ms(forward), "backward": ms(backward), "optimizer": ms(optimizerTimes)],
                      kernelsMilliseconds: kernels.mapValues(ms), optimizerStepMilliseconds: optimizerSteps, finalLoss: loss)
    }
}
