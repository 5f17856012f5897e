#if canImport(Glibc)
    import Glibc
#endif

import ArgumentParser
import Engine
import FoundationEssentials
import NoTrainNoGain

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure throughput and print JSON.",
        subcommands: [Ops.self, Train.self, Finetune.self, Decode.self, Allreduce.self])

    struct Ops: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "GEMM (engine vs direct BLAS), element-wise bandwidth, GELU and attention timings.")
        @Option(help: "Timed repetitions per measurement (the median is reported).") var repeats = 10
        @Option(help: "Elements for the element-wise kernels.") var elements = 16 << 20
        @Option(help: "Comma-separated parts to run: gemm, elementwise, attention (default: all).")
        var only: String?

        func parts() throws -> Set<OpsBenchmark.Part> {
            guard let only else { return Set(OpsBenchmark.Part.allCases) }
            return Set(
                try only.split(separator: ",").map { name in
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
            let report = OpsBenchmark(repeats: repeats, elements: elements, parts: try parts()).run {
                stderrLine("bench ops: \($0)")
            }
            try printJSON(report)
        }
    }
}

extension Bench {
    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Tokens/s of a training step: crammed BERT (tiny CPU model by default) or T5 v1.1.")
        @Option(help: "Timed steps (the median is reported).") var steps = 10
        @Option(help: "Sequences per micro-batch.") var batchSize = 32
        @Option(help: "Tokens per sequence (T5: encoder inputs; the targets follow from span corruption).")
        var sequenceLength = 128
        @Option(help: ArgumentHelp("Model: \(Train.models.keys.sorted().joined(separator: ", ")).", valueName: "name"))
        var model = "tiny"
        @Option(help: "Override the number of blocks of the model.") var layers: Int?
        @Option(help: "Run only the first N blocks (as layer stacking or dropping would).") var activeBlocks: Int?

        /// Every model kind's presets: tiny and paper (crammed BERT 4L/256/4h and 16L/768/12h),
        /// t5-tiny and t5-base (T5 4+4L/256/4h×64 and 12+12L/768/12h).
        static let models: [String: ModelConfig] = Dictionary(
            uniqueKeysWithValues: Plugins.modelKinds.flatMap { kind in
                kind.presets.map { ($0.key, ModelConfig($0.value)) }
            })

        func validate() throws {
            guard steps > 0, batchSize > 0 else { throw ValidationError("--steps and --batch-size must be positive") }
            guard let config = Train.models[model] else {
                throw ValidationError("--model must be one of \(Train.models.keys.sorted().joined(separator: ", "))")
            }
            let lengths = config.recipe.sequenceLengths
            guard lengths.contains(sequenceLength) else {
                throw ValidationError(
                    "--sequence-length must be in \(lengths.lowerBound)…\(lengths.upperBound) for \(config.kind)")
            }
            if let l = layers, l < 1 { throw ValidationError("--layers must be ≥ 1") }
            if let a = activeBlocks, a < 0 || a > (layers ?? config.layers) {
                throw ValidationError("--active-blocks must be between 0 and the number of layers")
            }
        }

        func run() throws {
            try requireBLAS()
            var shape = Train.models[model]!.shape.fitted(sequenceLength: sequenceLength)
            if let layers { shape.layers = layers }
            let config = ModelConfig(shape)
            var bench = TrainBenchmark(
                config: config, batchSize: batchSize, sequenceLength: sequenceLength, steps: steps)
            bench.activeBlocks = activeBlocks
            try printJSON(try bench.run { stderrLine("bench train: \($0)") })
        }
    }
}

extension Bench {
    struct Decode: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Greedy decoding tokens/s of a T5 with the incremental decoder (t5-tiny by default).")
        @Option(help: "Sequences decoded together.") var batchSize = 16
        @Option(help: "Encoder tokens per source.") var sourceLength = 256
        @Option(help: "Hugging Face's max_length: the start token and max-length − 1 generated tokens.")
        var maxLength = 128
        @Option(help: "Timed runs after one warm-up (the median is reported).") var repeats = 3
        @Option(help: "t5-tiny or t5-base.") var model = "t5-tiny"
        @Option(help: "Write the model, sources and tokens here (for scripts/bench_decode_hf.py).") var save: String?

        func run() throws {
            try requireBLAS()
            guard let shape = T5Config.presets[model] else {
                throw ValidationError(
                    "--model must be one of \(T5Config.presets.keys.sorted().joined(separator: ", "))")
            }
            guard batchSize > 0, sourceLength > 1, maxLength > 1, repeats > 0 else {
                throw ValidationError(
                    "--batch-size and --repeats must be positive, --source-length and --max-length > 1")
            }
            let bench = DecodeBenchmark(
                config: shape, batchSize: batchSize, sourceLength: sourceLength, maxLength: maxLength, repeats: repeats)
            try printJSON(try bench.run(save: save) { stderrLine("bench decode: \($0)") })
        }
    }
}

/// Fails with the loader's one-line message when no BLAS library is available.
/// Loads the BLAS. Under `mpirun` with several ranks, only `ntng pretrain` (`distributed`) runs:
/// it divides the cores between the ranks of a machine unless `NTNG_THREADS` says otherwise.
func requireBLAS(distributed: Bool = false) throws {
    let environment = ProcessInfo.processInfo.environment
    if let ranks = environment["OMPI_COMM_WORLD_SIZE"].flatMap({ Int($0) }), ranks > 1 {
        guard distributed else {
            throw InputError("only `ntng pretrain` runs over several processes; start this command without mpirun")
        }
        let local = environment["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap { Int($0) } ?? 1
        if environment["NTNG_THREADS"] == nil && local > 1 {
            setenv("NTNG_THREADS", String(max(1, ProcessInfo.processInfo.activeProcessorCount / local)), 1)
        }
    }
    if case .failure(let e) = BLASProvider.shared { throw InputError(e.description) }
}

func printJSON<T: Encodable>(_ value: T) throws { print(try JSONCoding.text(value)) }

extension Bench {
    /// `mpirun -np N ntng bench allreduce`: the gradient sum of a data-parallel step, alone.
    struct Allreduce: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Time the in-place sum of a parameter-arena-sized float buffer over the ranks (run under mpirun).",
            discussion: """
                The sum each data-parallel step takes over its gradients. Prints JSON on rank 0: floats, bytes, ranks, \
                the median and minimum time and the algorithm bandwidth (bytes / time).
                """)
        @Option(help: "Floats in the buffer (the model's parameter count; the paper's BERT: 120M).")
        var floats = 4_789_249
        @Option(help: "Timed repetitions (after one warm-up).") var repeats = 20

        func run() throws {
            try requireBLAS(distributed: true)
            guard floats > 0, repeats > 0 else { throw ValidationError("--floats and --repeats must be positive") }
            let communicator = try OpenMPI.fromEnvironment()
            guard communicator.size > 1 else {
                throw ValidationError("start it with mpirun -np N (N ≥ 2): one process sums nothing")
            }
            var buffer = [Float](repeating: 0, count: floats)
            var times: [Double] = []
            for r in 0...repeats {
                buffer.withUnsafeMutableBufferPointer { $0.update(repeating: 1) }
                communicator.barrier()
                let seconds = Stopwatch.time { buffer.withUnsafeMutableBufferPointer { communicator.sum($0) } }
                if r > 0 { times.append(seconds) }
                guard buffer[0] == Float(communicator.size), buffer[floats - 1] == Float(communicator.size) else {
                    throw InputError("rank \(communicator.rank): the sum is wrong (\(buffer[floats - 1]))")
                }
            }
            times.sort()
            guard communicator.isRoot else { return }
            try printJSON(
                AllreduceReport(
                    floats: floats, bytes: floats * 4, ranks: communicator.size, medianSeconds: times[times.count / 2],
                    minSeconds: times[0], gigabytesPerSecond: Double(floats * 4) / times[times.count / 2] / 1e9))
        }
    }

    struct AllreduceReport: Codable {
        var floats: Int
        var bytes: Int
        var ranks: Int
        var medianSeconds: Double
        var minSeconds: Double
        var gigabytesPerSecond: Double
    }
}

extension Bench {
    struct Finetune: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Tokens/s of a GLUE fine-tuning step: crammed BERT + classification head, dropout on, AdamW.")
        @Option(help: "Timed steps (the median is reported).") var steps = 10
        @Option(help: "Sequences per batch (the GLUE recipe's 16).") var batchSize = 16
        @Option(help: "Tokens per sequence (the GLUE recipe's 128).") var sequenceLength = 128
        @Option(help: "Model: tiny or paper.") var model = "tiny"

        func run() throws {
            try requireBLAS()
            guard steps > 0, batchSize > 0, sequenceLength > 0 else {
                throw ValidationError("--steps, --batch-size and --sequence-length must be positive")
            }
            guard let config = CrammedBERTConfig.presets[model] else {
                throw ValidationError(
                    "--model must be one of \(CrammedBERTConfig.presets.keys.sorted().joined(separator: ", "))")
            }
            guard sequenceLength <= config.maxSequenceLength else {
                throw ValidationError("--sequence-length: the model takes at most \(config.maxSequenceLength)")
            }
            let bench = FineTuneBenchmark(
                config: config, batchSize: batchSize, sequenceLength: sequenceLength, steps: steps)
            try printJSON(bench.run { stderrLine("bench finetune: \($0)") })
        }
    }
}
