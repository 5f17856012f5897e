#if canImport(Glibc)
    import Glibc
#endif

/// Row gather (embedding lookup, selecting masked positions) and its scatter-add backward.
extension CPUBackend {
    public func gatherRows(_ table: Tensor, indices: Tensor, into out: Tensor) {
        profile.measure("embedding") {
            let rows = table.shape[0], d = table.elementCount / max(rows, 1), n = indices.elementCount
            precondition(out.elementCount == n * d, "gatherRows: output must hold \(n) rows of \(d)")
            let t = table.floats, idx = indices.int32s, o = out.floats
            Parallel.ranges(n, grain: max(1, CPUBackend.grain / max(d, 1))) { r in
                for i in r {
                    let row = Int(idx[i])
                    precondition(row >= 0 && row < rows, "gatherRows: index \(row) out of range 0..<\(rows)")
                    memcpy(o + i * d, t + row * d, d * 4)
                }
            }
        }
    }

    /// Columns are split over the workers (each worker owns a column range of every row), so
    /// repeated indices never race and the summation order is fixed.
    public func scatterAddRows(_ dOut: Tensor, indices: Tensor, into dTable: GradientOutput) {
        profile.measure("embedding") {
            let table = dTable.tensor
            let rows = table.shape[0], d = table.elementCount / max(rows, 1), n = indices.elementCount
            precondition(dOut.elementCount == n * d, "scatterAddRows: gradient must hold \(n) rows of \(d)")
            if !dTable.accumulate { fill(table, with: 0) }
            let g = dOut.floats, idx = indices.int32s, o = table.floats
            let chunks = Parallel.chunkCount(d, grain: 16)
            Parallel.forEach(chunks) { c in
                let cols = Parallel.chunkRange(c, of: chunks, count: d)
                for i in 0..<n {
                    let row = Int(idx[i])
                    precondition(row >= 0 && row < rows, "scatterAddRows: index \(row) out of range 0..<\(rows)")
                    let src = g + i * d, dst = o + row * d
                    for j in cols { dst[j] += src[j] }
                }
            }
        }
    }
}
