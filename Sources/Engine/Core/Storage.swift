/// A block of memory owned by a backend: host memory for the CPU backend, a device address for an
/// accelerator backend. Freed memory goes back to the backend's pool when the last tensor using it
/// goes away, so a training step reuses the same buffers instead of allocating new ones.
public final class Storage: @unchecked Sendable {
    public let backend: any Backend
    /// Host pointer (CPU) or device address bit pattern (accelerators). Kernels of `backend` only.
    public let pointer: UnsafeMutableRawPointer
    public let byteCount: Int

    public init(backend: any Backend, byteCount: Int) {
        self.backend = backend
        self.byteCount = byteCount
        self.pointer = backend.allocate(byteCount: byteCount)
    }

    deinit { backend.release(pointer, byteCount: byteCount) }
}
