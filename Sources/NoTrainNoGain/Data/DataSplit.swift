import Engine

/// A deterministic train/validation split of `count` rows (spec §8): a seeded permutation of the
/// rows, the first `validationCount` for validation and the rest for training. Training reads its
/// rows in a seeded shuffled order, reshuffled every pass (epoch) over them.
public struct DataSplit: Sendable, Equatable {
    public let validation: [Int]
    public let training: [Int]
    public let seed: UInt64

    /// `validationFraction` of the rows, at most `validationMaximum` and at least one.
    public init(count: Int, validationFraction: Double, validationMaximum: Int, seed: UInt64) throws {
        guard count >= 2 else { throw CorpusError.invalid("the corpus gives \(count) row(s); at least 2 are needed for a train/validation split") }
        var g = SeededGenerator(seed: seed)
        var order = Array(0..<count)
        order.shuffle(using: &g)
        let v = min(max(1, Int((Double(count) * validationFraction).rounded())), validationMaximum, count - 1)
        validation = Array(order[0..<v])
        training = Array(order[v...])
        self.seed = seed
    }

    /// The training row read at global position `position` (0, 1, 2, … across epochs).
    public func trainingRow(at position: Int) -> Int {
        let epoch = position / training.count, offset = position % training.count
        if epoch == 0 { return training[offset] }
        return epochOrder(epoch)[offset]
    }

    /// Training rows for positions `range`.
    public func trainingRows(_ range: Range<Int>) -> [Int] {
        var out: [Int] = [], cachedEpoch = -1, order: [Int] = []
        out.reserveCapacity(range.count)
        for position in range {
            let epoch = position / training.count
            if epoch != cachedEpoch {
                order = epoch == 0 ? training : epochOrder(epoch)
                cachedEpoch = epoch
            }
            out.append(order[position % training.count])
        }
        return out
    }

    private func epochOrder(_ epoch: Int) -> [Int] {
        var g = SeededGenerator(seed: seed &+ UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15)
        return training.shuffled(using: &g)
    }
}
