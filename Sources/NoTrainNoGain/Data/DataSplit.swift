import Engine

/// A deterministic split of `count` rows (as the original code's `train_test_split(seed=0)`): a
/// seeded permutation of the rows, whose
/// first rows are for validation, the next `reservedFraction` are held out for an irreducible-loss
/// model (RHO-loss; the paper holds out 20% including the validation rows), and the rest are for
/// training. Training reads its rows in an order shuffled afresh for every pass (epoch) from
/// `orderSeed` — by default the run's seed, as the original code's seeded sampler does, so the seeds
/// of a comparison differ in data order as well as in initialisation. Every run with the same split
/// validates on the same rows and trains on the same rows.
public struct DataSplit: Sendable, Equatable {
    public let validation: [Int]
    public let reserved: [Int]
    public let training: [Int]
    public let seed: UInt64
    /// The base seed of the training order.
    public let orderSeed: UInt64

    /// `validationFraction` of the rows (at most `validationMaximum`; at least one unless the
    /// maximum is 0, when validation rows come from elsewhere) for validation, then
    /// `reservedFraction` held out, the rest for training.
    public init(
        count: Int, validationFraction: Double, validationMaximum: Int, reservedFraction: Double = 0,
        seed: UInt64, orderSeed: UInt64 = 0
    ) throws {
        guard count >= 2 else {
            throw InputError(
                "corpus",
                "the corpus gives \(count) row(s); at least 2 are needed for a train/validation split")
        }
        var g = SeedStream.dataSplit.generator(seed)
        var order = Array(0..<count)
        order.shuffle(using: &g)
        let v = min(
            max(validationMaximum > 0 ? 1 : 0, Int((Double(count) * validationFraction).rounded())), validationMaximum,
            count - 1)
        let r = min(Int((Double(count) * reservedFraction).rounded()), count - v - 1)
        guard reservedFraction == 0 || r > 0 else {
            throw InputError("corpus", "data.reserve_fraction \(reservedFraction) leaves no held-out rows of \(count)")
        }
        validation = Array(order[0..<v])
        reserved = Array(order[v..<(v + r)])
        training = Array(order[(v + r)...])
        self.seed = seed
        self.orderSeed = orderSeed
    }

    private init(validation: [Int], reserved: [Int], training: [Int], seed: UInt64, orderSeed: UInt64) {
        self.validation = validation
        self.reserved = reserved
        self.training = training
        self.seed = seed
        self.orderSeed = orderSeed
    }

    /// The split an irreducible-loss model trains on: the held-out rows become its training rows
    /// (same validation rows).
    public func trainingOnReserved() throws -> DataSplit {
        guard !reserved.isEmpty else {
            throw InputError(
                "corpus",
                "no held-out rows: set data.reserve_fraction (0.2 in the paper) to train an IL model")
        }
        return DataSplit(validation: validation, reserved: [], training: reserved, seed: seed, orderSeed: orderSeed)
    }

    /// The training row read at global position `position` (0, 1, 2, … across epochs).
    public func trainingRow(at position: Int) -> Int {
        epochOrder(position / training.count)[position % training.count]
    }

    /// Training rows for positions `range`.
    public func trainingRows(_ range: Range<Int>) -> [Int] {
        var out: [Int] = [], cachedEpoch = -1, order: [Int] = []
        out.reserveCapacity(range.count)
        for position in range {
            let epoch = position / training.count
            if epoch != cachedEpoch {
                order = epochOrder(epoch)
                cachedEpoch = epoch
            }
            out.append(order[position % training.count])
        }
        return out
    }

    private func epochOrder(_ epoch: Int) -> [Int] {
        var g = SeedStream.dataOrder.generator(orderSeed, epoch)
        return training.shuffled(using: &g)
    }
}
