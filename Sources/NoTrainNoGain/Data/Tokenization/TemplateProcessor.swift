/// Hugging Face's `TemplateProcessing` post-processor: where special tokens go around one
/// sequence (`$A`) or a pair (`$A`, `$B`). cramming uses `$A <sep>` and `<cls> $A <sep> $B <sep>`
/// (`tokenizer_preparation.py`); HF BERT files use `[CLS] $A [SEP]` and `[CLS] $A [SEP] $B [SEP]`.
public struct TemplateProcessor: Equatable, Sendable {
    public enum Piece: Equatable, Sendable {
        case special(String, typeID: Int)
        /// "A" or "B".
        case sequence(String, typeID: Int)
    }

    public var single: [Piece]
    public var pair: [Piece]
    /// Special token name → ids it expands to.
    public var specialTokens: [String: [Int32]]

    public init(single: [Piece], pair: [Piece], specialTokens: [String: [Int32]]) {
        self.single = single
        self.pair = pair
        self.specialTokens = specialTokens
    }

    /// The ids of `a` (and `b`) with the template's special tokens around them.
    public func apply(_ a: [Int32], _ b: [Int32]? = nil) -> [Int32] {
        var out: [Int32] = []
        out.reserveCapacity(a.count + (b?.count ?? 0) + 4)
        for piece in b == nil ? single : pair {
            switch piece {
            case .special(let name, _): out += specialTokens[name] ?? []
            case .sequence(let which, _): out += which == "A" ? a : (b ?? [])
            }
        }
        return out
    }

    /// Type ids matching `apply` (0 for the first segment, per the template otherwise).
    public func typeIDs(_ a: [Int32], _ b: [Int32]? = nil) -> [Int32] {
        var out: [Int32] = []
        for piece in b == nil ? single : pair {
            switch piece {
            case .special(let name, let t): out += [Int32](repeating: Int32(t), count: specialTokens[name]?.count ?? 0)
            case .sequence(let which, let t):
                out += [Int32](repeating: Int32(t), count: which == "A" ? a.count : (b?.count ?? 0))
            }
        }
        return out
    }

    /// Number of special tokens the template adds.
    public func addedCount(pair isPair: Bool) -> Int {
        (isPair ? pair : single).reduce(0) {
            if case .special(let n, _) = $1 { return $0 + (specialTokens[n]?.count ?? 0) }
            return $0
        }
    }
}
