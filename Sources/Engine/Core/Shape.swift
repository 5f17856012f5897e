/// Shape helpers. A shape is a plain `[Int]`, row-major, last dimension fastest.
public extension Array where Element == Int {
    /// Number of elements a tensor of this shape holds (1 for a scalar `[]`).
    var elementCount: Int { reduce(1, *) }

    /// Product of all dimensions but the last (the "rows" of a row-wise kernel).
    var rowCount: Int { dropLast().reduce(1, *) }

    /// The last dimension (1 for a scalar).
    var lastDimension: Int { last ?? 1 }

    /// `[2, 3, 4]` → `"[2, 3, 4]"`, for error messages.
    var shapeDescription: String { "[" + map(String.init).joined(separator: ", ") + "]" }
}
