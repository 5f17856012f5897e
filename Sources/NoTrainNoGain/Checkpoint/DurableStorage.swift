import Crypto
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// How checkpoint files reach the disk: each file written and flushed to the device (`fsync`)
/// before it counts, its folder flushed after renames, so a power cut leaves either the old
/// checkpoint or the new one, never a file the directory points at but the disk never got. Tests
/// swap in a storage that fails (a full disk) through the same seam.
public struct DurableStorage: Sendable {
    /// Writes `data` to `path` (replacing it) and flushes it to the device.
    public var write: @Sendable (_ data: Data, _ path: String) throws -> Void

    public init(write: @escaping @Sendable (_ data: Data, _ path: String) throws -> Void) { self.write = write }

    public static let disk = DurableStorage { data, path in
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw DurableStorage.failure("cannot create", path) }
        defer { close(fd) }
        try data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw DurableStorage.failure("cannot write", path) }
                offset += n
            }
        }
        guard fsync(fd) == 0 else { throw DurableStorage.failure("cannot flush", path) }
    }

    /// Flushes a folder's entries (new names, renames) to the device.
    public static func flushFolder(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else { throw failure("cannot open", path) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw failure("cannot flush", path) }
    }

    static func failure(_ what: String, _ path: String) -> InputError {
        InputError(path, "\(what) (\(String(cString: strerror(errno))))")
    }

    /// The SHA-256 of `data` as 64 hex digits.
    public static func sha256(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }
}
