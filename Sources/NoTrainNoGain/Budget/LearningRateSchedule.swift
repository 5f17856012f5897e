/// Learning-rate schedules as functions of budget progress p = consumed RST / budget.
public enum LearningRateSchedule: Sendable, Equatable {
    /// cramming's "budget-one-cycle-seconds" (`backend/optimizers/schedulers.py`): f = ⌊p·2·10⁶⌋ / 2·10⁶;
    /// lr = peak·2f for f < ½, else peak·(2 − 2f). Linear warm-up over the first half of the budget,
    /// linear decay to exactly 0 at its end (the paper's fully decayed baseline).
    case budgetOneCycle
    /// nanoT5's "cosine-budget" as NTNG runs it (`t5/t5/utils/optim.py`): fake step s = ⌊p·65536⌋;
    /// for s < 10⁴ the factor is
    /// ½ + ½·s/10⁴, else max(10⁻⁵, ½(1 + cos(π(s − 10⁴)/(65536 − 10⁴)))).
    case cosineBudget
    /// Constant learning rate.
    case constant
    /// Linear warm-up over the first `warmup` fraction, then cosine decay to 0 (Hugging Face's
    /// `get_cosine_schedule_with_warmup`; GLUE fine-tuning uses 10%).
    case warmupCosine(warmup: Double)

    /// The schedules a config can name (`training.schedule`).
    public static let named: [(name: String, schedule: LearningRateSchedule)] = [
        ("budget-one-cycle", .budgetOneCycle), ("cosine-budget", .cosineBudget), ("constant", .constant),
    ]

    /// The config's name ("warmup-cosine" for fine-tuning's schedule).
    public var name: String {
        if case .warmupCosine = self { return "warmup-cosine" }
        return LearningRateSchedule.named.first { $0.schedule == self }!.name
    }

    /// The multiplier of the peak learning rate at progress `p`.
    public func factor(progress p: Double) -> Double {
        switch self {
        case .budgetOneCycle:
            let f = (p * 2e6).rounded(.down) / 2e6
            return max(0, f < 0.5 ? 2 * f : 2 - 2 * f)
        case .cosineBudget:
            let step = (p * 65536).rounded(.down)
            if step < 10_000 { return 0.5 + 0.5 * step / 10_000 }
            return max(1e-5, 0.5 * (1 + _cosine(Double.pi * (step - 10_000) / (65536 - 10_000))))
        case .constant:
            return 1
        case .warmupCosine(let w):
            if p < w { return p / w }
            return max(0, 0.5 * (1 + _cosine(Double.pi * min(1, (p - w) / max(1 - w, 1e-12)))))
        }
    }
}

#if canImport(Glibc)
    import Glibc
    @inline(__always) func _cosine(_ x: Double) -> Double { Glibc.cos(x) }
#else
    import Foundation
    @inline(__always) func _cosine(_ x: Double) -> Double { Foundation.cos(x) }
#endif

extension LearningRateSchedule: Codable {
    /// In JSON, its name ("budget-one-cycle"; "warmup-cosine:0.1" with its warm-up fraction).
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        let text = try c.decode(String.self)
        if text.hasPrefix("warmup-cosine:"), let w = Double(text.dropFirst("warmup-cosine:".count)) {
            self = .warmupCosine(warmup: w)
        } else if let named = LearningRateSchedule.named.first(where: { $0.name == text }) {
            self = named.schedule
        } else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "no learning-rate schedule '\(text)'")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        if case .warmupCosine(let w) = self { try c.encode("warmup-cosine:\(w)") } else { try c.encode(name) }
    }
}
