#if canImport(Glibc)
    import Glibc
#endif

/// Reverse-mode automatic differentiation by a tape.
///
/// Every op whose inputs need gradients appends an entry (its output and a backward closure) to
/// the current tape while recording is on. Entries are appended in execution order, so the tape
/// is already topologically sorted: `backward()` walks it in reverse, calls each closure with its
/// output's finished gradient, and frees that gradient and the closure (with the activations it
/// captured) right away, so memory falls as the backward pass proceeds.
///
/// Gradient flow follows one rule (as in llm.c): a kernel *overwrites* a gradient buffer the first
/// time it is written in a pass and *accumulates* afterwards (`Tensor.accumulateGradient`).
/// Parameters keep their gradient across passes, which gives micro-batch accumulation for free.
///
/// Each thread has its own tape and no-grad state, so independent computations (tests, data
/// workers) on different threads do not interfere.
public final class GradientTape {
    struct Entry {
        let output: Tensor
        let backward: (Tensor) -> Void
    }

    var entries: [Entry?] = []
    var noGradDepth = 0

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { p in
            if let p { Unmanaged<GradientTape>.fromOpaque(p).release() }
        }
        return key
    }()

    /// This thread's tape.
    static var current: GradientTape {
        if let p = pthread_getspecific(key) { return Unmanaged<GradientTape>.fromOpaque(p).takeUnretainedValue() }
        let tape = GradientTape()
        pthread_setspecific(key, Unmanaged.passRetained(tape).toOpaque())
        return tape
    }

    /// Whether ops are being recorded on this thread (false inside `withoutGradients`).
    public static var isRecording: Bool { current.noGradDepth == 0 }

    /// Number of recorded, not yet differentiated ops.
    public static var pendingCount: Int { current.entries.count }

    /// Drops everything recorded (e.g. after a forward pass whose gradient is not needed).
    public static func reset() { current.entries.removeAll(keepingCapacity: true) }

    /// Appends `output`'s backward closure if any input requires a gradient. Returns `output`.
    @discardableResult
    static func record(_ output: Tensor, inputs: [Tensor], backward: @escaping (Tensor) -> Void) -> Tensor {
        let tape = current
        guard tape.noGradDepth == 0, inputs.contains(where: { $0.requiresGrad }) else { return output }
        output.requiresGrad = true
        output.isLeaf = false
        tape.entries.append(Entry(output: output, backward: backward))
        return output
    }

    func runBackward() {
        var i = entries.count - 1
        while i >= 0 {
            if let entry = entries[i] {
                entries[i] = nil
                let out = entry.output
                if out.hasGrad, let g = out.grad {
                    entry.backward(g)
                }
                if !out.isLeaf {
                    out.grad = nil
                    out.hasGrad = false
                }
            }
            i -= 1
        }
        entries.removeAll(keepingCapacity: true)
    }
}

/// Runs `body` without recording ops (evaluation, selection forwards, Hessian sampling).
public func withoutGradients<T>(_ body: () throws -> T) rethrows -> T {
    let tape = GradientTape.current
    tape.noGradDepth += 1
    defer { tape.noGradDepth -= 1 }
    return try body()
}

extension Tensor {
    /// Back-propagates from this scalar: fills `grad` of every tensor it depends on that requires
    /// gradients (accumulating into parameters), then clears the tape.
    public func backward(seed: Float = 1) {
        precondition(elementCount == 1, "backward() needs a scalar, got \(shape.shapeDescription)")
        precondition(requiresGrad, "backward(): this tensor does not depend on anything that requires a gradient")
        accumulateGradient { backend.fill($0.tensor, with: seed) }
        GradientTape.current.runBackward()
    }

    /// Writes a gradient contribution: `write` receives the gradient buffer and whether to add to it.
    /// The first contribution in a pass overwrites (no zero-fill needed); later ones accumulate.
    @inline(__always)
    func accumulateGradient(_ write: (GradientOutput) -> Void) {
        guard requiresGrad else { return }
        if hasGrad, let g = grad {
            write(GradientOutput(g, accumulate: true))
        } else {
            let g = grad ?? Tensor(shape: shape, dtype: dtype, backend: backend)
            write(GradientOutput(g, accumulate: false))
            grad = g
            hasGrad = true
        }
    }

    /// Like `accumulateGradient`, but a first contribution may hand over `gradient` itself (no copy)
    /// when nothing is bound yet: used by views, whose gradient is the output gradient re-labelled.
    func accumulateGradient(aliasing gradient: Tensor) {
        guard requiresGrad else { return }
        if !hasGrad && grad == nil && !gradient.isTransposed {
            grad = Tensor(storage: gradient.storage, offset: gradient.offset, shape: shape, dtype: dtype)
            hasGrad = true
            return
        }
        accumulateGradient { out in
            let src = Tensor(storage: gradient.storage, offset: gradient.offset, shape: shape, dtype: dtype)
            backend.copy(src, into: out.tensor, accumulate: out.accumulate)
        }
    }
}
