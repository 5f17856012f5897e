/// A compute budget in RST and how much of it has been used. Every schedule in a run (learning
/// rate, stacking events, layer-drop rate, validation and checkpoint cadence) is a function of
/// `progress` = consumed / total, never of steps or wall time; the stopping rule is
/// `isExhausted` (paper §2.1).
public struct Budget: Sendable, Codable, Equatable {
    public let total: RST
    public private(set) var consumed: RST = .zero

    enum CodingKeys: String, CodingKey {
        case total = "totalRstSeconds"
        case consumed = "consumedRstSeconds"
    }

    public init(total: RST) {
        precondition(total.seconds > 0, "a budget must be positive")
        self.total = total
    }

    /// consumed / total, in [0, ∞).
    public var progress: Double { consumed.seconds / total.seconds }

    /// Stop when RST ≥ budget.
    public var isExhausted: Bool { consumed >= total }

    public var remaining: RST { RST(seconds: max(0, total.seconds - consumed.seconds)) }

    mutating func consume(_ amount: RST) { consumed += amount }

    /// Restores the consumed amount from a checkpoint.
    public init(total: RST, consumed: RST) {
        self.init(total: total)
        self.consumed = consumed
    }
}
