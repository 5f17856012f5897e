import Synchronization
#if canImport(Glibc)
    import Glibc
#endif

/// Reuses freed host buffers so a training step does not allocate its activations anew.
///
/// Sizes are rounded up to classes (64-byte steps below 64 KiB, then eight classes per doubling,
/// so at most 12.5% waste); a freed buffer waits on its class's free list for the next request of
/// that class. Buffers are 64-byte aligned (a cache line, one AVX-512 vector).
final class BufferPool: Sendable {
    private struct State {
        var free: [Int: [UInt]] = [:]  // addresses, so the state stays Sendable
        var cachedBytes = 0
        var liveBytes = 0
        var peakLiveBytes = 0
    }
    private let state = Mutex(State())

    static func sizeClass(_ bytes: Int) -> Int {
        let b = max(bytes, 64)
        if b <= 65536 { return (b + 63) & ~63 }
        let top = Int.bitWidth - 1 - b.leadingZeroBitCount  // floor(log2 b)
        let step = 1 << (top - 3)
        return (b + step - 1) / step * step
    }

    func allocate(_ bytes: Int) -> UnsafeMutableRawPointer {
        let size = BufferPool.sizeClass(bytes)
        let reused: UInt? = state.withLock { s in
            s.liveBytes += size
            s.peakLiveBytes = max(s.peakLiveBytes, s.liveBytes)
            guard let p = s.free[size]?.popLast() else { return nil }
            s.cachedBytes -= size
            return p
        }
        if let reused, let p = UnsafeMutableRawPointer(bitPattern: reused) { return p }
        var p: UnsafeMutableRawPointer?
        guard posix_memalign(&p, 64, size) == 0, let p else {
            fatalError("out of memory allocating \(size) bytes")
        }
        return p
    }

    func release(_ p: UnsafeMutableRawPointer, bytes: Int) {
        let size = BufferPool.sizeClass(bytes)
        let address = UInt(bitPattern: p)
        state.withLock { s in
            s.liveBytes -= size
            s.free[size, default: []].append(address)
            s.cachedBytes += size
        }
    }

    /// Returns all cached buffers to the system.
    func trim() {
        let lists = state.withLock { s -> [[UInt]] in
            let l = Array(s.free.values)
            s.free = [:]
            s.cachedBytes = 0
            return l
        }
        for list in lists { for a in list { free(UnsafeMutableRawPointer(bitPattern: a)) } }
    }

    var statistics: (live: Int, cached: Int, peak: Int) {
        state.withLock { ($0.liveBytes, $0.cachedBytes, $0.peakLiveBytes) }
    }
}
