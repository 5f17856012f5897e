/// Element type of a tensor's storage.
///
/// The CPU kernels compute in `float32`; `int32` carries token ids, labels and gather indices.
/// `bfloat16` is reserved for storage on accelerators (mixed precision with float32 master weights);
/// CPU kernels reject it with a precondition so that a mix-up fails loudly.
public enum DType: String, Sendable, Codable, CaseIterable {
    case float32
    case bfloat16
    case int32

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .float32, .int32: return 4
        case .bfloat16: return 2
        }
    }

    /// The dtype name used by safetensors headers.
    public var safetensorsName: String {
        switch self {
        case .float32: return "F32"
        case .bfloat16: return "BF16"
        case .int32: return "I32"
        }
    }
}
