import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Open MPI, loaded at run time with `dlopen` (as the BLAS is), so the same binary runs where MPI is
/// not installed; only a process started by `mpirun` loads it. Open MPI's handles (`MPI_COMM_WORLD`,
/// `MPI_FLOAT`, `MPI_SUM`) are the addresses of exported globals (`ompi_mpi_comm_world`, …), which
/// `dlsym` returns; the C macros that name them cannot be imported into Swift. This ties ntng to
/// Open MPI's ABI (`libmpi.so.40`, Open MPI 3 to 5); MPICH's integer handles are not supported.
public final class OpenMPI: Communicator {
    public let rank: Int
    public let size: Int
    typealias Handle = UnsafeMutableRawPointer
    private let allreduce: @convention(c) (UnsafeRawPointer?, Handle?, Int32, Handle, Handle, Handle) -> Int32
    private let bcast: @convention(c) (Handle?, Int32, Handle, Int32, Handle) -> Int32
    private let barrierCall: @convention(c) (Handle) -> Int32
    private let finalizeCall: @convention(c) () -> Int32
    private let abortCall: @convention(c) (Handle, Int32) -> Int32
    private let world: Handle, float: Handle, double: Handle, byte: Handle, sumOp: Handle
    /// `MPI_IN_PLACE`: `((void *) 1)` in Open MPI's mpi.h.
    private let inPlace = UnsafeRawPointer(bitPattern: 1)

    /// The communicator of this process: Open MPI's world when `mpirun` started more than one rank
    /// (it sets `OMPI_COMM_WORLD_SIZE`), else a single process. A process that another launcher
    /// started as one of several (MPICH's `mpiexec` sets `PMI_SIZE`, `srun` `SLURM_STEP_NUM_TASKS`) is
    /// refused: it would train alone, as each of its siblings would.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> any Communicator {
        func count(_ key: String) -> Int { environment[key].flatMap { Int($0) } ?? 1 }
        if count("OMPI_COMM_WORLD_SIZE") > 1 { return try OpenMPI() }
        for (key, launcher) in [("PMI_SIZE", "an MPI launcher (mpiexec)"), ("SLURM_STEP_NUM_TASKS", "srun")]
        where count(key) > 1 {
            throw InputError(
                "started by \(launcher) as one of \(count(key)) processes (\(key)); data-parallel runs start "
                    + "under Open MPI's mpirun: mpirun -np \(count(key)) ntng pretrain …")
        }
        return SingleProcess()
    }

    init() throws {
        var library: Handle?
        for name in ["libmpi.so.40", "libmpi.so"] {
            library = dlopen(name, RTLD_NOW | RTLD_GLOBAL)
            if library != nil { break }
        }
        guard let h = library else {
            throw InputError(
                "started by mpirun, but Open MPI's libmpi.so.40 cannot be loaded (\(String(cString: dlerror()))); "
                    + "install it (Debian: apt-get install openmpi-bin libopenmpi-dev)")
        }
        func symbol(_ name: String) throws -> Handle {
            guard let s = dlsym(h, name) else {
                throw InputError("libmpi.so has no \(name): ntng needs Open MPI (MPICH is not supported)")
            }
            return s
        }
        func function<F>(_ name: String, _ type: F.Type) throws -> F { unsafeBitCast(try symbol(name), to: type) }
        let initThread = try function(
            "MPI_Init_thread",
            (@convention(c) (UnsafeMutablePointer<Int32>?, Handle?, Int32, UnsafeMutablePointer<Int32>) -> Int32).self)
        let commRank = try function(
            "MPI_Comm_rank", (@convention(c) (Handle, UnsafeMutablePointer<Int32>) -> Int32).self)
        let commSize = try function(
            "MPI_Comm_size", (@convention(c) (Handle, UnsafeMutablePointer<Int32>) -> Int32).self)
        allreduce = try function("MPI_Allreduce", type(of: allreduce))
        bcast = try function("MPI_Bcast", type(of: bcast))
        barrierCall = try function("MPI_Barrier", type(of: barrierCall))
        finalizeCall = try function("MPI_Finalize", type(of: finalizeCall))
        abortCall = try function("MPI_Abort", type(of: abortCall))
        world = try symbol("ompi_mpi_comm_world")
        float = try symbol("ompi_mpi_float")
        double = try symbol("ompi_mpi_double")
        byte = try symbol("ompi_mpi_byte")
        sumOp = try symbol("ompi_mpi_op_sum")
        var provided: Int32 = 0, r: Int32 = 0, n: Int32 = 0
        // MPI_THREAD_FUNNELED (1): only the main thread calls MPI; the kernels' threads never do.
        guard initThread(nil, nil, 1, &provided) == 0, commRank(world, &r) == 0, commSize(world, &n) == 0 else {
            throw InputError("MPI_Init_thread failed")
        }
        rank = Int(r)
        size = Int(n)
    }

    deinit { _ = finalizeCall() }

    /// Largest count per call: MPI counts are 32-bit.
    static let chunk = Int(Int32.max) / 2

    public func sum(_ values: UnsafeMutableBufferPointer<Float>) { reduce(values, float) }
    public func sum(_ values: UnsafeMutableBufferPointer<Double>) { reduce(values, double) }

    private func reduce<T>(_ values: UnsafeMutableBufferPointer<T>, _ type: Handle) {
        guard let base = values.baseAddress else { return }
        for start in stride(from: 0, to: values.count, by: OpenMPI.chunk) {
            let n = min(OpenMPI.chunk, values.count - start)
            check(
                allreduce(inPlace, UnsafeMutableRawPointer(base + start), Int32(n), type, sumOp, world), "MPI_Allreduce"
            )
        }
    }

    public func broadcast(_ bytes: inout [UInt8]) {
        let n = Int32(bytes.count)
        bytes.withUnsafeMutableBytes { check(bcast($0.baseAddress, n, byte, 0, world), "MPI_Bcast") }
    }

    public func barrier() { check(barrierCall(world), "MPI_Barrier") }

    /// Stops every rank (after a rank's error has been printed): `mpirun` then reports the exit.
    public func abort(code: Int32) -> Never {
        _ = abortCall(world, code)
        exit(code)
    }

    private func check(_ result: Int32, _ call: String) {
        guard result != 0 else { return }
        FileHandle.standardError.write(
            Data("rank \(rank): \(call) failed (error \(result)); stopping every rank\n".utf8))
        abort(code: 1)
    }
}
