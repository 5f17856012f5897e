import Engine

/// `ntng bench ops`: the engine's kernels against their limits on this machine.
/// - GEMM: the engine's `linear` (x·Wᵀ through the backend) against a direct `cblas_sgemm` call to
///   the same provider using its own threads, interleaved in the same run, on BERT-shaped products.
/// - Element-wise: bandwidth of add and scale, throughput of GELU (erf and tanh forms).
/// - Attention: fused forward + backward at (batch 32, heads 4, seq 128, head dim 64).
public struct OpsBenchmark {
    public struct GEMMResult: Codable {
        public let m: Int, k: Int, n: Int
        public let engineGFLOPS: Double
        public let directGFLOPS: Double
        public let directSingleThreadGFLOPS: Double
        public let engineOverDirect: Double
    }

    public struct ElementwiseResult: Codable {
        public let name: String
        public let elements: Int
        public let melemPerSecond: Double
        public let gigabytesPerSecond: Double
    }

    public struct AttentionResult: Codable {
        public let batch: Int, heads: Int, sequence: Int, headDim: Int
        public let forwardMilliseconds: Double
        public let forwardBackwardMilliseconds: Double
        public let gflopsForwardBackward: Double
    }

    public struct Report: Codable {
        public let benchmark: String
        public let machine: [String: String]
        public let gemm: [GEMMResult]?
        public let elementwise: [ElementwiseResult]?
        public let attention: AttentionResult?
    }

    public enum Part: String, CaseIterable, Sendable { case gemm, elementwise, attention }

    public var repeats: Int
    public var elements: Int
    public var parts: Set<Part>
    public var shapes: [(m: Int, k: Int, n: Int)] = [(4096, 256, 768), (4096, 256, 1024), (4096, 1024, 256)]

    public init(repeats: Int = 10, elements: Int = 16 << 20, parts: Set<Part> = Set(Part.allCases)) {
        self.repeats = repeats
        self.elements = elements
        self.parts = parts
    }

    public func run(progress: (String) -> Void = { _ in }) -> Report {
        let backend = CPUBackend.shared
        var g = SeededGenerator(seed: 1)
        var gemms: [GEMMResult]?
        if parts.contains(.gemm) {
            gemms = shapes.map { s in
                progress("gemm \(s.m)x\(s.k)x\(s.n)")
                return gemm(s.m, s.k, s.n, generator: &g)
            }
        }
        var elementwise: [ElementwiseResult]?
        if parts.contains(.elementwise) {
            progress("element-wise")
            elementwise = elementwiseResults(generator: &g)
        }
        var attention: AttentionResult?
        if parts.contains(.attention) {
            progress("attention")
            attention = attentionResult(generator: &g)
        }
        return Report(
            benchmark: "ops", machine: backend.report, gemm: gemms, elementwise: elementwise,
            attention: attention)
    }

    private func gemm(
        _ m: Int, _ k: Int, _ n: Int, generator g: inout SeededGenerator
    ) -> GEMMResult {
        var product = LinearProduct(m: m, k: k, n: n, generator: &g)
        let flops = product.flops
        // Interleave: engine, direct (provider threads), direct (1 thread); warm up each first.
        _ = product.engine(); _ = product.direct(threads: Parallel.threadCount); _ = product.direct(threads: 1)
        var te: [Double] = [], td: [Double] = [], t1: [Double] = []
        for _ in 0..<repeats {
            te.append(product.engine())
            td.append(product.direct(threads: Parallel.threadCount))
            t1.append(product.direct(threads: 1))
        }
        let e = flops / Stopwatch.median(te) / 1e9, d = flops / Stopwatch.median(td) / 1e9
        return GEMMResult(
            m: m, k: k, n: n, engineGFLOPS: e.rounded(to: 1), directGFLOPS: d.rounded(to: 1),
            directSingleThreadGFLOPS: (flops / Stopwatch.median(t1) / 1e9).rounded(to: 1),
            engineOverDirect: (e / d).rounded(to: 3))
    }

    private func elementwiseResults(generator g: inout SeededGenerator) -> [ElementwiseResult] {
        let n = elements
        let a = Tensor.randomUniform([n], low: -3, high: 3, using: &g)
        let b = Tensor.randomUniform([n], low: -3, high: 3, using: &g)
        func result(_ name: String, bytesPerElement: Int, _ body: () -> Void) -> ElementwiseResult {
            let t = Stopwatch.median(repeats: repeats, body)
            return ElementwiseResult(
                name: name, elements: n, melemPerSecond: (Double(n) / t / 1e6).rounded(to: 1),
                gigabytesPerSecond: (Double(n * bytesPerElement) / t / 1e9).rounded(to: 2))
        }
        return withoutGradients {
            [
                result("add (c = a + b)", bytesPerElement: 12) { _ = a + b },
                result("scale (b = 2a)", bytesPerElement: 8) { _ = a.scaled(by: 2) },
                result("gelu (erf)", bytesPerElement: 8) { _ = a.gelu() },
                result("gelu (tanh)", bytesPerElement: 8) { _ = a.geluTanh() },
            ]
        }
    }

    private func attentionResult(generator g: inout SeededGenerator) -> AttentionResult {
        let (B, H, S, D) = (32, 4, 128, 64)
        let qkv = Tensor.randomUniform([B, S, 3 * H * D], low: -1, high: 1, using: &g, requiresGrad: true)
        let upstream = Tensor.randomUniform([B, S, H * D], low: -1, high: 1, using: &g)
        let forward = Stopwatch.median(repeats: repeats) { withoutGradients { _ = selfAttention(qkv, heads: H) } }
        let both = Stopwatch.median(repeats: repeats) {
            let out = selfAttention(qkv, heads: H)
            (out * upstream).sum().backward()
        }
        // QKᵀ and AV forward (4·B·H·S²·D) and four GEMMs backward (8·B·H·S²·D).
        let flops = 12.0 * Double(B * H * S * S * D)
        return AttentionResult(
            batch: B, heads: H, sequence: S, headDim: D,
            forwardMilliseconds: (forward * 1e3).rounded(to: 2),
            forwardBackwardMilliseconds: (both * 1e3).rounded(to: 2),
            gflopsForwardBackward: (flops / both / 1e9).rounded(to: 1))
    }
}

extension Double {
    func rounded(to digits: Int) -> Double {
        var p = 1.0
        for _ in 0..<digits { p *= 10 }
        return (self * p).rounded() / p
    }
}
