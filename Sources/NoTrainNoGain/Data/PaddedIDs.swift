import Engine

/// Token-id rows of different lengths as one right-padded batch.
public struct PaddedIDs {
    /// int32 [B, S], S the longest row (at least 1).
    public let ids: Tensor
    /// int32 [B]: each row's own length (the valid keys of attention).
    public let lengths: Tensor
    public let width: Int

    public init(_ rows: [[Int32]], pad: Int32) {
        let width = max(rows.map(\.count).max() ?? 1, 1)
        self.width = width
        ids = Tensor(
            int32: rows.flatMap { $0 + [Int32](repeating: pad, count: width - $0.count) }, shape: [rows.count, width])
        lengths = Tensor(int32: rows.map { Int32($0.count) }, shape: [rows.count])
    }
}
