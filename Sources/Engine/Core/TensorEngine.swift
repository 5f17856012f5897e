/// Process-wide engine settings.
public enum TensorEngine {
    nonisolated(unsafe) private static var _defaultBackend: (any Backend)?

    /// The backend new tensors are created on unless one is given (the CPU backend by default).
    public static var defaultBackend: any Backend {
        get {
            if let backend = _defaultBackend { return backend }
            let cpu = CPUBackend.shared
            _defaultBackend = cpu
            return cpu
        }
        set { _defaultBackend = newValue }
    }
}
