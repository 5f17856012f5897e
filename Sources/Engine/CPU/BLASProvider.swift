#if canImport(Glibc)
    import Glibc
#endif

/// The BLAS library that runs the CPU backend's GEMMs, chosen and loaded at run time with `dlopen`.
///
/// Two providers are supported: OpenBLAS (Debian's `libopenblas-dev`) and Intel MKL (the PyPI
/// `mkl` wheel, unpacked by `scripts/install-deps.sh`). Choice (`NTNG_BLAS=auto|openblas|mkl`):
/// on Intel CPUs MKL is preferred when present (1.4–1.5× faster there, machine notes §1b),
/// elsewhere OpenBLAS. Before OpenBLAS loads, `OPENBLAS_CORETYPE` is set from the CPU's vector
/// units (unless the user set it): OpenBLAS 0.3.21 does not recognise recent Xeons and would
/// otherwise run its generic SSE3 kernels 4–5× slower without saying so. The provider, its
/// version and the kernel it runs are reported in `report` (and in every benchmark's JSON).
///
/// The engine calls the provider single-threaded and does its own splitting (`Parallel`);
/// `setThreads` exists so that benchmarks can also time the provider's own threading.
public final class BLASProvider: @unchecked Sendable {
    public enum Kind: String, Sendable { case openblas, mkl }

    public let kind: Kind
    public let libraryPath: String
    public let version: String
    /// The kernel family in use: OpenBLAS's core name, or MKL's code branch.
    public private(set) var kernel: String
    /// Where the kernel choice came from.
    public let kernelSource: String
    /// MKL threading layer (GNU OpenMP or sequential); empty for OpenBLAS.
    public let threadingLayer: String

    typealias SgemmFn =
        @convention(c) (
            Int32, Int32, Int32, Int32, Int32, Int32, Float,
            UnsafePointer<Float>?, Int32, UnsafePointer<Float>?, Int32,
            Float, UnsafeMutablePointer<Float>?, Int32
        ) -> Void
    typealias SetThreadsFn = @convention(c) (Int32) -> Void
    typealias BranchFn = @convention(c) () -> Int32

    private let sgemmFn: SgemmFn
    private let setThreadsFn: SetThreadsFn?
    private let branchFn: BranchFn?

    /// The provider for this process, loaded on first use.
    public static let shared: Result<BLASProvider, BLASError> = {
        do { return .success(try BLASProvider.load()) } catch let e as BLASError { return .failure(e) } catch {
            return .failure(BLASError("\(error)"))
        }
    }()

    /// The loaded provider, or a fatal error naming what to install. Front ends should check
    /// `shared` first and print its error instead.
    public static var current: BLASProvider {
        switch shared {
        case .success(let p): return p
        case .failure(let e): fatalError(e.description)
        }
    }

    private init(
        kind: Kind, libraryPath: String, version: String, kernel: String, kernelSource: String,
        threadingLayer: String, sgemm: SgemmFn, setThreads: SetThreadsFn?, branch: BranchFn?
    ) {
        self.kind = kind
        self.libraryPath = libraryPath
        self.version = version
        self.kernel = kernel
        self.kernelSource = kernelSource
        self.threadingLayer = threadingLayer
        self.sgemmFn = sgemm
        self.setThreadsFn = setThreads
        self.branchFn = branch
        self.setThreads(1)
    }

    /// Row-major single-precision GEMM: C = alpha·op(A)·op(B) + beta·C.
    @inline(__always)
    public func sgemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        sgemmFn(
            101, transA ? 112 : 111, transB ? 112 : 111, Int32(m), Int32(n), Int32(k), alpha,
            a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Sets the provider's own thread count (the engine keeps it at 1).
    public func setThreads(_ n: Int) { setThreadsFn?(Int32(n)) }

    /// True when the provider runs a generic kernel although the CPU has AVX2 or better.
    public var isGenericFallback: Bool {
        guard CPUFeatures.host.hasAVX2 else { return false }
        let generic: Set<String> = [
            "prescott", "katmai", "coppermine", "northwood", "banias", "atom",
            "core2", "penryn", "dunnington", "nehalem", "barcelona", "generic",
            "sse2", "ssse3", "sse4_1", "sse4_2", "avx", "compatible",
        ]
        return generic.contains(kernel.lowercased())
    }

    public var report: [String: String] {
        refreshKernel()
        var r = [
            "blas_provider": kind.rawValue, "blas_library": libraryPath, "blas_version": version,
            "blas_kernel": kernel, "blas_kernel_source": kernelSource,
            "blas_generic_fallback": String(isGenericFallback),
        ]
        if !threadingLayer.isEmpty { r["blas_threading_layer"] = threadingLayer }
        return r
    }

    /// MKL decides its code branch lazily; read it again after the first call.
    private func refreshKernel() {
        guard kind == .mkl, let branchFn else { return }
        let names: [Int32: String] = [
            3: "compatible", 4: "sse2", 6: "ssse3", 7: "sse4_1", 8: "sse4_2",
            9: "avx", 10: "avx2", 12: "avx512", 14: "avx512_e1",
        ]
        if let name = names[branchFn()] { kernel = name }
    }

    // MARK: Loading

    static func load() throws -> BLASProvider {
        let choice = environment("NTNG_BLAS")?.lowercased() ?? "auto"
        let order: [Kind]
        switch choice {
        case "auto": order = CPUFeatures.host.isIntel ? [.mkl, .openblas] : [.openblas, .mkl]
        case "openblas": order = [.openblas]
        case "mkl": order = [.mkl]
        default: throw BLASError("NTNG_BLAS=\(choice) is not a BLAS provider (use auto, openblas or mkl)")
        }
        var attempts: [String] = []
        for kind in order {
            do {
                return try kind == .mkl ? loadMKL() : loadOpenBLAS()
            } catch let e as BLASError {
                attempts.append(e.description)
            }
        }
        throw BLASError(
            "no BLAS library could be loaded (\(attempts.joined(separator: "; "))). "
                + "Install OpenBLAS with `apt-get install -y libopenblas-dev` or run scripts/install-deps.sh")
    }

    private static func loadOpenBLAS() throws -> BLASProvider {
        var source = "auto-detected by OpenBLAS"
        if let user = environment("OPENBLAS_CORETYPE") {
            source = "OPENBLAS_CORETYPE=\(user) (set by user)"
        } else if let core = CPUFeatures.host.openBLASCoreType {
            setenv("OPENBLAS_CORETYPE", core, 1)
            source = "OPENBLAS_CORETYPE=\(core) (set by ntng from the CPU flags)"
        }
        // OpenBLAS's own worker threads (used only when a benchmark times its threading) otherwise
        // busy-wait ~2^28 cycles after each call, stealing a core from the engine's workers.
        if environment("OPENBLAS_THREAD_TIMEOUT") == nil { setenv("OPENBLAS_THREAD_TIMEOUT", "4", 1) }
        let candidates = [
            environment("NTNG_OPENBLAS_LIB"), "libopenblas.so.0", "libopenblas.so",
            "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
        ].compactMap { $0 }
        let (handle, path) = try openFirst(candidates, what: "OpenBLAS")
        let sgemm: SgemmFn = try symbol(handle, "cblas_sgemm", in: path)
        let setThreads: SetThreadsFn? = try? symbol(handle, "openblas_set_num_threads", in: path)
        typealias StringFn = @convention(c) () -> UnsafePointer<CChar>?
        let corename: StringFn? = try? symbol(handle, "openblas_get_corename", in: path)
        let config: StringFn? = try? symbol(handle, "openblas_get_config", in: path)
        let kernel = corename?().map { String(cString: $0) } ?? "unknown"
        var version = "unknown"
        if let c = config?().map({ String(cString: $0) }) {
            let words = c.split(separator: " ")
            if words.count > 1, words[0] == "OpenBLAS" { version = String(words[1]) }
        }
        return BLASProvider(
            kind: .openblas, libraryPath: path, version: version, kernel: kernel,
            kernelSource: source, threadingLayer: "", sgemm: sgemm,
            setThreads: setThreads, branch: nil)
    }

    private static func loadMKL() throws -> BLASProvider {
        var candidates: [String] = []
        if let dir = environment("NTNG_MKL_DIR") { candidates.append(dir + "/libmkl_rt.so.3") }
        candidates.append(defaultMKLDirectory + "/libmkl_rt.so.3")
        candidates += ["libmkl_rt.so.3", "libmkl_rt.so.2", "libmkl_rt.so"]
        var layer = environment("MKL_THREADING_LAYER") ?? ""
        if layer.isEmpty {
            // GNU OpenMP lets benchmarks time MKL's own threading; the engine itself runs MKL on one thread.
            layer = dlopen("libgomp.so.1", RTLD_NOW | RTLD_GLOBAL) != nil ? "GNU" : "SEQUENTIAL"
            setenv("MKL_THREADING_LAYER", layer, 1)
        }
        let (handle, path) = try openFirst(candidates, what: "MKL")
        let sgemm: SgemmFn = try symbol(handle, "cblas_sgemm", in: path)
        let setThreads: SetThreadsFn? = try? symbol(handle, "MKL_Set_Num_Threads", in: path)
        let branch: BranchFn? = try? symbol(handle, "mkl_cbwr_get_auto_branch", in: path)
        typealias VersionFn = @convention(c) (UnsafeMutablePointer<CChar>?, Int32) -> Void
        var version = "unknown"
        if let vf: VersionFn = try? symbol(handle, "MKL_Get_Version_String", in: path) {
            var buf = [CChar](repeating: 0, count: 256)
            vf(&buf, 256)
            let s = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            // "Intel(R) oneAPI Math Kernel Library Version 2026.2-Product Build ..."
            let words = s.split(separator: " ")
            if let i = words.firstIndex(of: "Version"), i + 1 < words.count {
                version = String(words[i + 1].prefix { $0 != "-" })
            }
        }
        let provider = BLASProvider(
            kind: .mkl, libraryPath: path, version: version, kernel: "auto",
            kernelSource: "MKL dispatch", threadingLayer: layer.lowercased(),
            sgemm: sgemm, setThreads: setThreads, branch: branch)
        provider.refreshKernel()
        return provider
    }

    /// Where `scripts/install-deps.sh` unpacks MKL: `$XDG_CACHE_HOME/ntng/mkl/lib` or `~/.cache/ntng/mkl/lib`.
    public static var defaultMKLDirectory: String {
        let cache = environment("XDG_CACHE_HOME") ?? ((environment("HOME") ?? "/root") + "/.cache")
        return cache + "/ntng/mkl/lib"
    }

    private static func openFirst(_ candidates: [String], what: String) throws -> (UnsafeMutableRawPointer, String) {
        var errors: [String] = []
        for path in candidates {
            if let h = dlopen(path, RTLD_NOW | RTLD_LOCAL) { return (h, path) }
            if let e = dlerror() { errors.append(String(cString: e)) }
        }
        throw BLASError("\(what) not found (\(errors.first ?? "no candidates"))")
    }

    private static func symbol<T>(_ handle: UnsafeMutableRawPointer, _ name: String, in path: String) throws -> T {
        guard let s = dlsym(handle, name) else { throw BLASError("\(path) has no symbol \(name)") }
        return unsafeBitCast(s, to: T.self)
    }
}

public struct BLASError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ d: String) { description = d }
}
