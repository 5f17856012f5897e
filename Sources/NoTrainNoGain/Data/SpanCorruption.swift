import Engine

/// T5's span-corruption objective (Raffel et al.; the Hugging Face Flax `DataCollatorForT5MLM`
/// that nanoT5 and NTNG use, `t5/t5/utils/copied.py`). A raw row of `rawLength` tokens is split into alternating
/// non-noise and noise spans (starting with non-noise) by random segmentation, with
/// round(L·density) noise tokens in round(noise/meanSpan) spans. Each noise span is replaced in the
/// inputs by one sentinel (`<extra_id_0>`, `<extra_id_1>`, … — ids counting down from the top of
/// the vocabulary); the targets are each sentinel followed by the tokens it replaced; both end with
/// `</s>`. At the paper's settings (density 0.15, mean span 3) 568 raw tokens give inputs of 512
/// and targets of 114.
public struct SpanCorruption: Codable, Equatable, Sendable {
    public var noiseDensity: Double
    public var meanNoiseSpanLength: Double

    public init(noiseDensity: Double = 0.15, meanNoiseSpanLength: Double = 3) {
        self.noiseDensity = noiseDensity
        self.meanNoiseSpanLength = meanNoiseSpanLength
    }

    /// Python's round (half to even), as the reference recipe uses.
    static func round(_ x: Double) -> Int { Int(x.rounded(.toNearestOrEven)) }

    /// (noise tokens, noise spans) of a raw row of `length` tokens.
    func counts(_ length: Int) -> (noise: Int, spans: Int) {
        let noise = min(max(SpanCorruption.round(Double(length) * noiseDensity), 1), length - 1)
        return (noise, max(SpanCorruption.round(Double(noise) / meanNoiseSpanLength), 1))
    }

    /// Input and target lengths (with `</s>`) produced from a raw row of `rawLength` tokens.
    public func lengths(rawLength: Int) -> (inputs: Int, targets: Int) {
        let (noise, spans) = counts(rawLength)
        return (rawLength - noise + spans + 1, noise + spans + 1)
    }

    /// The longest raw length whose inputs fit in `inputLength` tokens, and its target length
    /// (`compute_input_and_target_lengths`).
    public func rawLength(forInputLength inputLength: Int) -> (raw: Int, targets: Int) {
        var raw = inputLength
        while lengths(rawLength: raw + 1).inputs <= inputLength { raw += 1 }
        var targets = lengths(rawLength: raw).targets
        if noiseDensity == 0.5 && targets > inputLength { raw -= 1; targets -= 1 }
        return (raw, targets)
    }

    /// `count` items cut into `segments` non-empty runs at random; returns the run lengths.
    public static func randomSegmentation(_ count: Int, _ segments: Int, _ g: inout SeededGenerator) -> [Int] {
        var boundaries = (0..<(count - 1)).map { $0 < segments - 1 }
        boundaries.shuffle(using: &g)
        var lengths: [Int] = [], run = 1
        for b in boundaries {
            if b { lengths.append(run); run = 1 } else { run += 1 }
        }
        lengths.append(run)
        return lengths
    }

    /// The noise mask of a raw row of `length` tokens.
    public func noiseMask(length: Int, generator g: inout SeededGenerator) -> [Bool] {
        let (noise, spans) = counts(length)
        let noiseLengths = SpanCorruption.randomSegmentation(noise, spans, &g)
        let keptLengths = SpanCorruption.randomSegmentation(length - noise, spans, &g)
        var mask: [Bool] = []
        mask.reserveCapacity(length)
        for (kept, noisy) in zip(keptLengths, noiseLengths) {
            mask += [Bool](repeating: false, count: kept)
            mask += [Bool](repeating: true, count: noisy)
        }
        return mask
    }

    /// Inputs and targets of one raw row; `sentinel(k)` is the id of `<extra_id_k>`.
    public func corrupt(
        _ tokens: [Int32], eos: Int32, sentinel: (Int) -> Int32,
        generator g: inout SeededGenerator
    ) -> (inputs: [Int32], targets: [Int32]) {
        let mask = noiseMask(length: tokens.count, generator: &g)
        var inputs: [Int32] = [], targets: [Int32] = []
        var span = -1
        for (i, t) in tokens.enumerated() {
            if mask[i] {
                if i == 0 || !mask[i - 1] {
                    span += 1
                    inputs.append(sentinel(span))
                    targets.append(sentinel(span))
                }
                targets.append(t)
            } else {
                inputs.append(t)
            }
        }
        return (inputs + [eos], targets + [eos])
    }

}
