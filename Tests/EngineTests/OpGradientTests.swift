import Engine
import Testing

/// Forward values and gradients of every op against float64 references (see `GradientCheck`).
@Suite("Op gradients vs float64 finite differences")
struct OpGradientTests {
    let check = GradientCheck()

    @Test func harnessDetectsAWrongGradient() {
        // A reference that differs from the engine op must fail: guards against a check that cannot fail.
        let o = check.run(
            shapes: [[3, 4]], engine: { $0[0].gelu() }, reference: { $0[0].map { Reference.gelu($0) * 1.01 } })
        #expect(!o.passed)
        let wrongBackward = check.run(
            shapes: [[3, 4]], engine: { $0[0].relu() },
            reference: { $0[0].map { Reference.geluTanh($0) } })
        #expect(!wrongBackward.passed)
    }

    @Test func matmul2D() {
        expectPasses(
            check.run(
                shapes: [[3, 5], [5, 4]], engine: { Engine.matmul($0[0], $0[1]) },
                reference: { Reference.matmul($0[0], $0[1], m: 3, k: 5, n: 4) }))
    }

    @Test func matmulBatchedAndBroadcast() {
        expectPasses(
            check.run(
                shapes: [[2, 3, 5], [2, 5, 4]], engine: { Engine.matmul($0[0], $0[1]) },
                reference: { Reference.matmul($0[0], $0[1], m: 3, k: 5, n: 4, batch: 2, batchB: true) }))
        expectPasses(
            check.run(
                shapes: [[2, 3, 5], [5, 4]], engine: { Engine.matmul($0[0], $0[1]) },
                reference: { Reference.matmul($0[0], $0[1], m: 3, k: 5, n: 4, batch: 2) }))
    }

    @Test func matmulWithTransposedViews() {
        // aᵀ·bᵀ where a is [5, 3] and b is [4, 5].
        expectPasses(
            check.run(
                shapes: [[5, 3], [4, 5]], engine: { Engine.matmul($0[0].transposed(), $0[1].transposed()) },
                reference: {
                    Reference.matmul(
                        Reference.transpose($0[0], rows: 5, cols: 3),
                        Reference.transpose($0[1], rows: 4, cols: 5), m: 3, k: 5, n: 4)
                }))
        // Batched transposed left operand with a shared right operand.
        expectPasses(
            check.run(
                shapes: [[2, 5, 3], [5, 4]], engine: { Engine.matmul($0[0].transposed(), $0[1]) },
                reference: { x in
                    let a = (0..<2).flatMap { t in
                        Reference.transpose(Array(x[0][(t * 15)..<((t + 1) * 15)]), rows: 5, cols: 3)
                    }
                    return Reference.matmul(a, x[1], m: 3, k: 5, n: 4, batch: 2)
                }))
    }

    @Test func linear() {
        expectPasses(
            check.run(
                shapes: [[2, 3, 6], [4, 6]], engine: { Engine.linear($0[0], $0[1]) },
                reference: { Reference.linear($0[0], $0[1], rows: 6, inFeatures: 6, outFeatures: 4) }))
    }

    @Test func linearLargeEnoughToSplitOverThreads() {
        // 96×40·40×80: big enough for the parallel GEMM split.
        let c = GradientCheck(rtol: 2e-3, atol: 5e-4, forwardTolerance: 1e-4)
        var g = SeededGenerator(seed: 3)
        let xv = (0..<(96 * 40)).map { _ in Float(g.uniform() - 0.5) }
        let wv = (0..<(80 * 40)).map { _ in Float(g.uniform() - 0.5) }
        let x = Tensor(xv, shape: [96, 40], requiresGrad: true), w = Tensor(wv, shape: [80, 40], requiresGrad: true)
        let y = Engine.linear(x, w)
        let ref = Reference.linear(xv.map(Double.init), wv.map(Double.init), rows: 96, inFeatures: 40, outFeatures: 80)
        let maxErr = zip(y.scalars(), ref).map { abs(Double($0) - $1) }.max()!
        #expect(maxErr < 1e-4)
        y.sum().backward()
        // dW[o, i] = Σ_r x[r, i];  dX[r, i] = Σ_o W[o, i].
        let dw = w.grad!.scalars(), dx = x.grad!.scalars()
        for o in [0, 41, 79] {
            for i in [0, 17, 39] {
                let expected = (0..<96).map { Double(xv[$0 * 40 + i]) }.reduce(0, +)
                #expect(abs(Double(dw[o * 40 + i]) - expected) < 1e-3)
            }
        }
        for r in [0, 50, 95] {
            for i in [0, 39] {
                let expected = (0..<80).map { Double(wv[$0 * 40 + i]) }.reduce(0, +)
                #expect(abs(Double(dx[r * 40 + i]) - expected) < 1e-3)
            }
        }
        _ = c
    }

    @Test func addSubtractMultiplyWithBroadcasting() {
        expectPasses(
            check.run(
                shapes: [[2, 3, 4], [2, 3, 4]], engine: { $0[0] + $0[1] }, reference: { zip($0[0], $0[1]).map(+) }))
        expectPasses(
            check.run(
                shapes: [[2, 3, 4], [3, 4]], engine: { $0[0] - $0[1] },
                reference: { x in x[0].indices.map { x[0][$0] - x[1][$0 % 12] } }))
        expectPasses(
            check.run(
                shapes: [[2, 3, 4], [4]], engine: { $0[0] * $0[1] },
                reference: { x in x[0].indices.map { x[0][$0] * x[1][$0 % 4] } }))
        expectPasses(
            check.run(
                shapes: [[5, 4], []], engine: { $0[0] * $0[1] },
                reference: { x in x[0].map { $0 * x[1][0] } }))
        expectPasses(
            check.run(shapes: [[5, 4]], engine: { $0[0].scaled(by: -2.5) }, reference: { $0[0].map { -2.5 * $0 } }))
    }

    @Test func subtractBroadcastAccumulatesCorrectly() {
        // b is used twice, so its second gradient contribution accumulates (regression: negating
        // the whole buffer would flip the first contribution).
        expectPasses(
            check.run(
                shapes: [[3, 4], [4]], engine: { ($0[0] - $0[1]) * $0[1] },
                reference: { x in x[0].indices.map { (x[0][$0] - x[1][$0 % 4]) * x[1][$0 % 4] } }))
    }

    @Test(arguments: [Activation.relu, .gelu, .geluTanh, .tanh])
    func activations(kind: Activation) {
        expectPasses(
            check.run(
                shapes: [[4, 7]], range: -3...3, engine: { $0[0].activation(kind) },
                reference: { $0[0].map { Reference.activate(kind, $0) } }))
    }

    @Test(arguments: [Activation.gelu, .geluTanh, .relu, .tanh])
    func gatedLinearUnits(kind: Activation) {
        // hidden 5: scalar path only; hidden 21: one 16-lane block plus a tail.
        for gate in [GateHalf.first, .second] {
            for hidden in [5, 21] {
                expectPasses(
                    check.run(
                        shapes: [[3, 2 * hidden]], range: -3...3, engine: { $0[0].gatedActivation(kind, gate: gate) },
                        reference: { Reference.glu($0[0], hidden: hidden, kind: kind, gate: gate) }))
            }
        }
    }

    @Test func layerNormWithAndWithoutBias() {
        expectPasses(
            check.run(
                shapes: [[4, 6], [6], [6]], engine: { $0[0].layerNorm(weight: $0[1], bias: $0[2], epsilon: 1e-5) },
                reference: { Reference.layerNorm($0[0], $0[1], $0[2], width: 6, eps: 1e-5) }))
        expectPasses(
            check.run(
                shapes: [[2, 3, 8], [8]], engine: { $0[0].layerNorm(weight: $0[1], bias: nil, epsilon: 1e-12) },
                reference: { Reference.layerNorm($0[0], $0[1], nil, width: 8, eps: 1e-12) }))
    }

    @Test func rmsNorm() {
        expectPasses(
            check.run(
                shapes: [[5, 6], [6]], engine: { $0[0].rmsNorm(weight: $0[1], epsilon: 1e-6) },
                reference: { Reference.rmsNorm($0[0], $0[1], width: 6, eps: 1e-6) }))
    }

    @Test func softmax() {
        expectPasses(
            check.run(
                shapes: [[3, 7]], range: -3...3, engine: { $0[0].softmax() },
                reference: { Reference.softmax($0[0], width: 7) }))
    }

    @Test func reshapeTransposeAndContiguous() {
        expectPasses(
            check.run(
                shapes: [[2, 3, 4]], engine: { $0[0].reshaped([6, 4]).transposed().contiguous().gelu() },
                reference: { x in Reference.transpose(x[0], rows: 6, cols: 4).map { Reference.gelu($0) } }))
    }

    @Test func gatherRowsWithRepeatedIndices() {
        let idx: [Int32] = [2, 0, 2, 3, 2]
        let indices = Tensor(int32: idx, shape: [5])
        expectPasses(
            check.run(
                shapes: [[4, 3]], engine: { $0[0].gatherRows(indices) },
                reference: { x in idx.flatMap { i in x[0][(Int(i) * 3)..<(Int(i) * 3 + 3)] } }))
    }

    @Test func dropoutUsesTheSameMaskForward() {
        expectPasses(
            check.run(
                shapes: [[6, 5]], engine: { $0[0].dropout(probability: 0.3, seed: 11) },
                reference: { x in
                    let t = CounterHash.dropThreshold(0.3)
                    return x[0].indices.map {
                        CounterHash.bits(seed: 11, counter: UInt64($0)) >= t ? x[0][$0] / 0.7 : 0
                    }
                }))
    }

    @Test func sumAndMean() {
        expectPasses(check.run(shapes: [[3, 5]], engine: { $0[0].sum() }, reference: { [$0[0].reduce(0, +)] }))
        expectPasses(check.run(shapes: [[3, 5]], engine: { $0[0].mean() }, reference: { [$0[0].reduce(0, +) / 15] }))
    }

    @Test func crossEntropyWithIgnoredRows() {
        let labels: [Int32] = [3, -100, 0, 6, 2]
        let l = Tensor(int32: labels, shape: [5])
        expectPasses(
            check.run(
                shapes: [[5, 7]], range: -3...3,
                engine: { softmaxCrossEntropy(logits: $0[0], labels: l).loss },
                reference: { [Reference.crossEntropy($0[0], labels: labels, vocabulary: 7)] }))
    }

    @Test func crossEntropyRowLossesAndCount() {
        let logits: [Float] = [1, 2, 3, 0, 0, 0, -1, 5, 2]
        let labels: [Int32] = [2, -100, 1]
        let r = softmaxCrossEntropy(logits: Tensor(logits, shape: [3, 3]), labels: Tensor(int32: labels, shape: [3]))
        let rows = r.rowLosses.scalars()
        let expected0 = Reference.crossEntropy([1, 2, 3], labels: [2], vocabulary: 3)
        let expected2 = Reference.crossEntropy([-1, 5, 2], labels: [1], vocabulary: 3)
        #expect(r.count == 2)
        #expect(abs(Double(rows[0]) - expected0) < 1e-5)
        #expect(rows[1] == 0)
        #expect(abs(Double(rows[2]) - expected2) < 1e-5)
        #expect(abs(Double(r.loss.item()) - (expected0 + expected2) / 2) < 1e-5)
    }
}
