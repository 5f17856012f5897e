import Engine
import Testing

/// Fused attention: forward and all gradients (Q, K, V, bias) against the float64 reference,
/// with every mask and option.
@Suite("Attention gradients vs float64 finite differences")
struct AttentionGradientTests {
    let check = GradientCheck()
    let B = 2, H = 2, D = 3, S = 5

    func selfAttentionCase(
        causal: Bool = false, keyLengths: [Int]? = nil, withBias: Bool = false,
        dropout: Float = 0, scale: Float? = nil
    ) -> GradientCheck.Outcome {
        let (B, H, D, S) = (self.B, self.H, self.D, self.S)
        let width = 3 * H * D
        let lengths = keyLengths.map { Tensor(int32: $0.map(Int32.init), shape: [B]) }
        var shapes = [[B, S, width]]
        if withBias { shapes.append([H, S, S]) }
        return check.run(
            shapes: shapes,
            engine: { t in
                selfAttention(
                    t[0], heads: H,
                    options: AttentionOptions(
                        causal: causal, keyLengths: lengths,
                        bias: withBias ? t[1] : nil, scale: scale,
                        dropout: dropout, dropoutSeed: 5))
            },
            reference: { x in
                Reference.attention(
                    q: x[0], qWidth: width, qOffset: 0, k: x[0], kWidth: width, kOffset: H * D,
                    v: x[0], vWidth: width, vOffset: 2 * H * D, batch: B, heads: H, headDim: D,
                    queryLength: S, keyLength: S, scale: Double(scale ?? 1 / Float(D).squareRoot()),
                    causal: causal, keyLengths: keyLengths, bias: withBias ? x[1] : nil,
                    dropout: dropout, seed: 5)
            })
    }

    @Test func bidirectional() { expectPasses(selfAttentionCase()) }
    @Test func causal() { expectPasses(selfAttentionCase(causal: true)) }
    @Test func keyPadding() { expectPasses(selfAttentionCase(keyLengths: [3, 5])) }
    @Test func relativeBiasUnscaled() { expectPasses(selfAttentionCase(causal: true, withBias: true, scale: 1)) }
    @Test func dropoutOnProbabilities() { expectPasses(selfAttentionCase(keyLengths: [4, 2], dropout: 0.25)) }

    @Test func crossAttentionWithSeparateTensors() {
        let (B, H, D) = (self.B, self.H, self.D)
        let (Sq, Sk) = (3, 4)
        expectPasses(
            check.run(
                shapes: [[B, Sq, H * D], [B, Sk, 2 * H * D], [H, Sq, Sk]],
                engine: { t in
                    multiHeadAttention(
                        query: HeadsView(t[0]), key: HeadsView(t[1]), value: HeadsView(t[1], columnOffset: H * D),
                        heads: H, headDim: D,
                        options: AttentionOptions(keyLengths: Tensor(int32: [4, 2], shape: [2]), bias: t[2], scale: 1))
                },
                reference: { x in
                    Reference.attention(
                        q: x[0], qWidth: H * D, qOffset: 0, k: x[1], kWidth: 2 * H * D, kOffset: 0,
                        v: x[1], vWidth: 2 * H * D, vOffset: H * D, batch: B, heads: H, headDim: D,
                        queryLength: Sq, keyLength: Sk, scale: 1, keyLengths: [4, 2], bias: x[2])
                }))
    }

    @Test func fullyMaskedRowGivesZeroOutputNotNaN() {
        let qkv = Tensor.full(0.5, shape: [1, 2, 6])
        let out = selfAttention(qkv, heads: 1, options: AttentionOptions(keyLengths: Tensor(int32: [0], shape: [1])))
        #expect(out.scalars().allSatisfy { $0 == 0 })
    }
}
