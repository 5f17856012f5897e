/// Fused multi-head attention on the CPU.
///
/// Work is split over (batch, head) pairs; each pair runs its two GEMMs on the single-threaded
/// BLAS, reading Q, K and V in place from the projection output (row stride = the projection's
/// width), and writing the output straight into [B, S, H·D] layout. Probabilities are kept for the
/// backward pass ([B, H, Sq, Sk], before dropout; the dropout mask is regenerated from its seed).
extension CPUBackend {
    public func attention(_ p: AttentionProblem, into out: Tensor, probabilities: Tensor) {
        profile.measure("attention") { attentionForward(p, into: out, probabilities: probabilities) }
    }

    public func attentionBackward(
        _ p: AttentionProblem, probabilities: Tensor, _ dOut: Tensor,
        dQuery: HeadsGradient?, dKey: HeadsGradient?, dValue: HeadsGradient?,
        dBias: GradientOutput?
    ) {
        profile.measure("attention") {
            attentionGradients(
                p, probabilities: probabilities, dOut, dQuery: dQuery, dKey: dKey, dValue: dValue, dBias: dBias)
        }
    }

    private func attentionForward(_ p: AttentionProblem, into out: Tensor, probabilities: Tensor) {
        let B = p.batch, H = p.heads, D = p.headDim, Sq = p.queryLength, Sk = p.keyLength
        validate(p)
        precondition(out.shape == [B, Sq, H * D], "attention: output must be [\(B), \(Sq), \(H * D)]")
        precondition(probabilities.shape == [B, H, Sq, Sk], "attention: probabilities must be [B, H, Sq, Sk]")
        let blas = self.blas
        let dropped = p.dropout > 0 ? Tensor(shape: [B, H, Sq, Sk], backend: self) : nil
        let ptr = AttentionPointers(p, probabilities: probabilities, dropped: dropped)
        let o = out.floats
        let bias = p.bias?.floats, lengths = p.keyLengths?.int32s, causal = p.causal
        if Sq == 1 && dropped == nil {
            Parallel.ranges(B) { range in
                for b in range {
                    let validKeys = lengths.map { min(max(Int($0[b]), 0), Sk) } ?? Sk
                    singleQuery(
                        ptr, batch: b, keys: causal ? min(validKeys, 1) : validKeys, scale: p.scale, bias: bias,
                        into: o + b * H * D)
                }
            }
            return
        }
        Parallel.ranges(B * H) { range in
            for task in range {
                let b = task / H, h = task % H
                let pb = ptr.probabilities(task)
                blas.sgemm(
                    transA: false, transB: true, m: Sq, n: Sk, k: D, alpha: p.scale,
                    a: ptr.query(task), lda: ptr.queryStride, b: ptr.key(task), ldb: ptr.keyStride, beta: 0, c: pb,
                    ldc: Sk)
                let validKeys = lengths.map { min(max(Int($0[b]), 0), Sk) } ?? Sk
                for i in 0..<Sq {
                    let row = pb + i * Sk
                    if let bias {
                        let br = bias + (h * Sq + i) * Sk
                        for j in 0..<Sk { row[j] += br[j] }
                    }
                    let limit = causal ? min(validKeys, i + 1) : validKeys
                    for j in limit..<max(limit, Sk) { row[j] = -.infinity }
                    CPUBackend.softmaxRow(row, into: row, count: Sk)
                }
                blas.sgemm(
                    transA: false, transB: false, m: Sq, n: D, k: Sk, alpha: 1,
                    a: ptr.mixing(task), lda: Sk, b: ptr.value(task), ldb: ptr.valueStride,
                    beta: 0, c: o + b * Sq * H * D + h * D, ldc: H * D)
            }
        }
    }

    /// One query row per sequence (a decoder step), all heads of sequence `b` at once: each head's
    /// scores against the first `keys` keys only, its softmax over them (the masked rest gets
    /// probability 0) and the weighted sum of their values. Key and value rows are read once, front
    /// to back, for every head (the step is bound by reading them), in vector loops — BLAS calls of
    /// one row cost more in overhead than this arithmetic.
    private func singleQuery(
        _ ptr: AttentionPointers, batch b: Int, keys: Int, scale: Float, bias: UnsafeMutablePointer<Float>?,
        into out: UnsafeMutablePointer<Float>
    ) {
        let H = ptr.problem.heads, D = ptr.problem.headDim, Sk = ptr.problem.keyLength
        let task = b * H, q = ptr.query(task), k = ptr.key(task), v = ptr.value(task)
        let probabilities = ptr.probabilities(task)  // [H, Sk] for this sequence
        for j in 0..<keys {
            let row = k + j * ptr.keyStride
            for h in 0..<H {
                probabilities[h * Sk + j] = scale * VectorMath.dot(q + h * D, row + h * D, D) + (bias?[h * Sk + j] ?? 0)
            }
        }
        for h in 0..<H {
            let pb = probabilities + h * Sk
            CPUBackend.softmaxRow(pb, into: pb, count: keys)
            for j in keys..<Sk { pb[j] = 0 }
        }
        for c in 0..<(H * D) { out[c] = 0 }
        for j in 0..<keys {
            let row = v + j * ptr.valueStride
            for h in 0..<H {
                let w = probabilities[h * Sk + j], o = out + h * D, r = row + h * D
                for d in 0..<D { o[d] += w * r[d] }
            }
        }
    }

    /// With P the probabilities, P' = dropout(P), dO the output gradient:
    /// dV = P'ᵀ·dO,  dP = dropout(dO·Vᵀ),  dS = P ⊙ (dP − rowsum(P ⊙ dP)),
    /// dQ = scale·dS·K,  dK = scale·dSᵀ·Q,  dBias[h] = Σ_b dS[b, h].
    private func attentionGradients(
        _ p: AttentionProblem, probabilities: Tensor, _ dOut: Tensor,
        dQuery: HeadsGradient?, dKey: HeadsGradient?, dValue: HeadsGradient?,
        dBias: GradientOutput?
    ) {
        let B = p.batch, H = p.heads, D = p.headDim, Sq = p.queryLength, Sk = p.keyLength
        validate(p)
        let blas = self.blas
        let dropped = p.dropout > 0 ? Tensor(shape: [B, H, Sq, Sk], backend: self) : nil
        let ptr = AttentionPointers(p, probabilities: probabilities, dropped: dropped)
        let dO = dOut.floats
        func target(_ g: HeadsGradient?) -> (UnsafeMutablePointer<Float>, Int, Float)? {
            g.map { ($0.view.tensor.floats + $0.view.columnOffset, $0.view.rowStride, $0.accumulate ? 1 : 0) }
        }
        let dq = target(dQuery), dk = target(dKey), dv = target(dValue)
        // Each worker chunk of (b, h) tasks has a [Sq, Sk] scratch for dS and, with a bias, its
        // partial bias gradient [H, Sq, Sk] summed over the chunk's batch rows.
        let n = Sq * Sk, biasWidth = dBias == nil ? 0 : H * n
        let chunks = Parallel.chunkCount(B * H, grain: 1)
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: chunks * (n + biasWidth))
        defer { scratch.deallocate() }
        Parallel.forEach(chunks) { c in
            let dsb = scratch + c * (n + biasWidth), partialBias = dsb + n
            for k in 0..<biasWidth { partialBias[k] = 0 }
            for task in Parallel.chunkRange(c, of: chunks, count: B * H) {
                let b = task / H, h = task % H
                let pb = ptr.probabilities(task)
                let dOb = dO + b * Sq * H * D + h * D
                if let (dvp, stride, beta) = dv {
                    blas.sgemm(
                        transA: true, transB: false, m: Sk, n: D, k: Sq, alpha: 1, a: ptr.mixing(task), lda: Sk,
                        b: dOb, ldb: H * D, beta: beta, c: dvp + b * Sk * stride + h * D, ldc: stride)
                }
                blas.sgemm(
                    transA: false, transB: true, m: Sq, n: Sk, k: D, alpha: 1, a: dOb, lda: H * D,
                    b: ptr.value(task), ldb: ptr.valueStride, beta: 0, c: dsb, ldc: Sk)
                if p.dropout > 0 {
                    CPUBackend.applyDropout(
                        dsb, into: dsb, count: Sq * Sk, probability: p.dropout, seed: p.dropoutSeed,
                        counterBase: UInt64(task * Sq * Sk))
                }
                for i in 0..<Sq {
                    let pr = pb + i * Sk, dr = dsb + i * Sk
                    let dot = VectorMath.dot(pr, dr, Sk)
                    for j in 0..<Sk { dr[j] = pr[j] * (dr[j] - dot) }
                }
                if biasWidth > 0 {
                    let pbh = partialBias + h * n
                    for k in 0..<n { pbh[k] += dsb[k] }
                }
                if let (dqp, stride, beta) = dq {
                    blas.sgemm(
                        transA: false, transB: false, m: Sq, n: D, k: Sk, alpha: p.scale, a: dsb, lda: Sk,
                        b: ptr.key(task), ldb: ptr.keyStride, beta: beta, c: dqp + b * Sq * stride + h * D, ldc: stride)
                }
                if let (dkp, stride, beta) = dk {
                    blas.sgemm(
                        transA: true, transB: false, m: Sk, n: D, k: Sq, alpha: p.scale, a: dsb, lda: Sk,
                        b: ptr.query(task), ldb: ptr.queryStride, beta: beta, c: dkp + b * Sk * stride + h * D,
                        ldc: stride)
                }
            }
        }
        if let dBias {
            precondition(dBias.tensor.shape == [H, Sq, Sk], "attention: bias gradient must be [H, Sq, Sk]")
            combine(scratch, offset: n, stride: n + biasWidth, chunks: chunks, width: biasWidth, into: dBias)
        }
    }

    private func validate(_ p: AttentionProblem) {
        let hd = p.heads * p.headDim
        for (name, view) in [("query", p.query), ("key", p.key), ("value", p.value)] {
            precondition(
                view.tensor.rank == 3 && view.columnOffset + hd <= view.rowStride,
                "attention: \(name) must be [B, S, ≥\(hd)] with its heads inside the row")
            precondition(view.batch == p.batch, "attention: \(name) batch differs")
        }
        precondition(p.key.length == p.value.length, "attention: key and value lengths differ")
        if let bias = p.bias {
            precondition(bias.shape == [p.heads, p.queryLength, p.keyLength], "attention: bias must be [H, Sq, Sk]")
        }
        if let l = p.keyLengths {
            precondition(l.shape == [p.batch] && l.dtype == .int32, "attention: keyLengths must be int32 [B]")
        }
    }

    /// y = x·keep/(1 − p) with keep from the counter hash at `counterBase + i`.
    @inline(__always)
    static func applyDropout(
        _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int,
        probability p: Float, seed: UInt64, counterBase: UInt64
    ) {
        let threshold = CounterHash.dropThreshold(p), keepScale = 1 / (1 - p)
        for i in 0..<count {
            y[i] = CounterHash.bits(seed: seed, counter: counterBase &+ UInt64(i)) >= threshold ? x[i] * keepScale : 0
        }
    }
}

/// The raw pointers of one attention call, and each (batch, head) task's slices of them.
private struct AttentionPointers {
    let queryBase: UnsafeMutablePointer<Float>, keyBase: UnsafeMutablePointer<Float>,
        valueBase: UnsafeMutablePointer<Float>
    let queryStride: Int, keyStride: Int, valueStride: Int
    let probabilityBase: UnsafeMutablePointer<Float>
    let droppedBase: UnsafeMutablePointer<Float>?
    let problem: AttentionProblem

    init(_ p: AttentionProblem, probabilities: Tensor, dropped: Tensor?) {
        queryBase = p.query.tensor.floats + p.query.columnOffset
        keyBase = p.key.tensor.floats + p.key.columnOffset
        valueBase = p.value.tensor.floats + p.value.columnOffset
        queryStride = p.query.rowStride
        keyStride = p.key.rowStride
        valueStride = p.value.rowStride
        probabilityBase = probabilities.floats
        droppedBase = dropped?.floats
        problem = p
    }

    private func split(_ task: Int) -> (b: Int, h: Int) { (task / problem.heads, task % problem.heads) }

    func query(_ task: Int) -> UnsafeMutablePointer<Float> {
        let (b, h) = split(task)
        return queryBase + b * problem.queryLength * queryStride + h * problem.headDim
    }

    func key(_ task: Int) -> UnsafeMutablePointer<Float> {
        let (b, h) = split(task)
        return keyBase + b * problem.keyLength * keyStride + h * problem.headDim
    }

    func value(_ task: Int) -> UnsafeMutablePointer<Float> {
        let (b, h) = split(task)
        return valueBase + b * problem.keyLength * valueStride + h * problem.headDim
    }

    func probabilities(_ task: Int) -> UnsafeMutablePointer<Float> {
        probabilityBase + task * problem.queryLength * problem.keyLength
    }

    /// The matrix that mixes V: the probabilities P, or dropout(P) regenerated from the seed.
    func mixing(_ task: Int) -> UnsafePointer<Float> {
        let n = problem.queryLength * problem.keyLength
        guard let droppedBase else { return UnsafePointer(probabilities(task)) }
        CPUBackend.applyDropout(
            probabilities(task), into: droppedBase + task * n, count: n, probability: problem.dropout,
            seed: problem.dropoutSeed, counterBase: UInt64(task * n))
        return UnsafePointer(droppedBase + task * n)
    }
}
