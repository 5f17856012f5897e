import Engine
import Foundation
import Testing

/// Composite computations checked against values PyTorch computed in float64
/// (`scripts/make_engine_fixtures.py` → `Fixtures/engine_fixtures.json`): a crammed-BERT pre-LN
/// block, a T5 v1.1 decoder self-attention block, and the sparse MLM head with a tied decoder.
@Suite("Composite ops vs PyTorch fixtures")
struct PyTorchFixtureTests {
    struct Array: Decodable { let shape: [Int]; let values: [Double] }
    struct Case: Decodable {
        let name: String
        let inputs: [String: Array]
        let upstream: Array
        let output: Array
        let gradients: [String: Array]
    }
    struct File: Decodable { let labels: [Int32]; let cases: [Case] }

    static let file: File = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/engine_fixtures.json")
        return try! JSONDecoder().decode(File.self, from: Data(contentsOf: url))
    }()

    /// Runs `body` on the case's inputs, back-propagates the recorded upstream gradient and
    /// compares output and every input gradient (relative to each array's largest magnitude).
    func verify(_ name: String, tolerance: Double = 2e-5, _ body: ([String: Tensor]) -> Tensor) {
        let c = Self.file.cases.first { $0.name == name }!
        let inputs = c.inputs.mapValues { Tensor($0.values.map(Float.init), shape: $0.shape, requiresGrad: true) }
        let out = body(inputs)
        #expect(out.shape == c.output.shape)
        expectClose(out.scalars(), c.output.values, tolerance, "\(name) output")
        (out * Tensor(c.upstream.values.map(Float.init), shape: c.upstream.shape)).sum().backward()
        for (key, expected) in c.gradients {
            expectClose(inputs[key]!.grad!.scalars(), expected.values, tolerance, "\(name) d\(key)")
        }
    }

    func expectClose(_ got: [Float], _ expected: [Double], _ tolerance: Double, _ what: String) {
        let scale = max(expected.map(abs).max() ?? 1, 1e-6)
        let err = zip(got, expected).map { abs(Double($0) - $1) }.max() ?? 0
        #expect(got.count == expected.count && err <= tolerance * scale, "\(what): max error \(err) (scale \(scale))")
    }

    @Test func crammedBERTBlock() {
        verify("bert_block") { t in
            var x = t["x"]!
            let h = x.layerNorm(weight: t["ln1_w"]!, bias: t["ln1_b"]!, epsilon: 1e-12)
            x = x + linear(selfAttention(linear(h, t["qkv"]!), heads: 2), t["out"]!)
            let h2 = x.layerNorm(weight: t["ln2_w"]!, bias: t["ln2_b"]!, epsilon: 1e-12)
            return x + linear(linear(h2, t["ffn_in"]!).gatedActivation(.gelu, gate: .second), t["ffn_out"]!)
        }
    }

    @Test func t5DecoderBlock() {
        verify("t5_block") { t in
            var x = t["x"]!
            let qkv = linear(x.rmsNorm(weight: t["norm_w"]!, epsilon: 1e-6), t["qkv"]!)
            x =
                x
                + linear(
                    selfAttention(qkv, heads: 2, options: AttentionOptions(causal: true, bias: t["bias"]!, scale: 1)),
                    t["out"]!)
            let h = linear(x.rmsNorm(weight: t["ffn_norm_w"]!, epsilon: 1e-6), t["wi"]!)
            return x + linear(h.gatedActivation(.geluTanh, gate: .first), t["wo"]!)
        }
    }

    @Test func sparseMLMHeadWithTiedDecoder() {
        let labels = Tensor(int32: Self.file.labels, shape: [Self.file.labels.count])
        verify("sparse_mlm_head") { t in
            let logits = linear(linear(t["hidden"]!, t["transform"]!), t["embedding"]!)
            return softmaxCrossEntropy(logits: logits, labels: labels).loss.reshaped([1])
        }
    }
}
