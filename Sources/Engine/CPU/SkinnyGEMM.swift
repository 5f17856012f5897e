/// C[i, j] = α · Σₖ A[i, k] · B[j, k] + β · C[i, j] for few rows of A — a linear layer applied to
/// one position of a small batch, as in every step of incremental decoding. There the BLAS spends
/// more time packing the weight B ([out, in], row-major) for each call than multiplying, and the
/// step is bound by reading the weights; this kernel reads each weight row once, straight from
/// memory, against all rows of A (which stay in L1): blocks of 2 rows of A × 4 rows of B, eight
/// 8-lane fused multiply-add accumulators.
enum SkinnyGEMM {
    /// The most rows of A it is used for.
    static let maxRows = 16
    typealias V = SIMD8<Float>

    @inline(__always)
    private static func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }

    /// Columns `columns` of C (rows of B), all `m` rows.
    static func run(
        m: Int, columns: Range<Int>, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        @inline(__always) func store(_ i: Int, _ j: Int, _ sum: Float) {
            let p = c + i * ldc + j
            p.pointee = beta == 0 ? alpha * sum : alpha * sum + beta * p.pointee
        }
        var j = columns.lowerBound
        while j + 4 <= columns.upperBound {
            let b0 = b + j * ldb, b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb
            var i = 0
            while i + 2 <= m {
                let s = block(a + i * lda, a + (i + 1) * lda, b0, b1, b2, b3, k)
                for q in 0..<4 {
                    store(i, j + q, s[q])
                    store(i + 1, j + q, s[4 + q])
                }
                i += 2
            }
            if i < m {
                for (q, row) in [b0, b1, b2, b3].enumerated() { store(i, j + q, dot(a + i * lda, row, k)) }
            }
            j += 4
        }
        while j < columns.upperBound {
            for i in 0..<m { store(i, j, dot(a + i * lda, b + j * ldb, k)) }
            j += 1
        }
    }

    /// The 2 × 4 dot products of rows x0, x1 with rows w0…w3: [x0·w0, x0·w1, x0·w2, x0·w3, x1·w0, …].
    @inline(__always)
    private static func block(
        _ x0: UnsafePointer<Float>, _ x1: UnsafePointer<Float>, _ w0: UnsafePointer<Float>,
        _ w1: UnsafePointer<Float>, _ w2: UnsafePointer<Float>, _ w3: UnsafePointer<Float>, _ k: Int
    ) -> SIMD8<Float> {
        var c00 = V(), c01 = V(), c02 = V(), c03 = V(), c10 = V(), c11 = V(), c12 = V(), c13 = V()
        var p = 0
        while p + 8 <= k {
            let a0 = load(x0 + p), a1 = load(x1 + p)
            var w = load(w0 + p)
            c00.addProduct(a0, w)
            c10.addProduct(a1, w)
            w = load(w1 + p)
            c01.addProduct(a0, w)
            c11.addProduct(a1, w)
            w = load(w2 + p)
            c02.addProduct(a0, w)
            c12.addProduct(a1, w)
            w = load(w3 + p)
            c03.addProduct(a0, w)
            c13.addProduct(a1, w)
            p += 8
        }
        var s = SIMD8<Float>(
            c00.sum(), c01.sum(), c02.sum(), c03.sum(), c10.sum(), c11.sum(), c12.sum(), c13.sum())
        while p < k {
            s += SIMD8<Float>(
                x0[p] * w0[p], x0[p] * w1[p], x0[p] * w2[p], x0[p] * w3[p],
                x1[p] * w0[p], x1[p] * w1[p], x1[p] * w2[p], x1[p] * w3[p])
            p += 1
        }
        return s
    }

    @inline(__always)
    private static func dot(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ k: Int) -> Float {
        var acc = V(), p = 0
        while p + 8 <= k {
            acc.addProduct(load(x + p), load(w + p))
            p += 8
        }
        var s = acc.sum()
        while p < k {
            s += x[p] * w[p]
            p += 1
        }
        return s
    }
}
