import Engine
import Testing

/// Semantics of the tape: accumulation, no-grad mode, freeing, shared and tied tensors.
@Suite("Autodiff semantics")
struct AutodiffTests {
    @Test func parameterGradientsAccumulateAcrossPassesUntilZeroGrad() {
        let w = Tensor([1, 2, 3], shape: [3], requiresGrad: true)
        let x = Tensor([0.5, -1, 2], shape: [3])
        (w * x).sum().backward()
        #expect(w.grad!.scalars() == [0.5, -1, 2])
        (w * x).sum().backward()
        #expect(w.grad!.scalars() == [1, -2, 4])
        w.zeroGrad()
        #expect(!w.hasGrad)
        (w * x).sum().backward()
        #expect(w.grad!.scalars() == [0.5, -1, 2])  // overwritten, not added to the stale buffer
    }

    @Test func tensorUsedTwiceSumsBothPaths() {
        let x = Tensor([1, -2, 3], shape: [3], requiresGrad: true)
        (x * x + x.scaled(by: 3)).sum().backward()
        #expect(x.grad!.scalars() == [5, -1, 9])  // 2x + 3
    }

    @Test func tiedEmbeddingReceivesLookupAndDecoderGradients() {
        // E is used by a lookup and as a decoder: ∂/∂E of Σ (E[ids]·Eᵀ) has both contributions.
        let e = Tensor([1, 2, 3, 4, 5, 6], shape: [3, 2], requiresGrad: true)
        let ids = Tensor(int32: [2, 0], shape: [2])
        linear(e.gatherRows(ids), e).sum().backward()
        // out[i, v] = h_i·e_v with h = E[ids]. ∂/∂e_v = Σ_i h_i; ∂/∂h_i = Σ_v e_v, scattered to rows ids.
        let sumRows: [Float] = [9, 12], sumH: [Float] = [6, 8]
        var expected = [Float](repeating: 0, count: 6)
        for v in 0..<3 { for j in 0..<2 { expected[v * 2 + j] += sumH[j] } }
        for id in [2, 0] { for j in 0..<2 { expected[id * 2 + j] += sumRows[j] } }
        #expect(e.grad!.scalars() == expected)
    }

    @Test func noGradModeRecordsNothing() {
        let w = Tensor([1, 2], shape: [2], requiresGrad: true)
        let y = withoutGradients { (w * w).sum() }
        #expect(!y.requiresGrad)
        #expect(GradientTape.pendingCount == 0)
        #expect(GradientTape.isRecording)
        #expect(withoutGradients { !GradientTape.isRecording })
    }

    @Test func intermediateGradientsAreFreedAndUnusedParametersGetNone() {
        let a = Tensor([1, 2], shape: [2], requiresGrad: true)
        let unused = Tensor([3], shape: [1], requiresGrad: true)
        let h = a.gelu()
        h.sum().backward()
        #expect(h.grad == nil && !h.hasGrad)
        #expect(a.hasGrad)
        #expect(!unused.hasGrad)
        #expect(GradientTape.pendingCount == 0)
    }

    @Test func boundGradientBufferReceivesTheGradient() {
        let w = Tensor([2, 3], shape: [2], requiresGrad: true)
        let slot = Tensor.full(99, shape: [2])
        w.bindGradient(slot)
        (w * w).sum().backward()
        #expect(slot.scalars() == [4, 6])
        #expect(w.grad === slot)
    }

    @Test func reshapeGradientAliasesWithoutCopy() {
        let x = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3], requiresGrad: true)
        let w = Tensor([1, 0, -1, 2, 0, 1], shape: [3, 2])
        (x.reshaped([3, 2]) * w).sum().backward()
        #expect(x.grad!.scalars() == [1, 0, -1, 2, 0, 1])
        #expect(x.grad!.shape == [2, 3])
    }

    @Test func gradientClippingScalesToMaxNorm() {
        let a = Tensor([1, 1], shape: [2], requiresGrad: true), b = Tensor([1], shape: [1], requiresGrad: true)
        (a * Tensor([3, 0], shape: [2]) + a.scaled(by: 0)).sum().backward()
        (b.scaled(by: 4)).sum().backward()
        // gradients: a = [3, 0], b = [4]; ‖g‖ = 5
        let norm = clipGradientNorm([a, b], maxNorm: 1)
        #expect(abs(norm - 5) < 1e-6)
        let ga = a.grad!.scalars(), gb = b.grad!.scalars()
        #expect(abs(ga[0] - 0.6) < 1e-6 && ga[1] == 0 && abs(gb[0] - 0.8) < 1e-6)
        // Below the limit nothing changes.
        #expect(abs(clipGradientNorm([a, b], maxNorm: 10) - 1) < 1e-5)
        #expect(abs(a.grad!.scalars()[0] - 0.6) < 1e-6)
    }
}
