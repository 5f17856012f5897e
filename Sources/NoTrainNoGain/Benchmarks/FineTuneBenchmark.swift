import Engine

/// `ntng bench finetune`: one GLUE fine-tuning step as `FineTuning` takes it — a crammed BERT with the
/// classification head (first-token pooling, 1024-wide tanh layer), dropout on (encoder and head),
/// cross-entropy over 2 classes, AdamW with the GLUE recipe's settings, no clipping — on batches of
/// random full-length sequences; reports tokens/s, examples/s, the step's phases and effective GFLOP/s
/// (the encoder's training FLOPs; the head's are negligible).
public struct FineTuneBenchmark {
    public struct Report: Codable {
        public let benchmark: String
        public let machine: [String: String]
        public let model: CrammedBERTConfig
        public let batchSize: Int
        public let sequenceLength: Int
        public let steps: Int
        public let tokensPerSecond: Double
        public let examplesPerSecond: Double
        public let stepMilliseconds: Double
        public let gflopsEffective: Double
        public let phasesMilliseconds: [String: Double]
        public let finalLoss: Float
    }

    public var config: CrammedBERTConfig
    public var batchSize: Int
    public var sequenceLength: Int
    public var steps: Int
    public var warmup = 2

    public init(config: CrammedBERTConfig = .tiny, batchSize: Int = 16, sequenceLength: Int = 128, steps: Int = 10) {
        self.config = config
        self.batchSize = batchSize
        self.sequenceLength = sequenceLength
        self.steps = steps
    }

    public func run(progress: (String) -> Void = { _ in }) -> Report {
        var encoderConfig = config
        if encoderConfig.dropout == 0 { encoderConfig.dropout = 0.1 }
        let model = SequenceClassifier(encoder: CrammedBERT(encoderConfig, seed: 0), classes: 2, seed: 1)
        let arena = ParameterArena(model.parameters)
        let recipe = FineTuningRecipe.paper(.glue)
        let optimizer = AdamW(arena, recipe.optimizer)
        var g = SeededGenerator(seed: 7)
        let lengths = Tensor(int32: [Int32](repeating: Int32(sequenceLength), count: batchSize), shape: [batchSize])
        var forward: [Double] = [], backward: [Double] = [], update: [Double] = []
        var loss: Float = 0
        for step in 0..<(warmup + steps) {
            let ids = Tensor(
                int32: (0..<(batchSize * sequenceLength)).map { _ in Int32(8 + g.int(below: config.vocabularySize - 8))
                },
                shape: [batchSize, sequenceLength])
            let labels = Tensor(int32: (0..<batchSize).map { _ in Int32(g.int(below: 2)) }, shape: [batchSize])
            var l: Tensor?
            let tf = Stopwatch.time {
                l =
                    softmaxCrossEntropy(logits: model(ids, lengths: lengths, dropoutSeed: UInt64(step)), labels: labels)
                    .loss
            }
            let tb = Stopwatch.time { l!.backward() }
            let to = Stopwatch.time {
                optimizer.step(learningRate: Float(recipe.learningRate))
                arena.zeroGrad()
            }
            loss = l!.item()
            progress("step \(step + 1)/\(warmup + steps): loss \(loss), \(Int((tf + tb + to) * 1000)) ms")
            guard step >= warmup else { continue }
            forward.append(tf)
            backward.append(tb)
            update.append(to)
        }
        let t = Stopwatch.median(zip(zip(forward, backward), update).map { $0.0 + $0.1 + $1 })
        let tokens = Double(batchSize * sequenceLength)
        let flops = config.trainingFLOPsPerToken(sequenceLength: sequenceLength, maskedFraction: 0) * tokens
        let ms = { (xs: [Double]) in (Stopwatch.median(xs) * 1000).rounded(to: 2) }
        return Report(
            benchmark: "finetune", machine: CPUBackend.shared.report, model: encoderConfig, batchSize: batchSize,
            sequenceLength: sequenceLength, steps: steps, tokensPerSecond: (tokens / t).rounded(to: 0),
            examplesPerSecond: (Double(batchSize) / t).rounded(to: 1), stepMilliseconds: (t * 1000).rounded(to: 2),
            gflopsEffective: (flops / t / 1e9).rounded(to: 1),
            phasesMilliseconds: ["forward": ms(forward), "backward": ms(backward), "optimizer": ms(update)],
            finalLoss: loss)
    }
}
