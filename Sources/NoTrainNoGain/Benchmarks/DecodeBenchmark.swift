import Engine
import Foundation

/// `ntng bench decode`: greedy decoding tokens/s of a T5 (`T5Config.tiny` by default) with the
/// incremental decoder, on a batch of random sources, every sequence generating `maxLength` − 1
/// tokens (end-of-sequence disabled, so every run does the same work). Every block's relative-bias
/// table is a copy of block 0's, so Hugging Face's T5 (one shared table) holds the same model:
/// `save` writes it (`model.safetensors`, the sources and the tokens generated) for
/// `scripts/bench_decode_hf.py`, which times `generate` on it and compares the tokens.
public struct DecodeBenchmark {
    public struct Report: Codable {
        public let benchmark: String
        public let machine: [String: String]
        public let model: T5Config
        public let batchSize: Int
        public let sourceLength: Int
        public let maxLength: Int
        public let repeats: Int
        public let generatedTokens: Int
        public let medianSeconds: Double
        public let tokensPerSecond: Double
        /// Where the median run's time went: `encoder` (the encoder and the cross-attention keys and
        /// values, once), `gemm` and `attention` kernels of the decoder steps, and `other` (the rest of
        /// the steps: norms, activations, copies, the argmax), in milliseconds.
        public let milliseconds: [String: Double]
    }

    public var config: T5Config
    public var batchSize: Int
    public var sourceLength: Int
    public var maxLength: Int
    public var repeats: Int

    public init(
        config: T5Config = .tiny, batchSize: Int = 16, sourceLength: Int = 256, maxLength: Int = 128, repeats: Int = 3
    ) {
        self.config = config
        self.batchSize = batchSize
        self.sourceLength = sourceLength
        self.maxLength = maxLength
        self.repeats = repeats
    }

    public func run(save: String? = nil, progress: (String) -> Void = { _ in }) throws -> Report {
        let model = T5(config, seed: 0)
        let first = model.decoderBlocks[0].attention.relativeBias,
            encoderFirst = model.encoderBlocks[0].attention.relativeBias
        for block in model.decoderBlocks.dropFirst() { block.attention.relativeBias.assign(first) }
        for block in model.encoderBlocks.dropFirst() { block.attention.relativeBias.assign(encoderFirst) }
        var g = SeededGenerator(seed: 1)
        let sources = (0..<batchSize).map { _ in
            (0..<(sourceLength - 1)).map { _ in Int32(3 + g.int(below: config.vocabularySize - 103)) } + [1]
        }
        var tokens: [[Int32]] = []
        var runs: [(seconds: Double, split: [String: Double])] = []
        let profile = CPUBackend.shared.profile
        for r in 0..<(repeats + 1) {
            let encoder = Stopwatch.time { _ = T5IncrementalDecoder(model, sources: sources, capacity: 1) }
            profile.reset()
            profile.isEnabled = true
            let seconds = Stopwatch.time { tokens = model.greedyDecode(sources, maxLength: maxLength, eosID: -1) }
            profile.isEnabled = false
            // The decoder steps' kernels: the run's, less the encoder's share (timed alone above).
            let gemm = profile.seconds["gemm"] ?? 0, attention = profile.seconds["attention"] ?? 0
            let steps = seconds - encoder
            let split = ["encoder": encoder, "gemm": gemm - min(gemm, encoder), "attention": attention]
            if r > 0 {
                runs.append((seconds, split.merging(["other": max(0, steps - split["gemm"]! - attention)]) { $1 }))
            }
            progress("run \(r)\(r == 0 ? " (warm-up)" : ""): \(String(format: "%.2f", seconds)) s")
        }
        let generated = tokens.reduce(0) { $0 + $1.count }
        let median = Stopwatch.median(runs.map(\.seconds))
        let medianRun = runs.min { abs($0.seconds - median) < abs($1.seconds - median) }!
        if let save {
            try FileManager.default.createDirectory(atPath: save, withIntermediateDirectories: true)
            try Checkpointer.modelFile(model).write(to: URL(fileURLWithPath: save + "/model.safetensors"))
            try JSONCoding.write(["sources": sources, "tokens": tokens], to: save + "/decode.json")
        }
        return Report(
            benchmark: "decode", machine: CPUBackend.shared.report, model: config, batchSize: batchSize,
            sourceLength: sourceLength, maxLength: maxLength, repeats: repeats, generatedTokens: generated,
            medianSeconds: median, tokensPerSecond: Double(generated) / median,
            milliseconds: medianRun.split.mapValues { ($0 * 1000).rounded(to: 1) })
    }
}
