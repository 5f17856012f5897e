import Engine
import Foundation

/// The fine-tuning recipe (the original code's `bert/eval.py` with `config/eval/GLUE_sane.yaml`
/// and `SuperGLUE.yaml`): AdamW (β = 0.9, 0.98; ε = 1e-6; no weight decay), no gradient
/// clipping, batches of 16, sequences truncated to 128 tokens, linear warm-up over 10% of the steps
/// then cosine decay; GLUE 5 epochs at lr 4e-5, SuperGLUE 10 epochs at lr 5e-5; the dev sets
/// are scored after every epoch and a task's score is its best epoch.
public struct FineTuningRecipe: Codable, Equatable, Sendable {
    public var epochs: Int
    public var learningRate: Double
    public var batchSize = 16
    public var warmupFraction = 0.1
    public var maxLength = 128
    public var evaluationBatchSize = 64
    public var optimizer = AdamW.Hyperparameters(beta1: 0.9, beta2: 0.98, epsilon: 1e-6, weightDecay: 0)
    /// Whose behaviour the quirk settings below default to.
    public var reproduce = Reproduce.intended
    /// Drop each epoch's last incomplete batch (the original's training loader: `drop_last=True`).
    public var dropLastBatch = false
    /// A fixed number of warm-up steps instead of `warmupFraction` of each task's steps.
    public var warmupSteps: Int?
    /// Every task warms up for `warmupFraction` of the steps of the first task of the run (the
    /// original's `schedulers.py` turns the fraction into steps inside the shared config, so later
    /// tasks reuse the first task's count: CoLA's 267 in a GLUE run, BoolQ's 589 in SuperGLUE).
    public var warmupFromFirstTask = false
    /// SuperGLUE inputs keep only the first two text fields (`SuperGLUE.tasks(keepFirstTwoFieldsOnly:)`).
    public var firstTwoFieldsOnly = false

    public init(epochs: Int, learningRate: Double) {
        self.epochs = epochs
        self.learningRate = learningRate
    }

    /// The paper's recipe for `suite`; `reproduce: .originalCode` turns on every quirk of the original
    /// fine-tuning code (`bert/eval.py`, `cramming/backend/utils.py`, `data/downstream_task_preparation.py`).
    public static func paper(_ suite: DownstreamTask.Suite, reproduce: Reproduce = .intended) -> FineTuningRecipe {
        var r =
            suite == .glue
            ? FineTuningRecipe(epochs: 5, learningRate: 4e-5) : FineTuningRecipe(epochs: 10, learningRate: 5e-5)
        r.reproduce = reproduce
        let original = reproduce == .originalCode
        r.dropLastBatch = original
        r.warmupFromFirstTask = original
        r.firstTwoFieldsOnly = original
        return r
    }

    /// The original code's quirks this recipe runs with, in words.
    public var quirks: [String] {
        (dropLastBatch ? ["each epoch's last incomplete batch dropped"] : [])
            + (warmupSteps.map { ["warm-up fixed at \($0) steps" + (warmupFromFirstTask ? " (the first task's)" : "")] }
                ?? [])
            + (firstTwoFieldsOnly ? ["SuperGLUE inputs from the first two fields"] : [])
    }

    /// `warmupFraction` of the steps over `examples` training examples, in whole steps (the original's
    /// `int(warmup_steps * steps)`).
    public func warmupSteps(examples: Int) -> Int {
        Int(warmupFraction * Double(stepsPerEpoch(examples: examples) * epochs))
    }

    /// Optimiser steps per epoch over `examples` training examples.
    public func stepsPerEpoch(examples: Int) -> Int {
        dropLastBatch ? examples / batchSize : (examples + batchSize - 1) / batchSize
    }

    /// The schedule of a run of `totalSteps` steps.
    public func schedule(totalSteps: Int) -> LearningRateSchedule {
        .warmupCosine(warmup: warmupSteps.map { Double($0) / Double(max(totalSteps, 1)) } ?? warmupFraction)
    }

    /// The settings a report names; reports written before the quirk settings existed read as intended.
    enum CodingKeys: String, CodingKey {
        case epochs, learningRate, batchSize, warmupFraction, maxLength, evaluationBatchSize, optimizer, reproduce,
            dropLastBatch, warmupSteps, warmupFromFirstTask, firstTwoFieldsOnly
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        epochs = try c.decode(Int.self, forKey: .epochs)
        learningRate = try c.decode(Double.self, forKey: .learningRate)
        batchSize = try c.decode(Int.self, forKey: .batchSize)
        warmupFraction = try c.decode(Double.self, forKey: .warmupFraction)
        maxLength = try c.decode(Int.self, forKey: .maxLength)
        evaluationBatchSize = try c.decode(Int.self, forKey: .evaluationBatchSize)
        optimizer = try c.decode(AdamW.Hyperparameters.self, forKey: .optimizer)
        reproduce = try c.decodeIfPresent(Reproduce.self, forKey: .reproduce) ?? .intended
        dropLastBatch = try c.decodeIfPresent(Bool.self, forKey: .dropLastBatch) ?? false
        warmupSteps = try c.decodeIfPresent(Int.self, forKey: .warmupSteps)
        warmupFromFirstTask = try c.decodeIfPresent(Bool.self, forKey: .warmupFromFirstTask) ?? false
        firstTwoFieldsOnly = try c.decodeIfPresent(Bool.self, forKey: .firstTwoFieldsOnly) ?? false
    }
}

/// A tokenised example: ids with the tokenizer's pair or single template, truncated longest-first.
public struct EncodedExample: Sendable {
    public var ids: [Int32]
    public var label: Double
}

extension Tokenizer {
    /// Ids of `a` (and `b`) with the template, at most `maxLength`, trimming the longer text first.
    public func encodeForClassification(_ a: String, _ b: String?, maxLength: Int) -> [Int32] {
        var x = encodeWithoutTemplate(a), y = b.map(encodeWithoutTemplate)
        let special = postProcessor?.addedCount(pair: y != nil) ?? 0
        while x.count + (y?.count ?? 0) + special > maxLength {
            if let yy = y, yy.count > x.count { y!.removeLast() } else if !x.isEmpty { x.removeLast() } else { break }
        }
        return postProcessor.map { $0.apply(x, y) } ?? x + (y ?? [])
    }
}

/// Fine-tunes one classifier on one task with one seed, scoring its dev sets after every epoch.
public struct FineTuning {
    public struct EpochResult: Codable, Sendable {
        public var epoch: Int
        /// dev set → metric → value.
        public var metrics: [String: [String: Double]]
        public var trainLoss: Double
    }

    public struct Result: Codable, Sendable {
        public var seed: UInt64
        public var epochs: [EpochResult]
        /// The epoch with the best primary metric on the first dev set (1-based).
        public var bestEpoch: Int
        public var best: [String: [String: Double]]
        public var wallSeconds: Double
        public var trainExamples: Int
        public var steps: Int
    }

    public let task: DownstreamTask
    public let recipe: FineTuningRecipe
    public let tokenizer: Tokenizer

    public init(task: DownstreamTask, recipe: FineTuningRecipe, tokenizer: Tokenizer) {
        self.task = task
        self.recipe = recipe
        self.tokenizer = tokenizer
    }

    public func encode(_ examples: [TaskExample]) -> [EncodedExample] {
        examples.map {
            EncodedExample(
                ids: tokenizer.encodeForClassification($0.textA, $0.textB, maxLength: recipe.maxLength), label: $0.label
            )
        }
    }

    /// Padded ids [B, S], lengths [B] and labels of `examples`.
    func batch(_ examples: [EncodedExample]) -> (ids: Tensor, lengths: Tensor, labels: [Double]) {
        let padded = PaddedIDs(examples.map(\.ids), pad: tokenizer.padID ?? 0)
        return (padded.ids, padded.lengths, examples.map(\.label))
    }

    /// The loss of a batch: mean squared error for regression, else cross-entropy.
    func loss(
        _ model: SequenceClassifier, _ b: (ids: Tensor, lengths: Tensor, labels: [Double]), dropoutSeed: UInt64,
        dropout: Bool = true
    ) -> Tensor {
        let out = model(b.ids, lengths: b.lengths, dropoutSeed: dropout ? dropoutSeed : nil)
        if task.isRegression {
            let d = out.reshaped([b.labels.count]) - Tensor(b.labels.map(Float.init), shape: [b.labels.count])
            return (d * d).mean()
        }
        return softmaxCrossEntropy(
            logits: out, labels: Tensor(int32: b.labels.map { Int32($0) }, shape: [b.labels.count])
        ).loss
    }

    /// Predicted class (or score) of every example, without dropout or gradients.
    public func predict(_ model: SequenceClassifier, _ examples: [EncodedExample]) -> [Double] {
        var out: [Double] = []
        var start = 0
        while start < examples.count {
            let b = batch(Array(examples[start..<min(start + recipe.evaluationBatchSize, examples.count)]))
            let values = withoutGradients { model(b.ids, lengths: b.lengths, dropoutSeed: nil).scalars() }
            if task.isRegression {
                out += values.map(Double.init)
            } else {
                for r in 0..<b.labels.count {
                    let row = values[(r * model.classes)..<((r + 1) * model.classes)]
                    out.append(Double(row.firstIndex(of: row.max()!)! - r * model.classes))
                }
            }
            start += recipe.evaluationBatchSize
        }
        return out
    }

    /// Trains `model` on `train` for the recipe's epochs and scores `dev` after each.
    public func run(
        _ model: SequenceClassifier, train: [TaskExample], dev: [(String, [TaskExample])], seed: UInt64,
        progress: (String) -> Void = { _ in }
    ) -> Result {
        let clock = ContinuousClock(), start = clock.now
        let encodedTrain = encode(train)
        let encodedDev = dev.map { ($0.0, encode($0.1), $0.1) }
        let arena = ParameterArena(model.parameters)
        let optimizer = AdamW(arena, recipe.optimizer)
        let step = TrainingStep(arena: arena, optimizer: optimizer, clip: 0)
        let stepsPerEpoch = recipe.stepsPerEpoch(examples: encodedTrain.count)
        let total = stepsPerEpoch * recipe.epochs, schedule = recipe.schedule(totalSteps: total)
        var done = 0
        var epochs: [EpochResult] = []
        for epoch in 1...recipe.epochs {
            var g = SeedStream.fineTuningOrder.generator(seed, epoch)
            let order = Array(encodedTrain.indices).shuffled(using: &g)
            var lossSum = 0.0
            for b in 0..<stepsPerEpoch {
                let members = order[(b * recipe.batchSize)..<min((b + 1) * recipe.batchSize, order.count)].map {
                    encodedTrain[$0]
                }
                let batch = self.batch(members)
                let dropout = SeedStream.fineTuningDropout.seed(seed, done)
                let outcome = step.run(
                    [batch], loss: { loss(model, $0, dropoutSeed: dropout) },
                    learningRate: {
                        recipe.learningRate * schedule.factor(progress: Double(done) / Double(total))
                    })
                lossSum += outcome.meanLoss
                done += 1
            }
            var metrics: [String: [String: Double]] = [:]
            for (name, examples, raw) in encodedDev where name != "mismatched" || epoch == recipe.epochs {
                metrics[name] = task.score(predict(model, examples), raw)
            }
            epochs.append(
                EpochResult(epoch: epoch, metrics: metrics, trainLoss: lossSum / Double(max(stepsPerEpoch, 1))))
            let first = dev.first?.0 ?? ""
            progress(
                "\(task.name) seed \(seed) epoch \(epoch)/\(recipe.epochs): train loss "
                    + "\(String(format: "%.4f", lossSum / Double(max(stepsPerEpoch, 1)))), "
                    + "dev \(task.primaryMetric) \(String(format: "%.4f", metrics[first]?[task.primaryMetric] ?? .nan))"
            )
        }
        let firstDev = dev.first?.0 ?? ""
        let best = epochs.max {
            ($0.metrics[firstDev]?[task.primaryMetric] ?? -.infinity)
                < ($1.metrics[firstDev]?[task.primaryMetric] ?? -.infinity)
        }!
        var bestMetrics = best.metrics
        // MNLI-mismatched is scored once, after the last epoch.
        if let last = epochs.last?.metrics["mismatched"] { bestMetrics["mismatched"] = last }
        return Result(
            seed: seed, epochs: epochs, bestEpoch: best.epoch, best: bestMetrics,
            wallSeconds: seconds(clock.now - start), trainExamples: train.count, steps: total)
    }
}

extension FineTuning {
    /// The batch loss of `examples` without dropout or gradients (tests).
    public func scoreForTesting(_ model: SequenceClassifier, _ examples: [TaskExample]) -> Double {
        Double(withoutGradients { loss(model, batch(encode(examples)), dropoutSeed: 0, dropout: false).item() })
    }
}
