/// Element-wise kernels: binary ops with suffix broadcasting, scaling, leading-dimension sums,
/// activations, gated activations (GLU) and dropout.
///
/// Loops are plain scalar code over raw pointers that LLVM vectorises. A rule that keeps them
/// fast: the element expression must be written *inside* the closure given to `Parallel.ranges`
/// (via `store`), never passed in from outside, or every element becomes an indirect call.
extension CPUBackend {
    static let grain = 1 << 14

    /// out[i] = f(i) (or += f(i)) for i in `range`.
    @inline(__always)
    static func store(
        _ range: Range<Int>, _ out: UnsafeMutablePointer<Float>, accumulate: Bool,
        _ f: (Int) -> Float
    ) {
        if accumulate {
            for i in range { out[i] += f(i) }
        } else {
            for i in range { out[i] = f(i) }
        }
    }

    public func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, into out: GradientOutput) {
        profile.measure("elementwise") {
            let n = a.elementCount, nb = b.elementCount
            precondition(out.tensor.shape == a.shape, "binary: output shape \(out.tensor.shape) ≠ \(a.shape)")
            precondition(
                a.shape.count >= b.shape.count && Array(a.shape.suffix(b.shape.count)) == b.shape,
                "binary: \(b.shape) does not broadcast to \(a.shape)")
            let x = a.floats, y = b.floats, o = out.tensor.floats, acc = out.accumulate
            let g = CPUBackend.grain
            if nb == n {
                switch op {
                case .add:
                    Parallel.ranges(n, grain: g) { r in CPUBackend.store(r, o, accumulate: acc) { x[$0] + y[$0] } }
                case .subtract:
                    Parallel.ranges(n, grain: g) { r in CPUBackend.store(r, o, accumulate: acc) { x[$0] - y[$0] } }
                case .multiply:
                    Parallel.ranges(n, grain: g) { r in CPUBackend.store(r, o, accumulate: acc) { x[$0] * y[$0] } }
                }
            } else if nb == 1 {
                let c = y[0]
                switch op {
                case .add: Parallel.ranges(n, grain: g) { r in CPUBackend.store(r, o, accumulate: acc) { x[$0] + c } }
                case .subtract:
                    Parallel.ranges(n, grain: g) { r in CPUBackend.store(r, o, accumulate: acc) { x[$0] - c } }
                case .multiply:
                    Parallel.ranges(n, grain: g) { r in CPUBackend.store(r, o, accumulate: acc) { x[$0] * c } }
                }
            } else {
                // b repeats over a's leading dims: rows of length nb.
                Parallel.ranges(n / nb, grain: max(1, g / nb)) { rows in
                    for row in rows {
                        let xr = x + row * nb, orow = o + row * nb
                        switch op {
                        case .add: CPUBackend.store(0..<nb, orow, accumulate: acc) { xr[$0] + y[$0] }
                        case .subtract: CPUBackend.store(0..<nb, orow, accumulate: acc) { xr[$0] - y[$0] }
                        case .multiply: CPUBackend.store(0..<nb, orow, accumulate: acc) { xr[$0] * y[$0] }
                        }
                    }
                }
            }
        }
    }

    public func scale(_ x: Tensor, by alpha: Float, into out: GradientOutput) {
        profile.measure("elementwise") {
            precondition(out.tensor.elementCount == x.elementCount)
            let s = x.floats, o = out.tensor.floats, acc = out.accumulate
            Parallel.ranges(x.elementCount, grain: CPUBackend.grain) { r in
                CPUBackend.store(r, o, accumulate: acc) { alpha * s[$0] }
            }
        }
    }

    public func sumLeading(_ x: Tensor, into out: GradientOutput) {
        profile.measure("elementwise") {
            reduceLeading(x, nil, into: out)
        }
    }

    public func sumLeadingProduct(_ x: Tensor, _ y: Tensor, into out: GradientOutput) {
        profile.measure("elementwise") {
            precondition(x.shape == y.shape)
            reduceLeading(x, y, into: out)
        }
    }

    /// out[j] (+)= Σ_row x[row, j] (· y[row, j]); rows split over workers, partial sums combined.
    private func reduceLeading(_ x: Tensor, _ y: Tensor?, into out: GradientOutput) {
        let width = out.tensor.elementCount, rows = x.elementCount / max(width, 1)
        let chunks = Parallel.chunkCount(rows, grain: max(1, CPUBackend.grain / max(width, 1)))
        let partial = UnsafeMutablePointer<Float>.allocate(capacity: chunks * width)
        defer { partial.deallocate() }
        let a = x.floats, b = y?.floats
        Parallel.forEach(chunks) { c in
            let p = partial + c * width
            for j in 0..<width { p[j] = 0 }
            for row in Parallel.chunkRange(c, of: chunks, count: rows) {
                let ar = a + row * width
                if let b {
                    let br = b + row * width
                    for j in 0..<width { p[j] += ar[j] * br[j] }
                } else {
                    for j in 0..<width { p[j] += ar[j] }
                }
            }
        }
        combine(partial, offset: 0, stride: width, chunks: chunks, width: width, into: out)
    }

    public func activation(_ kind: Activation, _ x: Tensor, into y: Tensor) {
        profile.measure("activation") {
            let s = x.floats, o = y.floats, n = x.elementCount, g = CPUBackend.grain
            switch kind {
            case .relu:
                Parallel.ranges(n, grain: g) { r in CPUBackend.store(r, o, accumulate: false) { max(s[$0], 0) } }
            case .gelu:
                Parallel.ranges(n, grain: g) { r in CPUBackend.store(r, o, accumulate: false) { FastMath.gelu(s[$0]) } }
            case .geluTanh:
                Parallel.ranges(n, grain: g) { r in
                    CPUBackend.store(r, o, accumulate: false) { FastMath.geluTanh(s[$0]) }
                }
            case .tanh:
                Parallel.ranges(n, grain: g) { r in CPUBackend.store(r, o, accumulate: false) { FastMath.tanh(s[$0]) } }
            }
        }
    }

    public func activationBackward(_ kind: Activation, _ x: Tensor, _ dy: Tensor, into dx: GradientOutput) {
        profile.measure("activation") {
            let s = x.floats, d = dy.floats, o = dx.tensor.floats, acc = dx.accumulate
            let n = x.elementCount, g = CPUBackend.grain
            switch kind {
            case .relu:
                Parallel.ranges(n, grain: g) { r in CPUBackend.store(r, o, accumulate: acc) { s[$0] > 0 ? d[$0] : 0 } }
            case .gelu:
                Parallel.ranges(n, grain: g) { r in
                    CPUBackend.store(r, o, accumulate: acc) { d[$0] * FastMath.geluDerivative(s[$0]) }
                }
            case .geluTanh:
                Parallel.ranges(n, grain: g) { r in
                    CPUBackend.store(r, o, accumulate: acc) { d[$0] * FastMath.geluTanhDerivative(s[$0]) }
                }
            case .tanh:
                Parallel.ranges(n, grain: g) { r in
                    CPUBackend.store(r, o, accumulate: acc) { d[$0] * FastMath.derivative(.tanh, s[$0]) }
                }
            }
        }
    }

    public func gatedActivation(_ kind: Activation, gate: GateHalf, _ x: Tensor, into y: Tensor) {
        profile.measure("activation") {
            let h = y.shape.lastDimension, rows = y.elementCount / max(h, 1)
            precondition(
                x.shape.lastDimension == 2 * h && x.elementCount == 2 * y.elementCount, "GLU: input must be [..., 2h]")
            let s = x.floats, o = y.floats
            let gateOffset = gate == .first ? 0 : h, linearOffset = gate == .first ? h : 0
            Parallel.ranges(rows, grain: max(1, CPUBackend.grain / h)) { r in
                for row in r {
                    let gp = s + row * 2 * h + gateOffset, lp = s + row * 2 * h + linearOffset, out = o + row * h
                    switch kind {
                    case .relu: CPUBackend.store(0..<h, out, accumulate: false) { max(gp[$0], 0) * lp[$0] }
                    case .gelu: CPUBackend.store(0..<h, out, accumulate: false) { FastMath.gelu(gp[$0]) * lp[$0] }
                    case .geluTanh:
                        CPUBackend.store(0..<h, out, accumulate: false) { FastMath.geluTanh(gp[$0]) * lp[$0] }
                    case .tanh: CPUBackend.store(0..<h, out, accumulate: false) { FastMath.tanh(gp[$0]) * lp[$0] }
                    }
                }
            }
        }
    }

    /// y = act(g)·l  ⇒  ∂/∂g = dy·act'(g)·l,  ∂/∂l = dy·act(g).
    public func gatedActivationBackward(
        _ kind: Activation, gate: GateHalf, _ x: Tensor, _ dy: Tensor,
        into dx: GradientOutput
    ) {
        profile.measure("activation") {
            let h = dy.shape.lastDimension, rows = dy.elementCount / max(h, 1)
            let s = x.floats, d = dy.floats, o = dx.tensor.floats, acc = dx.accumulate
            let gateOffset = gate == .first ? 0 : h, linearOffset = gate == .first ? h : 0
            Parallel.ranges(rows, grain: max(1, CPUBackend.grain / h)) { r in
                for row in r {
                    let gp = s + row * 2 * h + gateOffset, lp = s + row * 2 * h + linearOffset, dyr = d + row * h
                    let dg = o + row * 2 * h + gateOffset, dl = o + row * 2 * h + linearOffset
                    switch kind {
                    case .relu: CPUBackend.glaBackwardRow(.relu, gp, lp, dyr, dg, dl, h, acc)
                    case .gelu: CPUBackend.glaBackwardRow(.gelu, gp, lp, dyr, dg, dl, h, acc)
                    case .geluTanh: CPUBackend.glaBackwardRow(.geluTanh, gp, lp, dyr, dg, dl, h, acc)
                    case .tanh: CPUBackend.glaBackwardRow(.tanh, gp, lp, dyr, dg, dl, h, acc)
                    }
                }
            }
        }
    }

    /// One row of the gated-activation backward, 16 lanes at a time (act and act' share one
    /// erf/exp); `kind` is a literal at each call site so the row is specialised.
    @inline(__always)
    static func glaBackwardRow(
        _ kind: Activation, _ g: UnsafeMutablePointer<Float>, _ l: UnsafeMutablePointer<Float>,
        _ dy: UnsafeMutablePointer<Float>, _ dg: UnsafeMutablePointer<Float>,
        _ dl: UnsafeMutablePointer<Float>, _ h: Int, _ accumulate: Bool
    ) {
        typealias V = VectorMath
        var j = 0
        while j + 16 <= h {
            let (a, da) = V.valueAndDerivative(kind, V.load(g + j))
            let d = V.load(dy + j)
            var gradGate = d * da * V.load(l + j), gradLinear = d * a
            if accumulate {
                gradGate += V.load(dg + j)
                gradLinear += V.load(dl + j)
            }
            V.store(gradGate, dg + j)
            V.store(gradLinear, dl + j)
            j += 16
        }
        while j < h {
            let (a, da) = FastMath.valueAndDerivative(kind, g[j])
            let gradGate = dy[j] * da * l[j], gradLinear = dy[j] * a
            dg[j] = accumulate ? dg[j] + gradGate : gradGate
            dl[j] = accumulate ? dl[j] + gradLinear : gradLinear
            j += 1
        }
    }

    public func dropout(_ x: Tensor, probability p: Float, seed: UInt64, into y: GradientOutput) {
        profile.measure("elementwise") {
            let s = x.floats, o = y.tensor.floats, acc = y.accumulate
            let threshold = CounterHash.dropThreshold(p), keepScale = p < 1 ? 1 / (1 - p) : 0
            Parallel.ranges(x.elementCount, grain: CPUBackend.grain) { r in
                CPUBackend.store(r, o, accumulate: acc) { i in
                    CounterHash.bits(seed: seed, counter: UInt64(i)) >= threshold ? s[i] * keepScale : 0
                }
            }
        }
    }
}
