import Engine

/// What the batch-selection methods (selective backprop, RHO-loss) share: they score incoming
/// micro-batches with forward-only passes — each charged at the cost table's forward-only figure,
/// or recorded as waived with `free_selection` (the paper's "for free" ablation) — and count the
/// sequences they saw and kept, which the run log reports as `kept_fraction`.
public struct SelectionCounts: Codable, Equatable, Sendable {
    public var seen = 0
    public var kept = 0

    public init() {}

    public var keptFraction: Double { seen > 0 ? Double(kept) / Double(seen) : 1 }

    mutating func record(seen: Int, kept: Int) {
        self.seen += seen
        self.kept += kept
    }

    /// The run log's fields of a selection method.
    struct LogFields: Codable {
        var keptFraction: Double
    }

    var logFields: JSONValue? { try? JSONValue(encoding: LogFields(keptFraction: keptFraction)) }
}

extension MethodSetup {
    /// Selection forwards are charged at the forward-only cost, which some tables lack (paper-t5).
    func requireForwardOnlyCost() throws {
        guard costModel.forwardOnly != nil else {
            throw InputError(
                "batch_selection needs a forward-only cost, which the cost table (\(costModel.source)) lacks; "
                    + "calibrate one with `ntng calibrate`")
        }
    }
}
