/// What a run was charged, and for what. The trainer charges every micro-batch's forward and
/// backward; methods add their own kinds (selection forwards, Hessian passes) to the same ledger,
/// so a report can split a run's RST by purpose. Some charges are recorded but free (the paper's
/// "for free" ablations): they count here and do not advance the budget.
public struct Ledger: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable, CodingKeyRepresentable, CaseIterable, Comparable {
        /// Forward + backward of a training micro-batch (optimiser amortised in).
        case training
        /// Forward-only passes that choose data (selective backprop, RHO-loss).
        case selection
        /// Extra passes estimating curvature (Sophia).
        case hessian
        /// Training micro-batches of steps whose update was dropped for a non-finite loss or gradient
        /// (`training.on_nonfinite: skip-step`): spent, but not trained on.
        case skipped

        public static func < (a: Kind, b: Kind) -> Bool { a.rawValue < b.rawValue }

        /// The column name in reports.
        public var shortName: String {
            switch self {
            case .training: "train"
            case .selection: "select"
            case .hessian: "Hessian"
            case .skipped: "skipped"
            }
        }
    }

    public struct Entry: Sendable, Codable, Equatable {
        /// Number of charged items (micro-batches or passes).
        public var count: Int = 0
        /// RST charged against the budget.
        public var charged: RST = .zero
        /// RST these items would have cost but that was not charged (free ablations).
        public var waived: RST = .zero

        enum CodingKeys: String, CodingKey {
            case count
            case charged = "chargedRstSeconds"
            case waived = "waivedRstSeconds"
        }
    }

    public private(set) var entries: [Kind: Entry] = [:]

    public init() {}

    /// In JSON, `{kind: {count, charged_rst_seconds, waived_rst_seconds}}`.
    public init(from decoder: Decoder) throws {
        entries = try decoder.singleValueContainer().decode([Kind: Entry].self)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(entries)
    }

    /// Records `cost` for one item of `kind`; returns the amount to take from the budget.
    @discardableResult
    public mutating func charge(_ kind: Kind, _ cost: RST, free: Bool = false) -> RST {
        var e = entries[kind] ?? Entry()
        e.count += 1
        if free { e.waived += cost } else { e.charged += cost }
        entries[kind] = e
        return free ? .zero : cost
    }

    public var totalCharged: RST { Kind.allCases.reduce(RST.zero) { $0 + self[$1].charged } }

    /// Records `entry` — items already recorded as `from` — as `to` instead (the micro-batches of a
    /// step whose update was dropped move from training to skipped).
    public mutating func reclassify(_ entry: Entry, from: Kind, to: Kind) {
        var source = self[from], target = self[to]
        source.count -= entry.count
        source.charged = RST(seconds: source.charged.seconds - entry.charged.seconds)
        source.waived = RST(seconds: source.waived.seconds - entry.waived.seconds)
        target.count += entry.count
        target.charged += entry.charged
        target.waived += entry.waived
        entries[from] = source
        entries[to] = target
    }

    /// What `self` recorded beyond `earlier` for `kind`.
    public func since(_ earlier: Ledger, _ kind: Kind) -> Entry {
        let now = self[kind], before = earlier[kind]
        return Entry(
            count: now.count - before.count, charged: RST(seconds: now.charged.seconds - before.charged.seconds),
            waived: RST(seconds: now.waived.seconds - before.waived.seconds))
    }

    public subscript(kind: Kind) -> Entry { entries[kind] ?? Entry() }
}
