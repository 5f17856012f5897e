import Engine

/// Sophia-G's curvature estimate inside a run: before optimiser step 0 and every k steps,
/// `hessian_micro_batches` fresh micro-batches (drawn from the training stream and not trained on)
/// go forward; labels ŷ are sampled from the model's own softmax; the gradient ĝ of the
/// cross-entropy against ŷ (averaged over the micro-batches, or the last one's alone with
/// `hessian_gradient: last-micro-batch`; clipped to the training clip norm with
/// `clip_hessian_gradient`, as nanoT5 does) updates h ← β₂h + (1 − β₂)ĝ⊙ĝ. Each of those
/// micro-batches is charged as a full forward + backward (ledger kind `hessian`), or recorded as
/// waived with `free_hessian` or when the cost table folds the passes into Sophia's step cost
/// (paper-t5). In a data-parallel run the processes divide the micro-batches and sum the gradient.
extension Sophia {
    func curvaturePass(_ trainer: TrainerContext) {
        arena.zeroGrad()
        let n = curvature.hessianMicroBatches
        let blocks = trainer.evaluationBlocks
        let cost = trainer.costModel.training(
            activeLayers: blocks?.count ?? trainer.model.blockCount, sequences: trainer.microBatchSize)
        let free = curvature.freeHessian || trainer.costModel.hessianInStepCost == true
        let lastOnly = curvature.hessianGradient == .lastMicroBatch
        let world = trainer.communicator
        for k in 0..<n {
            let batch = trainer.drawMicroBatch()
            var g = SeedStream.hessianLabels.generator(trainer.seed, trainer.microBatchesDrawn)
            trainer.charge(.hessian, cost, free: free)
            // Every micro-batch is drawn and charged; each process runs its own (with the last one's
            // estimate alone, only the last: the others' gradients would be discarded anyway).
            guard world.owns(k) && (!lastOnly || k == n - 1) else { continue }
            let logits: Tensor
            switch curvature.hessianLabels {
            case .vocabulary: logits = trainer.model.predictions(batch, activeBlocks: blocks).logits
            case .hiddenStates: logits = trainer.model.finalHiddenStates(batch, activeBlocks: blocks)
            }
            let sampled = SampledLabels.draw(logits: logits, generator: &g)
            softmaxCrossEntropy(logits: logits, labels: Tensor(int32: sampled, shape: [sampled.count]))
                .loss.scaled(by: lastOnly ? 1 : 1 / Float(n)).backward()
        }
        world.sumGradients(arena)
        if curvature.clipHessianGradient && trainer.gradientClip > 0 {
            clipGradientNorm(arena.tensors, maxNorm: Float(trainer.gradientClip))
        }
        updateCurvature()
        arena.zeroGrad()
    }
}

/// Labels drawn from each row's softmax: ŷᵢ ~ Categorical(softmax(zᵢ)), by inverse CDF.
public enum SampledLabels {
    public static func draw(logits: Tensor, generator g: inout SeededGenerator) -> [Int32] {
        let classes = logits.shape.lastDimension, rows = logits.shape.rowCount
        let z = logits.scalars()
        var labels = [Int32](repeating: 0, count: rows)
        var weights = [Double](repeating: 0, count: classes)
        for r in 0..<rows {
            let row = z[(r * classes)..<((r + 1) * classes)]
            let mx = Double(row.max() ?? 0)
            var total = 0.0
            for (j, v) in row.enumerated() {
                weights[j] = _exp(Double(v) - mx)
                total += weights[j]
            }
            var u = g.uniformDouble() * total
            var pick = classes - 1
            for j in 0..<classes {
                u -= weights[j]
                if u < 0 {
                    pick = j
                    break
                }
            }
            labels[r] = Int32(pick)
        }
        return labels
    }
}

#if canImport(Glibc)
    import Glibc
    @inline(__always) func _exp(_ x: Double) -> Double { Glibc.exp(x) }
#endif
