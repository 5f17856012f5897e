import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The workers behind `Parallel.forEach`: `threadCount − 1` threads that wait for the next parallel
/// region by spinning for a while (`spinSeconds`) before they sleep, so that the hundreds of short
/// regions of a training step do not each pay for waking a thread. Measured on the 2-vCPU VM:
/// `DispatchQueue.concurrentPerform(iterations: 2)` added 55–140 µs to a region of 2 × 540 µs of
/// work (its second thread starts late), this pool 1–7 µs while its worker spins, ~40–60 µs after
/// it slept (BENCHMARKS.md).
///
/// One region at a time: a call while the pool is busy (another thread's region, or a region
/// started inside a region) returns false and the caller uses Dispatch instead.
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool(workers: Parallel.threadCount - 1)
    /// How long an idle worker keeps polling for the next region before it sleeps.
    static let spinSeconds = 200e-6

    let workers: Int
    /// The current region's number; workers wait for it to change.
    private let generation = Atomic<Int>(0)
    /// (region number << 32) | next index to hand out; `closed` as the index once the region is done.
    private let ticket = Atomic<Int>(0)
    private static let closed = 0xffff_ffff
    private let count = Atomic<Int>(0)
    private let remaining = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    private let sleepers = Atomic<Int>(0)
    /// The region's body; read only by a thread that claimed an index of the region.
    private nonisolated(unsafe) var job: ((Int) -> Void)?
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init(workers: Int) {
        self.workers = max(workers, 0)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wake, nil)
        for _ in 0..<self.workers {
            var thread = pthread_t()
            let started = pthread_create(
                &thread, nil,
                { context in
                    Unmanaged<WorkerPool>.fromOpaque(context!).takeRetainedValue().work()
                    return nil
                }, Unmanaged.passRetained(self).toOpaque())
            precondition(started == 0, "could not start a worker thread (error \(started))")
            pthread_detach(thread)
        }
    }

    /// Runs `body(i)` for every i in 0..<count on the calling thread and the workers, and returns
    /// when all are done; returns false at once (running nothing) when the pool is busy.
    func run(_ count: Int, _ body: (Int) -> Void) -> Bool {
        guard workers > 0, busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
        else { return false }
        withoutActuallyEscaping(body) { body in
            let g = generation.load(ordering: .relaxed) + 1
            job = body
            self.count.store(count, ordering: .relaxed)
            remaining.store(count, ordering: .relaxed)
            ticket.store(g << 32, ordering: .releasing)
            generation.store(g, ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                pthread_mutex_lock(mutex)
                pthread_cond_broadcast(wake)
                pthread_mutex_unlock(mutex)
            }
            claim(g)
            while remaining.load(ordering: .acquiring) > 0 {}
            ticket.store(g << 32 | WorkerPool.closed, ordering: .releasing)
            job = nil
        }
        busy.store(false, ordering: .releasing)
        return true
    }

    /// Takes indices of region `g` and runs them until none is left. A successful claim proves the
    /// region is still open (its ticket cannot recur), so `job` is that region's body.
    private func claim(_ g: Int) {
        while true {
            var t = ticket.load(ordering: .acquiring)
            while true {
                guard t >> 32 == g, t & WorkerPool.closed < count.load(ordering: .relaxed) else { return }
                let (claimed, current) = ticket.compareExchange(
                    expected: t, desired: t + 1, ordering: .acquiringAndReleasing)
                if claimed { break }
                t = current
            }
            job!(t & WorkerPool.closed)
            remaining.subtract(1, ordering: .releasing)
        }
    }

    private func work() {
        var seen = 0
        while true {
            var g = generation.load(ordering: .acquiring)
            let start = KernelProfile.now()
            var polls = 0
            while g == seen {
                polls += 1
                if polls & 255 == 0 && KernelProfile.now() - start > WorkerPool.spinSeconds {
                    pthread_mutex_lock(mutex)
                    sleepers.add(1, ordering: .sequentiallyConsistent)
                    while generation.load(ordering: .sequentiallyConsistent) == seen {
                        pthread_cond_wait(wake, mutex)
                    }
                    sleepers.subtract(1, ordering: .sequentiallyConsistent)
                    pthread_mutex_unlock(mutex)
                }
                g = generation.load(ordering: .acquiring)
            }
            seen = g
            claim(g)
        }
    }
}
