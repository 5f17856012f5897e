import Foundation

/// The reference cost of each kind of iteration (paper §2; the original code's tables).
///
/// `paperBERT` is the NTNG table measured on the BERT reference system (one RTX 3090): seconds per
/// micro-batch of 128 sequences of 128 tokens, forward + backward with the optimiser amortised,
/// indexed by the number of active layers (1…16), and the forward-only time used for selection
/// passes. The original table has a typo at 7 layers (0.01052); the table is linear
/// (t ≈ 0.01189 + 0.01334·L) and the intended 0.1052 is used.
///
/// `paperT5` is NTNG's T5 table (`t5/t5/utils/train.py`): seconds per optimiser step at batch 144
/// by active layers (1…12, encoder and decoder alike), with per-optimiser factors for full-depth
/// runs (AdamWScale 1.031 s, Lion 1.043 s, Sophia 1.156 s, the last including its amortised
/// Hessian passes, which are therefore not charged again). It has no forward-only figure.
///
/// Small CPU models are charged from a table measured on this machine by `ntng calibrate`, and a
/// run records which table it used.
public struct CostModel: Sendable, Codable, Equatable {
    /// Where the figures come from ("paper-bert (RTX 3090)", or a calibration file and its machine).
    public var source: String
    /// Seconds per training micro-batch (forward + backward), index 0 = 1 active layer.
    public var trainingPerLayers: [Double]
    /// Seconds per forward-only micro-batch with all layers (selection passes); nil when the
    /// table has none (paper-t5), and then selection methods cannot be charged.
    public var forwardOnly: Double?
    /// The micro-batch size the figures are for; costs scale linearly to other sizes.
    public var microBatchSize: Int
    /// Multipliers of the training cost by optimiser name (absent: 1).
    public var optimizerStepFactors: [String: Double]?
    /// Whether Sophia's Hessian passes are already in its step factor (then recorded as waived).
    public var hessianInStepCost: Bool?

    public init(
        source: String, trainingPerLayers: [Double], forwardOnly: Double?, microBatchSize: Int,
        optimizerStepFactors: [String: Double]? = nil, hessianInStepCost: Bool? = nil
    ) {
        self.source = source
        self.trainingPerLayers = trainingPerLayers
        self.forwardOnly = forwardOnly
        self.microBatchSize = microBatchSize
        self.optimizerStepFactors = optimizerStepFactors
        self.hessianInStepCost = hessianInStepCost
    }

    public static let paperBERT = CostModel(
        source: "paper-bert (NTNG bert/rst/saved_rsts.py, RTX 3090; 7-layer typo 0.01052 read as 0.1052)",
        trainingPerLayers: [
            0.02521, 0.03837, 0.05177, 0.06508, 0.07847, 0.09188, 0.1052, 0.1186, 0.1319, 0.1454,
            0.1589, 0.1722, 0.1857, 0.1988, 0.212, 0.2253,
        ],
        forwardOnly: 0.09285, microBatchSize: 128)

    public static let paperT5 = CostModel(
        source:
            "paper-t5 (NTNG t5/t5/utils/train.py, per step at batch 144; "
            + "AdamWScale 1.031, Lion 1.043, Sophia 1.156 s at full depth)",
        trainingPerLayers: [0.129, 0.209, 0.291, 0.373, 0.455, 0.538, 0.619, 0.703, 0.783, 0.865, 0.947, 1.031],
        forwardOnly: nil, microBatchSize: 144,
        optimizerStepFactors: ["lion": 1.043 / 1.031, "sophia": 1.156 / 1.031], hessianInStepCost: true)

    /// The tables a config can name.
    public static let builtIn: [String: CostModel] = ["paper-bert": .paperBERT, "paper-t5": .paperT5]

    public var maxLayers: Int { trainingPerLayers.count }

    /// A calibration file written by `ntng calibrate`.
    public static func load(_ path: String) throws -> CostModel {
        let c = try JSONCoding.read(CostModel.self, from: path, what: "a cost table written by `ntng calibrate`")
        guard !c.trainingPerLayers.isEmpty, c.trainingPerLayers.allSatisfy({ $0 > 0 }), (c.forwardOnly ?? 1) > 0,
            c.microBatchSize > 0, (c.optimizerStepFactors ?? [:]).values.allSatisfy({ $0 > 0 })
        else {
            throw InputError(path, "the cost table has non-positive or missing entries")
        }
        return c
    }

    /// RST of one training micro-batch of `sequences` sequences with `activeLayers` layers, trained
    /// with `optimizer` (its step factor, if the table has one).
    /// With no layer at all (every block dropped) the table is extrapolated linearly to 0 layers
    /// (2·t₁ − t₂), the cost of embedding and head alone; the original code charged the full
    /// model there (Python's index −1).
    public func training(activeLayers: Int, sequences: Int, optimizer: String? = nil) -> RST {
        precondition(
            activeLayers >= 0 && activeLayers <= maxLayers,
            "cost table covers 1…\(maxLayers) layers, asked for \(activeLayers)")
        let seconds =
            activeLayers > 0
            ? trainingPerLayers[activeLayers - 1]
            : max(
                0,
                2 * trainingPerLayers[0]
                    - (trainingPerLayers.count > 1 ? trainingPerLayers[1] : 2 * trainingPerLayers[0]))
        let factor = optimizer.flatMap { optimizerStepFactors?[$0] } ?? 1
        return RST(seconds: seconds * factor * Double(sequences) / Double(microBatchSize))
    }

    /// RST of one forward-only selection pass over `sequences` sequences (tables with a forward figure).
    public func forward(sequences: Int) -> RST {
        guard let forwardOnly else { preconditionFailure("\(source) has no forward-only cost") }
        return RST(seconds: forwardOnly * Double(sequences) / Double(microBatchSize))
    }
}

/// `training.cost_model`: a built-in table by name (`paper-bert`, `paper-t5`) or a calibration file.
public enum CostTable: Codable, Equatable, Sendable, CustomStringConvertible {
    case builtIn(String)
    case file(String)

    /// A built-in name as it is; anything else a path (relative to the config file's folder).
    static func read(_ section: ConfigSection, _ key: String, default d: String) throws -> CostTable {
        let text = try section.string(key, default: d) ?? d
        return CostModel.builtIn[text] != nil ? .builtIn(text) : .file(section.resolve(text, key: key))
    }

    public func load() throws -> CostModel {
        switch self {
        case .builtIn(let name): CostModel.builtIn[name]!
        case .file(let path): try CostModel.load(path)
        }
    }

    public var description: String {
        switch self {
        case .builtIn(let name), .file(let name): name
        }
    }

    /// In JSON, `{"built_in": "paper-bert"}` or `{"file": "…/tiny-bert-cpu.json"}`.
    enum CodingKeys: String, CodingKey { case builtIn, file }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let name = try c.decodeIfPresent(String.self, forKey: .builtIn) {
            self = .builtIn(name)
        } else {
            self = .file(try c.decode(String.self, forKey: .file))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .builtIn(let name): try c.encode(name, forKey: .builtIn)
        case .file(let path): try c.encode(path, forKey: .file)
        }
    }
}
