import Engine

/// `ntng bench train`: one training step (forward, backward, clipping, the model's baseline
/// optimiser, all as the model kind's recipe has them), repeated on one micro-batch of random tokens corrupted
/// by the model's objective as in pre-training; reports tokens/s (input tokens), effective GFLOP/s
/// and the split of the step into phases and kernel families; each GEMM shape's calls and rate, and
/// the step's share of the machine's measured peak (`GEMMRates`; the large GEMM is also timed once
/// after each step, so that each shape is compared with the peak scaled to its moment). Models:
/// crammed BERT with AdamW (default: the tiny CPU model, 4 layers, hidden 256, 4 heads, GLU 1024 → 512,
/// vocabulary 8192, sequence 128, batch 32), or T5 v1.1 with AdamWScale (`T5Config.tiny`; inputs of
/// `sequenceLength` from raw rows as span corruption needs, e.g. 128 inputs / 29 targets).
public struct TrainBenchmark {
    public struct Report: Codable {
        public let benchmark: String
        public let machine: [String: String]
        public let model: ModelConfig
        public let activeBlocks: Int
        public let batchSize: Int
        public let sequenceLength: Int
        /// Decoder targets per example (T5).
        public let targetLength: Int?
        public let steps: Int
        public let tokensPerSecond: Double
        public let stepMilliseconds: Double
        public let gflopsEffective: Double
        /// The large GEMM that stands for this machine's peak, and `gflopsEffective` over it (MFU).
        public let machinePeak: GEMMRates.Peak
        public let shareOfPeak: Double
        /// All of the step's GEMMs together: FLOPs over time in them.
        public let gemmGFLOPS: Double
        public let gemmShapes: [GEMMRates.Shape]
        /// Median milliseconds per phase.
        public let phasesMilliseconds: [String: Double]
        /// Milliseconds per step in each kernel family the backend books (gemm: linear layers; attention;
        /// activation; normalization; elementwise; embedding; loss; optimizer) and in everything else
        /// ("other": the tape, allocation, the gradient-norm clip).
        public let kernelsMilliseconds: [String: Double]
        /// Median milliseconds of one optimiser step (the update over all parameters) per optimiser.
        public let optimizerStepMilliseconds: [String: Double]
        public let finalLoss: Float
    }

    public var config: ModelConfig
    public var batchSize: Int
    public var sequenceLength: Int
    public var steps: Int
    public var warmup: Int
    /// Run only the first n blocks (what layer stacking / dropping leave active); nil = all.
    public var activeBlocks: Int?

    /// `sequenceLength`: tokens per row (BERT) or encoder inputs per example (T5).
    public init(
        config: ModelConfig = ModelConfig(CrammedBERTConfig.tiny), batchSize: Int = 32, sequenceLength: Int = 128,
        steps: Int = 10,
        warmup: Int = 2
    ) {
        self.config = config
        self.batchSize = batchSize
        self.sequenceLength = sequenceLength
        self.steps = steps
        self.warmup = warmup
    }

    public func run(progress: (String) -> Void = { _ in }) throws -> Report {
        let backend = CPUBackend.shared
        let model = config.make(seed: 0)
        let arena = ParameterArena(model.parameters)
        let recipe = config.recipe
        let optimizer = OptimizerConfig.paper(named: recipe.optimizer, for: RecipeContext(model: config))!
            .make(arena, batchTokens: batchSize * sequenceLength)
        let objective = try config.objective.read(.empty)
        let rowLength = objective.rowLength(forSequenceLength: sequenceLength)
        var batches = SyntheticBatches(model: config, objective: objective, rowLength: rowLength, batchSize: batchSize)
        // Every step runs the same micro-batch, so that each GEMM shape (the masked-token head's rows
        // vary between batches) comes a whole number of times per step.
        let batch = batches.next()
        let targetLength = objective.targetLength(rowLength: rowLength)
        var forward: [Double] = [], backward: [Double] = [], optimizerTimes: [Double] = [], total: [Double] = []
        var kernels: [String: [Double]] = [:]
        var gemms: [[KernelProfile.GEMMShape: KernelProfile.GEMMTotal]] = []
        var moments = GEMMRates.MomentSampler()
        var loss: Float = 0
        for step in 0..<(warmup + steps) {
            backend.profile.reset()
            backend.profile.isEnabled = true
            var output: PretrainingOutput?
            let blocks = activeBlocks.map { Array(0..<$0) }
            let tf = Stopwatch.time { output = model.loss(batch, activeBlocks: blocks) }
            let tb = Stopwatch.time { output!.loss.backward() }
            let to = Stopwatch.time {
                clipGradientNorm(arena.tensors, maxNorm: Float(recipe.gradientClip))
                optimizer.step(learningRate: 1e-3)
                arena.zeroGrad()
            }
            backend.profile.isEnabled = false
            loss = output!.loss.item()
            progress("step \(step + 1)/\(warmup + steps): loss \(loss), \(Int((tf + tb + to) * 1000)) ms")
            guard step >= warmup else { continue }
            forward.append(tf); backward.append(tb); optimizerTimes.append(to); total.append(tf + tb + to)
            let families = backend.profile.seconds
            for (family, seconds) in families { kernels[family, default: []].append(seconds) }
            kernels["other", default: []].append(tf + tb + to - families.values.reduce(0, +))
            gemms.append(backend.profile.gemms)
            moments.timeAfterStep()
        }
        // Optimiser step alone, per optimiser, on the gradients of one more backward pass.
        let output = model.loss(batch)
        output.loss.backward()
        var optimizerSteps: [String: Double] = [:]
        for type in Plugins.optimizers {
            let o = OptimizerConfig.paper(type, for: RecipeContext(model: config))
                .make(arena, batchTokens: batchSize * sequenceLength)
            let ms = Stopwatch.median(repeats: max(steps, 5)) { o.step(learningRate: 1e-9) } * 1000
            optimizerSteps[type.name] = ms.rounded(to: 2)
        }
        arena.zeroGrad()
        progress("the machine's large GEMM")
        moments.timeBeforePeak()
        let peak = GEMMRates.measurePeak()
        let t = Stopwatch.median(total)
        let tokens = Double(batchSize * sequenceLength)
        let flops = config.shape.trainingFLOPs(
            batchSize: batchSize, inputLength: sequenceLength, targetLength: targetLength)
        let ms = { (xs: [Double]) in (Stopwatch.median(xs) * 1000).rounded(to: 2) }
        let gemmFLOPs = gemms.joined().reduce(0.0) { $0 + $1.key.flops * Double($1.value.calls) }
        let gemmSeconds = gemms.joined().reduce(0.0) { $0 + $1.value.seconds }
        return Report(
            benchmark: "train", machine: backend.report, model: config, activeBlocks: activeBlocks ?? config.layers,
            batchSize: batchSize, sequenceLength: sequenceLength, targetLength: targetLength, steps: steps,
            tokensPerSecond: (tokens / t).rounded(to: 0),
            stepMilliseconds: (t * 1000).rounded(to: 2), gflopsEffective: (flops / t / 1e9).rounded(to: 1),
            machinePeak: peak, shareOfPeak: (flops / t / 1e9 / peak.gflops).rounded(to: 3),
            gemmGFLOPS: (gemmFLOPs / gemmSeconds / 1e9).rounded(to: 1),
            gemmShapes: GEMMRates.shapes(gemms, peakGFLOPS: peak.gflops, peakScales: moments.peakScales),
            phasesMilliseconds: ["forward": ms(forward), "backward": ms(backward), "optimizer": ms(optimizerTimes)],
            kernelsMilliseconds: kernels.mapValues(ms), optimizerStepMilliseconds: optimizerSteps, finalLoss: loss)
    }
}
