/// The fixed set of kernels a device must implement.
///
/// Model and NN code never touch pointers: they call tensor ops (`Ops/`), which record autodiff
/// and call these kernels on the backend that owns their inputs' storage. The CPU backend
/// implements them with a BLAS provider plus vectorised, parallel Swift loops; an accelerator
/// backend (CUDA, loaded at run time) implements the same list on device memory.
///
/// Conventions:
/// - Tensors passed to kernels are contiguous unless a kernel says otherwise (`matmul` and `copy`
///   accept transposed views).
/// - A `GradientOutput` says where a gradient goes and whether to add to what is there
///   (`accumulate`) or overwrite it. Parameter gradients accumulate over micro-batches this way.
public protocol Backend: AnyObject, Sendable {
    /// Short name ("cpu", "cuda").
    var name: String { get }
    /// Facts about the backend for benchmark and run reports (BLAS provider, kernel, threads).
    var report: [String: String] { get }

    // MARK: Memory
    func allocate(byteCount: Int) -> UnsafeMutableRawPointer
    func release(_ pointer: UnsafeMutableRawPointer, byteCount: Int)
    func write(_ source: UnsafeRawBufferPointer, into tensor: Tensor)
    func read(_ tensor: Tensor, into destination: UnsafeMutableRawBufferPointer)
    func fill(_ tensor: Tensor, with value: Float)
    /// dst = src (or dst += src). `src` may be a transposed view; the copy materialises it.
    func copy(_ source: Tensor, into destination: Tensor, accumulate: Bool)

    // MARK: Linear algebra
    /// c = alpha · a · b (+ c when accumulating). `a` is [..., M, K] and `b` is [K, N] or
    /// [..., K, N] with the same leading dimensions; either may be a transposed view.
    func matmul(_ a: Tensor, _ b: Tensor, into c: Tensor, alpha: Float, accumulate: Bool)

    // MARK: Element-wise
    /// out = a ∘ b, where `b`'s shape is a suffix of `a`'s (it repeats over a's leading dims).
    func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, into out: GradientOutput)
    /// out = alpha · x.
    func scale(_ x: Tensor, by alpha: Float, into out: GradientOutput)
    /// out[j] = Σ_i x[i, j]: sums `x` over its leading dimensions down to `out`'s shape (a suffix).
    func sumLeading(_ x: Tensor, into out: GradientOutput)
    /// out[j] = Σ_i x[i, j] · y[i, j] over leading dims (the gradient of a broadcast multiply).
    func sumLeadingProduct(_ x: Tensor, _ y: Tensor, into out: GradientOutput)
    func activation(_ kind: Activation, _ x: Tensor, into y: Tensor)
    func activationBackward(_ kind: Activation, _ x: Tensor, _ dy: Tensor, into dx: GradientOutput)
    /// Gated linear unit: `x` is [..., 2h] = [first | second]; y = act(gate) · other, where the gate
    /// half is chosen by `gate`.
    func gatedActivation(_ kind: Activation, gate: GateHalf, _ x: Tensor, into y: Tensor)
    func gatedActivationBackward(_ kind: Activation, gate: GateHalf, _ x: Tensor, _ dy: Tensor, into dx: GradientOutput)
    /// y = x · keep / (1 − p), keep drawn from `CounterHash(seed, element index)`. Applied to an
    /// upstream gradient with the same seed it is its own backward.
    func dropout(_ x: Tensor, probability: Float, seed: UInt64, into y: GradientOutput)

    // MARK: Normalisation
    func layerNorm(
        _ x: Tensor, weight: Tensor, bias: Tensor?, epsilon: Float,
        into y: Tensor, mean: Tensor, rstd: Tensor)
    func layerNormBackward(
        _ x: Tensor, weight: Tensor, mean: Tensor, rstd: Tensor, _ dy: Tensor,
        dx: GradientOutput?, dWeight: GradientOutput?, dBias: GradientOutput?)
    func rmsNorm(_ x: Tensor, weight: Tensor, epsilon: Float, into y: Tensor, rstd: Tensor)
    func rmsNormBackward(
        _ x: Tensor, weight: Tensor, rstd: Tensor, _ dy: Tensor,
        dx: GradientOutput?, dWeight: GradientOutput?)
    /// Softmax over the last dimension.
    func softmax(_ x: Tensor, into y: Tensor)
    func softmaxBackward(_ y: Tensor, _ dy: Tensor, into dx: GradientOutput)

    // MARK: Attention
    /// Fused multi-head attention: out = dropout(softmax(scale·QKᵀ + bias + mask)) · V, saving the
    /// (pre-dropout) probabilities [B, H, Sq, Sk] for the backward pass.
    func attention(_ problem: AttentionProblem, into out: Tensor, probabilities: Tensor)
    func attentionBackward(
        _ problem: AttentionProblem, probabilities: Tensor, _ dOut: Tensor,
        dQuery: HeadsGradient?, dKey: HeadsGradient?, dValue: HeadsGradient?,
        dBias: GradientOutput?)

    // MARK: Embedding / gather
    /// out[i] = table[indices[i]] (rows).
    func gatherRows(_ table: Tensor, indices: Tensor, into out: Tensor)
    /// dTable[indices[i]] += dOut[i]; rows not indexed are zeroed when not accumulating.
    func scatterAddRows(_ dOut: Tensor, indices: Tensor, into dTable: GradientOutput)

    // MARK: Losses and reductions
    /// Per-row cross-entropy of logits [N, V] against labels [N] (int32; `ignoreIndex` rows give 0).
    /// Writes per-row losses [N]; if `dLogits` is given, also writes ∂(Σ losses / count)/∂logits
    /// = (softmax − onehot) / count. Returns the number of counted rows.
    func softmaxCrossEntropy(
        _ logits: Tensor, labels: Tensor, ignoreIndex: Int32,
        losses: Tensor, dLogits: Tensor?
    ) -> Int
    /// out = Σ x (a scalar tensor), or out += Σ x.
    func sum(_ x: Tensor, into out: GradientOutput)
    /// Σ x², accumulated in double precision (gradient norms).
    func sumOfSquares(_ x: Tensor) -> Double

    // MARK: Optimiser updates (over contiguous runs of a parameter arena)
    /// One AdamW step (PyTorch semantics) on `parameter` with its `gradient` and moments.
    func adamW(_ parameter: Tensor, gradient: Tensor, firstMoment: Tensor, secondMoment: Tensor, _ step: AdamWStep)
    /// One Lion step: p ← p·(1 − lr·wd); p ← p − lr·sign(β₁m + (1 − β₁)g); m ← β₂m + (1 − β₂)g.
    func lion(_ parameter: Tensor, gradient: Tensor, momentum: Tensor, _ step: LionStep)
    /// One Sophia-G step: p ← p·(1 − lr·wd); m ← β₁m + (1 − β₁)g;
    /// p ← p − lr·sign(m)·min(|m| / (ρ·bs·h + ε), 1).
    func sophia(_ parameter: Tensor, gradient: Tensor, momentum: Tensor, hessian: Tensor, _ step: SophiaStep)
    /// h ← β·h + (1 − β)·g⊙g (Sophia's Hessian EMA from a sampled-label gradient).
    func squaredEMA(_ h: Tensor, gradient: Tensor, beta: Float)
}

/// Scalars of one Lion step (see `Backend.lion`).
public struct LionStep: Sendable {
    public var learningRate: Float
    public var beta1: Float
    public var beta2: Float
    public var weightDecay: Float
    public init(learningRate: Float, beta1: Float, beta2: Float, weightDecay: Float) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.weightDecay = weightDecay
    }
}

/// Scalars of one Sophia-G step (see `Backend.sophia`); `rhoTimesBatch` is ρ·bs.
public struct SophiaStep: Sendable {
    public var learningRate: Float
    public var beta1: Float
    public var rhoTimesBatch: Float
    public var epsilon: Float
    public var weightDecay: Float
    public init(learningRate: Float, beta1: Float, rhoTimesBatch: Float, epsilon: Float, weightDecay: Float) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.rhoTimesBatch = rhoTimesBatch
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }
}

/// Scalars of one AdamW step: p ← p·(1 − lr·wd); m ← β₁m + (1 − β₁)g; v ← β₂v + (1 − β₂)g²;
/// p ← p − (lr / c₁)·m / (√v / √c₂ + ε), with bias corrections c₁ = 1 − β₁ᵗ, c₂ = 1 − β₂ᵗ.
public struct AdamWStep: Sendable {
    public var learningRate: Float
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    public var weightDecay: Float
    public var biasCorrection1: Float
    public var biasCorrection2: Float

    public init(
        learningRate: Float, beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float,
        biasCorrection1: Float, biasCorrection2: Float
    ) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.biasCorrection1 = biasCorrection1
        self.biasCorrection2 = biasCorrection2
    }
}

/// Where a kernel writes a gradient, and whether it adds to the existing contents.
public struct GradientOutput {
    public let tensor: Tensor
    public let accumulate: Bool
    public init(_ tensor: Tensor, accumulate: Bool) {
        self.tensor = tensor
        self.accumulate = accumulate
    }
    /// Overwrite `tensor`.
    public static func overwrite(_ tensor: Tensor) -> GradientOutput { GradientOutput(tensor, accumulate: false) }
}

public enum BinaryOp: Sendable { case add, subtract, multiply }

public enum Activation: String, Sendable, Codable {
    case relu
    /// x·Φ(x) with the exact normal CDF (PyTorch `gelu(approximate='none')`).
    case gelu
    /// 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))) (PyTorch `gelu(approximate='tanh')`).
    case geluTanh
    /// tanh(x) (classification heads).
    case tanh
}

/// Which half of a gated linear unit's input goes through the activation.
public enum GateHalf: Sendable {
    /// y = act(x[..., :h]) · x[..., h:]  (T5 v1.1: wi_0 gated, wi_1 linear).
    case first
    /// y = x[..., :h] · act(x[..., h:])  (crammed BERT: `x, gate = chunk(2); act(gate) * x`).
    case second
}
