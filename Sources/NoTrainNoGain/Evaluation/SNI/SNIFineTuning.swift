import Engine
import Foundation

/// One SNI instance ready for T5: its prompt's ids and its references.
public struct SNIExample: Sendable {
    public var task: String
    public var category: String
    public var id: String
    public var source: [Int32]
    public var references: [String]
}

/// Fine-tunes a T5 on SNI training tasks and scores it on test tasks (`SNIRecipe`).
public struct SNIFineTuning {
    public let recipe: SNIRecipe
    public let tokenizer: Tokenizer
    public let eosID: Int32

    public init(recipe: SNIRecipe, tokenizer: Tokenizer) throws {
        guard let eos = tokenizer.eosID, tokenizer.padID == T5.padID else {
            throw InputError("the tokenizer has no </s> or its <pad> is not id 0 (not a T5 tokenizer)")
        }
        self.recipe = recipe
        self.tokenizer = tokenizer
        eosID = eos
    }

    /// Tk-Instruct's category key: the task's first category, lowercased, words joined by "_".
    static func category(_ task: SNITask) -> String {
        PythonText.split(PythonText.lower(task.categories.first ?? "uncategorised")).joined(separator: "_")
    }

    /// The examples of `tasks` (instances drawn as `SNITask.instances` draws them), prompts encoded.
    public func examples(_ tasks: [SNITask], _ subset: SNITask.Subset, seed: UInt64) -> [SNIExample] {
        let prompt = recipe.prompt
        let limit = subset == .train ? recipe.trainInstancesPerTask : recipe.testInstancesPerTask
        let jobs = tasks.flatMap { task in task.instances(subset, limit: limit, seed: seed).map { (task, $0) } }
        var out = [SNIExample?](repeating: nil, count: jobs.count)
        out.withUnsafeMutableBufferPointer { buffer in
            let b = buffer
            Parallel.ranges(jobs.count) { r in
                for i in r {
                    let (task, instance) = jobs[i]
                    b[i] = SNIExample(
                        task: task.name, category: SNIFineTuning.category(task), id: instance.id,
                        source: prompt.sourceIDs(task, instance, tokenizer: tokenizer), references: instance.output)
                }
            }
        }
        return out.map { $0! }
    }

    public struct Training: Codable, Sendable {
        public var examples: Int
        public var epochs: Int
        public var steps: Int
        /// Mean training loss of each epoch.
        public var epochLosses: [Double]
        public var wallSeconds: Double
        public var examplesPerSecond: Double
        /// Source and target tokens (no padding) per second.
        public var tokensPerSecond: Double
    }

    /// Trains `model` on `examples` for the recipe's epochs: each epoch a seeded shuffle, each
    /// instance's target a seeded draw among its references, batches of `batchSize` (the last one
    /// smaller), AdamW at the constant learning rate.
    public func train(
        _ model: T5, _ examples: [SNIExample], seed: UInt64, progress: (String) -> Void = { _ in }
    ) -> Training {
        let clock = ContinuousClock(), start = clock.now
        let arena = ParameterArena(model.parameters)
        let step = TrainingStep(arena: arena, optimizer: AdamW(arena, recipe.optimizer), clip: 0)
        let perEpoch = (examples.count + recipe.batchSize - 1) / recipe.batchSize
        let total = perEpoch * recipe.epochs
        var done = 0, tokens = 0, losses: [Double] = []
        var report = ThrottledProgress(total: total)
        for epoch in stride(from: 1, through: recipe.epochs, by: 1) {
            var order = SeedStream.fineTuningOrder.generator(seed, epoch)
            var draws = SeedStream.sniReferences.generator(seed, epoch)
            let shuffled = Array(examples.indices).shuffled(using: &order)
            let targets = shuffled.map { i in
                recipe.prompt.targetIDs(examples[i].references.randomElement(using: &draws)!, tokenizer: tokenizer)
            }
            var sum = 0.0
            for b in 0..<perEpoch {
                let members = (b * recipe.batchSize)..<min((b + 1) * recipe.batchSize, shuffled.count)
                let sources = members.map { examples[shuffled[$0]].source }, batchTargets = Array(targets[members])
                tokens += sources.reduce(0) { $0 + $1.count } + batchTargets.reduce(0) { $0 + $1.count }
                let outcome = step.run(
                    [(sources, batchTargets)],
                    loss: { model.sequenceToSequenceLoss(sources: $0.0, targets: $0.1).loss },
                    learningRate: { recipe.learningRate })
                sum += outcome.meanLoss
                done += 1
                report.line(done: done, progress) { elapsed, eta in
                    "sni fine-tuning: epoch \(epoch)/\(recipe.epochs) step \(done)/\(total) | loss "
                        + String(format: "%.4f", outcome.meanLoss) + " | "
                        + String(format: "%.1f examples/s", Double(done * recipe.batchSize) / elapsed) + " | ETA \(eta)"
                }
            }
            losses.append(sum / Double(max(perEpoch, 1)))
        }
        let wall = seconds(clock.now - start)
        return Training(
            examples: examples.count, epochs: recipe.epochs, steps: done, epochLosses: losses, wallSeconds: wall,
            examplesPerSecond: wall > 0 ? Double(examples.count * recipe.epochs) / wall : 0,
            tokensPerSecond: wall > 0 ? Double(tokens) / wall : 0)
    }

    public struct Decoding: Codable, Sendable {
        public var instances: Int
        public var generatedTokens: Int
        public var wallSeconds: Double
        public var tokensPerSecond: Double
    }

    /// Greedy predictions for `examples` (batches of similar source length; results in input order):
    /// the generated ids decoded without special tokens, cleaned up and stripped.
    public func predict(
        _ model: T5, _ examples: [SNIExample], progress: (String) -> Void = { _ in }
    ) -> (texts: [String], decoding: Decoding) {
        let clock = ContinuousClock(), start = clock.now
        let order = examples.indices.sorted { examples[$0].source.count > examples[$1].source.count }
        var texts = [String](repeating: "", count: examples.count)
        var generated = 0, done = 0
        var report = ThrottledProgress(total: order.count)
        for first in stride(from: 0, to: order.count, by: recipe.evaluationBatchSize) {
            let members = Array(order[first..<min(first + recipe.evaluationBatchSize, order.count)])
            let outputs = model.greedyDecode(
                members.map { examples[$0].source }, maxLength: recipe.generationMaxLength, eosID: eosID)
            for (k, i) in members.enumerated() {
                generated += outputs[k].count
                texts[i] = text(outputs[k])
            }
            done += members.count
            report.line(done: done, progress) { elapsed, eta in
                "sni decoding: \(done)/\(order.count) instances | "
                    + String(format: "%.0f tokens/s", Double(generated) / elapsed) + " | ETA \(eta)"
            }
        }
        let wall = seconds(clock.now - start)
        return (
            texts,
            Decoding(
                instances: examples.count, generatedTokens: generated, wallSeconds: wall,
                tokensPerSecond: wall > 0 ? Double(generated) / wall : 0)
        )
    }

    /// Text of generated ids as Hugging Face's `batch_decode(skip_special_tokens=True,
    /// clean_up_tokenization_spaces=True)` gives it, stripped (nanoT5's `predict`).
    func text(_ ids: [Int32]) -> String {
        PythonText.strip(SNIPrompt.cleanUp(tokenizer.decode(ids, skipSpecialTokens: true)))
    }

    /// The references an example is scored against: all of them, or (nanoT5) one drawn and passed
    /// through the tokenizer and back.
    public func scoredReferences(_ examples: [SNIExample], seed: UInt64) -> [[String]] {
        guard recipe.references == .nanot5 else { return examples.map(\.references) }
        var draws = SeedStream.sniReferences.generator(seed, 0)
        return examples.map { e in
            [text(recipe.prompt.targetIDs(e.references.randomElement(using: &draws)!, tokenizer: tokenizer))]
        }
    }
}

/// Progress of a loop over `total` units: a line at most every 10 s and one at the end, each made
/// from the seconds so far and the ETA at the rate so far.
struct ThrottledProgress {
    let total: Int
    private let clock = ContinuousClock()
    private let start: ContinuousClock.Instant
    private var last: ContinuousClock.Instant

    init(total: Int) {
        self.total = total
        start = clock.now
        last = start
    }

    mutating func line(done: Int, _ progress: (String) -> Void, _ text: (_ elapsed: Double, _ eta: String) -> String) {
        guard clock.now - last > .seconds(10) || done == total else { return }
        last = clock.now
        let elapsed = seconds(last - start)
        progress(text(elapsed, formatWall(Double(total - done) * elapsed / Double(done))))
    }
}
