import Engine

/// The random streams of a run. Each is derived from a base seed (the run's `training.seed`,
/// `data.seed` or a fine-tuning seed) and a counter by one rule,
///
///     seed(base, i) = (base ⊕ salt) + i·multiplier + offset   (mod 2⁶⁴),
///
/// so the streams do not share draws and every draw can be made again from the config and a
/// counter — which is what makes `--resume` exact.
public enum SeedStream: CaseIterable, Sendable {
    /// Weights of a new model (base: `training.seed`).
    case modelInitialisation
    /// The permutation that splits the rows into validation, reserved and training (base: `data.seed`).
    case dataSplit
    /// The order training rows are read in during pass (epoch) i (base: `data.order_seed`, by
    /// default `training.seed`).
    case dataOrder
    /// Masks or span corruption of training micro-batch i (i counts from 1).
    case trainingMasks
    /// Masks of the validation rows: fixed, so every evaluation and every method sees the same inputs.
    case validationMasks
    /// Sophia's sampled labels for the Hessian micro-batch drawn as micro-batch i.
    case hessianLabels
    /// Layer dropping's draw for micro-batch (BERT) or step (T5) i.
    case layerDrop
    /// Selective backprop's keep decisions for incoming micro-batch i.
    case selectiveBackprop
    /// Masks of RHO-loss's irreducible-loss extraction pass (fixed).
    case irreducibleLossMasks
    /// Example order in fine-tuning epoch i (base: the fine-tuning seed).
    case fineTuningOrder
    /// Dropout masks of fine-tuning step i.
    case fineTuningDropout
    /// The new classification head's weights.
    case classifierHead
    /// The shuffle that picks an SNI training task's instances (base: the seed mixed with the task's name).
    case sniInstances
    /// The reference each SNI training instance is trained on in epoch i (i = 0: the one nanoT5-style
    /// scoring draws); base: the fine-tuning seed.
    case sniReferences

    var constants: (salt: UInt64, multiplier: UInt64, offset: UInt64) {
        switch self {
        case .modelInitialisation, .dataSplit: (0, 0, 0)
        case .dataOrder, .fineTuningOrder: (0, 0x9E37_79B9_7F4A_7C15, 0)
        case .trainingMasks: (0, 0x9E37_79B9_7F4A_7C15, 1)
        case .validationMasks: (0x5_EED0_F7A1_1D, 0, 0)
        case .hessianLabels: (0x5_0F1A, 0xD1B5_4A32_D192_ED03, 0)
        case .layerDrop: (0xD509, 0xA24B_AED4_963E_E407, 0)
        case .selectiveBackprop: (0x5B5B, 0x9FB2_1C65_1E98_DF25, 0)
        case .irreducibleLossMasks: (0x11_1055, 0, 0)
        case .fineTuningDropout: (0, 0xA24B_AED4_963E_E407, 0)
        case .classifierHead: (0, 0, 17)
        case .sniInstances: (0x5_A1_1257, 0, 0)
        case .sniReferences: (0x5_A1_4EF5, 0x9E37_79B9_7F4A_7C15, 0)
        }
    }

    /// The seed of draw `index` of this stream.
    public func seed(_ base: UInt64, _ index: Int = 0) -> UInt64 {
        let c = constants
        return (base ^ c.salt) &+ UInt64(index) &* c.multiplier &+ c.offset
    }

    /// A generator for draw `index` of this stream.
    public func generator(_ base: UInt64, _ index: Int = 0) -> SeededGenerator {
        SeededGenerator(seed: seed(base, index))
    }
}
