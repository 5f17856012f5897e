/// Reference System Time (paper §2): the time an iteration takes on one fixed reference machine.
///
/// A run's RST is the sum, over the iterations it executed, of each iteration's reference cost,
/// so budgets and schedules do not depend on the hardware a run happens to use. `RST` is a
/// distinct type from wall-clock time (`WallSeconds`), steps and tokens so that the two clocks
/// cannot be mixed up.
public struct RST: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// Reference seconds.
    public var seconds: Double

    public init(seconds: Double) { self.seconds = seconds }
    public static func minutes(_ m: Double) -> RST { RST(seconds: m * 60) }
    public static func hours(_ h: Double) -> RST { RST(seconds: h * 3600) }
    public static let zero = RST(seconds: 0)

    public var hours: Double { seconds / 3600 }

    /// In JSON, a number of reference seconds.
    public init(from decoder: Decoder) throws { seconds = try decoder.singleValueContainer().decode(Double.self) }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(seconds)
    }

    public static func + (a: RST, b: RST) -> RST { RST(seconds: a.seconds + b.seconds) }
    public static func += (a: inout RST, b: RST) { a.seconds += b.seconds }
    public static func * (a: RST, k: Double) -> RST { RST(seconds: a.seconds * k) }
    public static func < (a: RST, b: RST) -> Bool { a.seconds < b.seconds }

    /// "6h", "90m", "45s" or "1h30m"; also used in configs.
    public var description: String {
        if seconds >= 3600, seconds.truncatingRemainder(dividingBy: 3600) == 0 { return "\(Int(seconds / 3600))h" }
        if seconds >= 60, seconds.truncatingRemainder(dividingBy: 60) == 0 { return "\(Int(seconds / 60))m" }
        return seconds == seconds.rounded() ? "\(Int(seconds))s" : "\(seconds)s"
    }

    /// Parses "24h", "12.5h", "90m", "30s", "1h30m" or a bare number of seconds.
    public init?(parsing text: String) {
        let s = text.trimmingCharacters(in: " ")
        if let v = Double(s) {
            self.init(seconds: v)
            return
        }
        var total = 0.0, number = ""
        var sawUnit = false
        for ch in s {
            if ch.isNumber || ch == "." {
                number.append(ch)
            } else {
                guard let v = Double(number) else { return nil }
                switch ch {
                case "h": total += v * 3600
                case "m": total += v * 60
                case "s": total += v
                default: return nil
                }
                number = ""
                sawUnit = true
            }
        }
        guard sawUnit, number.isEmpty else { return nil }
        self.init(seconds: total)
    }
}

/// Wall-clock seconds on the machine actually running (throughput and ETA only; never a schedule).
public struct WallSeconds: Hashable, Comparable, Sendable, Codable {
    public var seconds: Double
    public init(_ seconds: Double) { self.seconds = seconds }
    public static func < (a: WallSeconds, b: WallSeconds) -> Bool { a.seconds < b.seconds }
}

extension String {
    func trimmingCharacters(in set: Character) -> String {
        var s = Substring(self)
        while s.first == set { s = s.dropFirst() }
        while s.last == set { s = s.dropLast() }
        return String(s)
    }
}
