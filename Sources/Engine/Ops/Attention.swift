/// Fused multi-head attention (crammed BERT's and T5's): softmax(scale·QKᵀ + bias + mask)·V over H heads of
/// size D, reading Q, K and V as column ranges of projection outputs and returning [B, Sq, H·D].
/// Self-attention on a fused projection `qkv` [B, S, 3·H·D] laid out as [Q | K | V].
public func selfAttention(_ qkv: Tensor, heads: Int, options: AttentionOptions = AttentionOptions()) -> Tensor {
    precondition(qkv.rank == 3 && qkv.shape[2] % (3 * heads) == 0, "selfAttention: qkv must be [B, S, 3·H·D]")
    let width = qkv.shape[2] / 3
    return multiHeadAttention(
        query: HeadsView(qkv, columnOffset: 0), key: HeadsView(qkv, columnOffset: width),
        value: HeadsView(qkv, columnOffset: 2 * width), heads: heads,
        headDim: width / heads, options: options)
}

/// Attention over explicit Q, K and V views (cross-attention: Q from the decoder, K and V from a
/// fused [B, Sk, 2·H·D] projection of the encoder output).
public func multiHeadAttention(
    query: HeadsView, key: HeadsView, value: HeadsView, heads: Int, headDim: Int,
    options: AttentionOptions = AttentionOptions()
) -> Tensor {
    for v in [query, key, value] { precondition(!v.tensor.isTransposed, "attention inputs must be contiguous") }
    let problem = AttentionProblem(
        query: query, key: key, value: value, heads: heads, headDim: headDim, options: options)
    let backend = query.tensor.backend
    let B = query.batch, Sq = query.length, Sk = key.length
    let out = Tensor(shape: [B, Sq, heads * headDim], backend: backend)
    let probabilities = Tensor(shape: [B, heads, Sq, Sk], backend: backend)
    backend.attention(problem, into: out, probabilities: probabilities)
    var inputs = [query.tensor, key.tensor, value.tensor]
    if let bias = options.bias { inputs.append(bias) }
    return GradientTape.record(out, inputs: inputs) { dOut in
        // Q, K and V may be column ranges of one tensor: give each distinct tensor one gradient
        // buffer, zero-filled first when the views do not cover its whole row.
        let views = [query, key, value]
        var targets: [HeadsGradient?] = [nil, nil, nil]
        var done = Set<ObjectIdentifier>()
        for view in views where !done.contains(ObjectIdentifier(view.tensor)) {
            let tensor = view.tensor
            done.insert(ObjectIdentifier(tensor))
            let users = views.indices.filter { views[$0].tensor === tensor }
            let covered =
                users.count * heads * headDim == view.rowStride
                && Set(users.map { views[$0].columnOffset }).count == users.count
            tensor.accumulateGradient { g in
                var accumulate = g.accumulate
                if !accumulate && !covered {
                    backend.fill(g.tensor, with: 0)
                    accumulate = true
                }
                for u in users {
                    targets[u] = HeadsGradient(
                        HeadsView(g.tensor, columnOffset: views[u].columnOffset), accumulate: accumulate)
                }
            }
        }
        var dBias: GradientOutput?
        options.bias?.accumulateGradient { dBias = $0 }
        backend.attentionBackward(
            problem, probabilities: probabilities, dOut, dQuery: targets[0], dKey: targets[1],
            dValue: targets[2], dBias: dBias)
    }
}
