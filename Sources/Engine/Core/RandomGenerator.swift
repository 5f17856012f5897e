/// Seeded, reproducible random numbers.
///
/// `SeededGenerator` is xoshiro256** seeded through SplitMix64; its whole state is four words, so a
/// checkpoint can save and restore it exactly. `CounterHash` gives stateless per-element random
/// bits from (seed, index), so dropout masks can be regenerated in the backward pass instead of
/// being stored.
public struct SeededGenerator: RandomNumberGenerator, Sendable, Codable, Equatable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    public init(seed: UInt64) {
        var x = seed
        s0 = SeededGenerator.splitMix64(&x)
        s1 = SeededGenerator.splitMix64(&x)
        s2 = SeededGenerator.splitMix64(&x)
        s3 = SeededGenerator.splitMix64(&x)
    }

    /// Restores a generator from `state` (four words, not all zero).
    public init?(state: [UInt64]) {
        guard state.count == 4, state.contains(where: { $0 != 0 }) else { return nil }
        (s0, s1, s2, s3) = (state[0], state[1], state[2], state[3])
    }

    /// The full state, for checkpoints.
    public var state: [UInt64] { [s0, s1, s2, s3] }

    static func splitMix64(_ x: inout UInt64) -> UInt64 {
        x &+= 0x9E37_79B9_7F4A_7C15
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public mutating func next() -> UInt64 {
        let result = rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        return result
    }

    @inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Uniform in [0, 1) with 24 random bits.
    public mutating func uniform() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func uniformDouble() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Standard normal sample (Box–Muller; initialisation only, not a hot path).
    public mutating func normal() -> Float {
        let u1 = max(uniformDouble(), 1e-300)
        let u2 = uniformDouble()
        return Float((-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2))
    }

    /// Uniform integer in 0..<bound.
    public mutating func int(below bound: Int) -> Int { Int.random(in: 0..<bound, using: &self) }
}

/// Stateless random bits from (seed, counter): a SplitMix64 finaliser of `seed ^ counter·φ`.
public enum CounterHash {
    @inline(__always)
    public static func bits(seed: UInt64, counter: UInt64) -> UInt32 {
        var z = seed ^ (counter &* 0x9E37_79B9_7F4A_7C15)
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return UInt32(truncatingIfNeeded: (z ^ (z >> 31)) >> 32)
    }

    /// The 32-bit threshold below which an element is dropped with probability `p`.
    @inline(__always)
    public static func dropThreshold(_ p: Float) -> UInt32 {
        p >= 1 ? UInt32.max : UInt32(Double(p) * 4_294_967_296.0)
    }
}

#if canImport(Glibc)
    import Glibc
    @inline(__always) func _log(_ x: Double) -> Double { Glibc.log(x) }
    @inline(__always) func _cos(_ x: Double) -> Double { Glibc.cos(x) }
#else
    import Foundation
    @inline(__always) func _log(_ x: Double) -> Double { Foundation.log(x) }
    @inline(__always) func _cos(_ x: Double) -> Double { Foundation.cos(x) }
#endif
