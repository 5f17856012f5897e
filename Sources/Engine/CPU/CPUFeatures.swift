#if canImport(Glibc)
    import Glibc
#endif

/// What the host CPU is, read once from `/proc/cpuinfo` (x86-64 Linux). Used to pick BLAS kernels
/// and to report the machine in benchmarks.
public struct CPUFeatures: Sendable {
    public let vendor: String
    public let modelName: String
    public let family: Int
    public let model: Int
    public let flags: Set<String>
    public let logicalCores: Int

    public static let host = CPUFeatures.read()

    public var isIntel: Bool { vendor == "GenuineIntel" }
    public var hasAVX512: Bool { flags.contains("avx512f") }
    public var hasAVX2: Bool { flags.contains("avx2") && flags.contains("fma") }

    /// The OpenBLAS core type matching this CPU's vector units (for `OPENBLAS_CORETYPE`), so that a
    /// library too old to recognise the model does not fall back to its generic kernels.
    /// (OpenBLAS 0.3.21 refuses "COOPERLAKE" as a forced type; its float32 kernels are SkylakeX's.)
    public var openBLASCoreType: String? {
        if hasAVX512 { return "SKYLAKEX" }
        if hasAVX2 { return "HASWELL" }
        return nil
    }

    static func read() -> CPUFeatures {
        var vendor = "unknown", modelName = "unknown", family = -1, model = -1
        var flags = Set<String>()
        if let text = readTextFile("/proc/cpuinfo") {
            for line in text.split(separator: "\n") {
                guard let colon = line.firstIndex(of: ":") else { continue }
                let key = line[..<colon].trimmingSpaces()
                let value = line[line.index(after: colon)...].trimmingSpaces()
                switch key {
                case "vendor_id" where vendor == "unknown": vendor = value
                case "model name" where modelName == "unknown": modelName = value
                case "cpu family" where family < 0: family = Int(value) ?? -1
                case "model" where model < 0: model = Int(value) ?? -1
                case "flags" where flags.isEmpty: flags = Set(value.split(separator: " ").map(String.init))
                default: break
                }
            }
        }
        let cores = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        return CPUFeatures(
            vendor: vendor, modelName: modelName, family: family, model: model,
            flags: flags, logicalCores: max(cores, 1))
    }
}

extension Substring {
    func trimmingSpaces() -> String {
        var s = self
        while let c = s.first, c == " " || c == "\t" { s = s.dropFirst() }
        while let c = s.last, c == " " || c == "\t" { s = s.dropLast() }
        return String(s)
    }
}

/// Reads a whole file as UTF-8 (no Foundation).
func readTextFile(_ path: String) -> String? {
    guard let f = fopen(path, "r") else { return nil }
    defer { fclose(f) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = fread(&chunk, 1, chunk.count, f)
        if n <= 0 { break }
        bytes.append(contentsOf: chunk[0..<n])
    }
    return String(decoding: bytes, as: UTF8.self)
}

func environment(_ name: String) -> String? {
    guard let v = getenv(name) else { return nil }
    let s = String(cString: v)
    return s.isEmpty ? nil : s
}
