import Engine

#if canImport(Glibc)
    import Glibc
#endif

/// Progressive layer dropping (Zhang & He, as NTNG runs it; spec §3). The keep probability follows
/// the RST clock,
///
///     θ(t) = (1 − θ̄)·exp(−γ_f·t/T) + θ̄        (θ̄ = 0.5; γ_f = 100 for BERT, 20 for T5)
///
/// and block i (1…L) is dropped with probability p_i = (i/L)·(1 − θ(t)), independently, drawn
/// afresh for every training micro-batch from a generator seeded by its index. A dropped block is
/// the identity on the residual stream (no 1/p rescaling of kept blocks); validation runs every
/// block; each micro-batch is charged for the blocks that ran. Expected active blocks at the end:
/// L − (1 − θ̄)(L + 1)/2. BERT draws per micro-batch; T5 draws once per optimiser step
/// (`perStep`) at the budget progress where the step starts, so all its micro-batches share one
/// set (the same set for the encoder and the decoder).
public final class LayerDropping: TrainingMethod {
    public let name = "layer-dropping"
    public let minimumTheta: Double
    public let gamma: Double
    public let perStep: Bool

    public init(minimumTheta: Double = 0.5, gamma: Double = 100, perStep: Bool = false) {
        self.minimumTheta = minimumTheta
        self.gamma = gamma
        self.perStep = perStep
    }

    public var description: [String: Any] { ["theta_bar": minimumTheta, "gamma_f": gamma, "per_step": perStep] }

    /// θ at budget progress t/T.
    public func keepProbability(progress: Double) -> Double {
        (1 - minimumTheta) * exp(-gamma * progress) + minimumTheta
    }

    /// p_i for block index i (0-based) of L.
    public func dropProbability(block i: Int, of count: Int, progress: Double) -> Double {
        Double(i + 1) / Double(count) * (1 - keepProbability(progress: progress))
    }

    /// With `perStep`, the uniform draws of the current step and the progress they are compared at
    /// (the step's start), fixed for all of its micro-batches.
    private var stepDraw: (step: Int, progress: Double)?

    public func willStep(_ context: MethodContext) {
        if perStep { stepDraw = (context.step, context.progress) }
    }

    public func blocks(forMicroBatch index: Int, chosen: [Int]?, context: MethodContext) -> [Int]? {
        let all = chosen ?? Array(0..<context.model.blockCount)
        let (draw, progress) =
            perStep
            ? (stepDraw?.step ?? context.step, stepDraw?.progress ?? context.progress) : (index, context.progress)
        var g = SeededGenerator(seed: context.seed ^ 0xD509 &+ UInt64(draw) &* 0xA24B_AED4_963E_E407)
        return all.filter { i in g.uniformDouble() >= dropProbability(block: i, of: all.count, progress: progress) }
    }

    /// Validation uses every block.
    public func evaluationBlocks(chosen: [Int]?) -> [Int]? { chosen }
}
