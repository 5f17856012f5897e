import Foundation

/// The reference cost of each kind of iteration (spec §7).
///
/// `paperBERT` is the NTNG table measured on the BERT reference system (one RTX 3090): seconds per
/// micro-batch of 128 sequences of 128 tokens, forward + backward with the optimiser amortised,
/// indexed by the number of active layers (1…16), and the forward-only time used for selection
/// passes. The original table has a typo at 7 layers (0.01052); the table is linear
/// (t ≈ 0.01189 + 0.01334·L) and the intended 0.1052 is used. Small CPU models are charged from a
/// table measured on this machine by `ntng calibrate` (`CostTable`), and a run records which
/// table it used.
public struct CostModel: Sendable, Codable, Equatable {
    /// Where the figures come from ("paper-bert (RTX 3090)", or a calibration file and its machine).
    public var source: String
    /// Seconds per training micro-batch (forward + backward), index 0 = 1 active layer.
    public var trainingPerLayers: [Double]
    /// Seconds per forward-only micro-batch with all layers (selection passes).
    public var forwardOnly: Double
    /// The micro-batch size the figures are for; costs scale linearly to other sizes.
    public var microBatchSize: Int

    public init(source: String, trainingPerLayers: [Double], forwardOnly: Double, microBatchSize: Int) {
        self.source = source
        self.trainingPerLayers = trainingPerLayers
        self.forwardOnly = forwardOnly
        self.microBatchSize = microBatchSize
    }

    public static let paperBERT = CostModel(
        source: "paper-bert (NTNG bert/rst/saved_rsts.py, RTX 3090; 7-layer typo 0.01052 read as 0.1052)",
        trainingPerLayers: [0.02521, 0.03837, 0.05177, 0.06508, 0.07847, 0.09188, 0.1052, 0.1186, 0.1319, 0.1454,
                            0.1589, 0.1722, 0.1857, 0.1988, 0.212, 0.2253],
        forwardOnly: 0.09285, microBatchSize: 128)

    public var maxLayers: Int { trainingPerLayers.count }

    /// "paper-bert", or a calibration file written by `ntng calibrate`.
    public static func named(_ name: String) throws -> CostModel {
        if name == "paper-bert" { return .paperBERT }
        guard let data = FileManager.default.contents(atPath: name) else {
            throw ConfigError("\(name): cannot read the cost model (run `ntng calibrate` to make one, or use paper-bert)")
        }
        let c: CostModel
        do { c = try JSONDecoder().decode(CostModel.self, from: data) } catch {
            throw ConfigError("\(name): not a cost model written by `ntng calibrate` (\(error))")
        }
        guard !c.trainingPerLayers.isEmpty, c.trainingPerLayers.allSatisfy({ $0 > 0 }), c.forwardOnly > 0, c.microBatchSize > 0 else {
            throw ConfigError("\(name): cost model has non-positive or missing entries")
        }
        return c
    }

    /// RST of one training micro-batch of `sequences` sequences with `activeLayers` layers.
    /// With no layer at all (every block dropped) the table is extrapolated linearly to 0 layers
    /// (2·t₁ − t₂), the cost of embedding and head alone; the original code charged the full
    /// model there (Python's index −1).
    public func training(activeLayers: Int, sequences: Int) -> RST {
        precondition(activeLayers >= 0 && activeLayers <= maxLayers,
                     "cost table covers 1…\(maxLayers) layers, asked for \(activeLayers)")
        let seconds = activeLayers > 0 ? trainingPerLayers[activeLayers - 1]
            : max(0, 2 * trainingPerLayers[0] - (trainingPerLayers.count > 1 ? trainingPerLayers[1] : 2 * trainingPerLayers[0]))
        return RST(seconds: seconds * Double(sequences) / Double(microBatchSize))
    }

    /// RST of one forward-only selection pass over `sequences` sequences.
    public func forward(sequences: Int) -> RST {
        RST(seconds: forwardOnly * Double(sequences) / Double(microBatchSize))
    }
}
