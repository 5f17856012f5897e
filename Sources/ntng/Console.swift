#if canImport(Glibc)
    import Glibc
#endif

/// Writes a progress line to standard error (standard output stays machine-readable).
func stderrLine(_ s: String) {
    let line = s + "\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
}
