import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// An exclusive lock on a run folder while a process trains in it: `flock` on `<run>/.ntng-lock`,
/// which the system releases when the process ends, however it ends. The file says who holds it, so
/// a second `ntng pretrain` on the same folder stops with one line naming the process and host
/// instead of writing into a run in progress.
public final class RunLock {
    public static let fileName = ".ntng-lock"
    let fd: Int32

    public init(run: String) throws {
        let path = run + "/" + RunLock.fileName
        let fd = open(path, O_RDWR | O_CREAT, 0o644)
        guard fd >= 0 else { throw DurableStorage.failure("cannot open the run's lock file", path) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines)
            close(fd)
            throw InputError(
                run,
                "is in use by \(holder.map { $0.isEmpty ? "another process" : $0 } ?? "another process"); "
                    + "wait for it to finish, or stop it, before training here")
        }
        let holder = "process \(getpid()) on \(RunLock.hostName) since \(ISO8601DateFormatter().string(from: Date()))\n"
        ftruncate(fd, 0)
        _ = holder.withCString { Glibc.write(fd, $0, strlen($0)) }
        self.fd = fd
    }

    /// This machine's name ("localhost" if it has none).
    static var hostName: String {
        var host = [CChar](repeating: 0, count: 256)
        gethostname(&host, host.count)
        let name = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? "localhost" : name
    }

    /// Whether a process holds the lock of `run` now (it is training there).
    public static func isHeld(run: String) -> Bool {
        let fd = open(run + "/" + fileName, O_RDONLY)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        guard flock(fd, LOCK_SH | LOCK_NB) == 0 else { return true }
        flock(fd, LOCK_UN)
        return false
    }

    deinit {
        ftruncate(fd, 0)
        flock(fd, LOCK_UN)
        close(fd)
    }
}
