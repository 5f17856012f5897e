import ArgumentParser
import Engine
import FoundationEssentials
import NoTrainNoGain

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure throughput and print JSON.",
        subcommands: [Ops.self, Train.self])

    struct Ops: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "GEMM (engine vs direct BLAS), element-wise bandwidth, GELU and attention timings.")
        @Option(help: "Timed repetitions per measurement (the median is reported).") var repeats = 10
        @Option(help: "Elements for the element-wise kernels.") var elements = 16 << 20
        @Option(help: "Comma-separated parts to run: gemm, elementwise, attention (default: all).")
        var only: String?

        func parts() throws -> Set<OpsBenchmark.Part> {
            guard let only else { return Set(OpsBenchmark.Part.allCases) }
            return Set(try only.split(separator: ",").map { name in
                guard let p = OpsBenchmark.Part(rawValue: String(name)) else {
                    throw ValidationError("--only: unknown part '\(name)' (use gemm, elementwise, attention)")
                }
                return p
            })
        }

        func validate() throws {
            _ = try parts()
            guard repeats > 0 else { throw ValidationError("--repeats must be positive") }
            guard elements > 0 else { throw ValidationError("--elements must be positive") }
        }

        func run() throws {
            try requireBLAS()
            let report = OpsBenchmark(repeats: repeats, elements: elements, parts: try parts()).run { stderrLine("bench ops: \($0)") }
            try printJSON(report)
        }
    }
}

extension Bench {
    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Tokens/s of a crammed-BERT training step (tiny CPU model by default).")
        @Option(help: "Timed steps (the median is reported).") var steps = 10
        @Option(help: "Sequences per micro-batch.") var batchSize = 32
        @Option(help: "Tokens per sequence.") var sequenceLength = 128
        @Option(help: "Model size: tiny (4L/256/4h, vocab 8192) or paper (16L/768/12h, vocab 32768).")
        var model = "tiny"
        @Option(help: "Override the number of blocks of the model.") var layers: Int?
        @Option(help: "Run only the first N blocks (as layer stacking or dropping would).") var activeBlocks: Int?

        func validate() throws {
            guard steps > 0, batchSize > 0, sequenceLength > 1 else {
                throw ValidationError("--steps and --batch-size must be positive, --sequence-length ≥ 2")
            }
            guard ["tiny", "paper"].contains(model) else { throw ValidationError("--model must be tiny or paper") }
            guard sequenceLength <= 512 else { throw ValidationError("--sequence-length must be ≤ 512") }
            if let l = layers, l < 1 { throw ValidationError("--layers must be ≥ 1") }
            if let a = activeBlocks, a < 0 || a > (layers ?? (model == "tiny" ? 4 : 16)) {
                throw ValidationError("--active-blocks must be between 0 and the number of layers")
            }
        }

        func run() throws {
            try requireBLAS()
            var config: CrammedBERTConfig = model == "tiny" ? .tiny : .paper
            config.maxSequenceLength = max(config.maxSequenceLength, sequenceLength)
            if let layers { config.layers = layers }
            var bench = TrainBenchmark(config: config, batchSize: batchSize, sequenceLength: sequenceLength, steps: steps)
            bench.activeBlocks = activeBlocks
            try printJSON(bench.run { stderrLine("bench train: \($0)") })
        }
    }
}

/// Fails with the loader's one-line message when no BLAS library is available.
func requireBLAS() throws {
    if case .failure(let e) = BLASProvider.shared { throw CLIError(e.description) }
}

func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
