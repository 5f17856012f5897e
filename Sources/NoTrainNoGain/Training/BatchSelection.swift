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

/// The settings of a batch-selection method: the `batch_selection` section, which `method` picks,
/// with the key they share (`free_selection`); the method reads its own keys.
public protocol BatchSelectionSettings: MethodSettings {
    /// Record selection forwards as waived instead of charging them.
    var freeSelection: Bool { get set }
    init()
    /// Reads the method's own keys of the section.
    mutating func readOwnKeys(_ section: ConfigSection) throws
    /// The method, once the cost table is known to have a forward-only figure.
    func makeSelection(_ setup: MethodSetup) throws -> any TrainingMethod
}

extension BatchSelectionSettings {
    public static var section: String { "batch_selection" }
    public static var selectsData: Bool { true }

    public static func read(_ s: ConfigSection, for context: RecipeContext) throws -> Self {
        var c = Self()
        try c.readOwnKeys(s)
        c.freeSelection = try s.bool("free_selection", default: c.freeSelection)
        return c
    }

    public func make(_ setup: MethodSetup) throws -> any TrainingMethod {
        try setup.requireForwardOnlyCost()
        return try makeSelection(setup)
    }
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
