import Engine
import Foundation

/// The safetensors format: `u64 LE header length | JSON header | data`. The header maps tensor
/// names to `{"dtype", "shape", "data_offsets": [begin, end]}` (offsets relative to the data
/// section, end exclusive) plus an optional string→string `__metadata__`. Writing pads the header
/// with spaces to an 8-byte boundary, as the reference implementation does; reading checks every
/// rule the reference reader enforces (known dtype, sizes matching shapes, offsets covering the
/// data section exactly with no holes or overlaps).
public enum SafeTensors {
    public struct Entry {
        public let dtype: DType
        public let shape: [Int]
        public let data: Data
    }

    /// Writes `tensors` (float32 or int32) and `metadata` to `path` atomically.
    public static func write(_ tensors: [(String, Tensor)], metadata: [String: String] = [:], to path: String) throws {
        try encode(tensors, metadata: metadata).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// The safetensors file of `tensors` (float32 or int32) and `metadata`.
    public static func encode(_ tensors: [(String, Tensor)], metadata: [String: String] = [:]) throws -> Data {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        var blobs: [Data] = []
        for (name, tensor) in tensors {
            guard header[name] == nil else { throw InputError("checkpoint", "tensor name '\(name)' appears twice") }
            let bytes = tensor.elementCount * tensor.dtype.size
            var data = Data(count: bytes)
            data.withUnsafeMutableBytes { tensor.backend.read(tensor, into: $0) }
            blobs.append(data)
            header[name] = [
                "dtype": tensor.dtype.safetensorsName, "shape": tensor.shape, "data_offsets": [offset, offset + bytes],
            ]
            offset += bytes
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while (8 + json.count) % 8 != 0 { json.append(0x20) }
        var file = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(json)
        for b in blobs { file.append(b) }
        return file
    }

    /// Reads every tensor of a safetensors file.
    public static func read(_ path: String) throws -> (tensors: [String: Entry], metadata: [String: String]) {
        guard let file = FileManager.default.contents(atPath: path) else {
            throw InputError(path, "cannot read the file")
        }
        guard file.count >= 8 else { throw InputError(path, "too short for a safetensors header") }
        let length = file.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard length > 0, length <= 100_000_000, 8 + Int(length) <= file.count else {
            throw InputError(path, "header length \(length) is invalid for a file of \(file.count) bytes")
        }
        let n = Int(length)
        let headerData = file.subdata(in: 8..<(8 + n))
        guard let header = (try? JSONSerialization.jsonObject(with: headerData)) as? [String: Any] else {
            throw InputError(path, "header is not a JSON object")
        }
        let dataStart = 8 + n, dataCount = file.count - dataStart
        var metadata: [String: String] = [:]
        var tensors: [String: Entry] = [:]
        var spans: [(Int, Int, String)] = []
        for (name, value) in header {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else {
                    throw InputError(path, "__metadata__ must be an object")
                }
                for (k, v) in m {
                    guard let s = v as? String else {
                        throw InputError(path, "__metadata__['\(k)'] is not a string")
                    }
                    metadata[k] = s
                }
                continue
            }
            guard let info = value as? [String: Any], let dtypeName = info["dtype"] as? String,
                let shape = info["shape"] as? [Int], let offsets = info["data_offsets"] as? [Int], offsets.count == 2
            else {
                throw InputError(path, "tensor '\(name)' needs dtype, shape and data_offsets")
            }
            guard let dtype = DType.allCases.first(where: { $0.safetensorsName == dtypeName }) else {
                throw InputError(
                    path, "tensor '\(name)' has dtype \(dtypeName), which ntng does not read (F32, BF16, I32)")
            }
            let bytes = shape.reduce(dtype.size as Int?) { total, d in
                guard let total, d >= 0 else { return nil }
                let (product, overflow) = total.multipliedReportingOverflow(by: d)
                return overflow ? nil : product
            }
            guard let bytes, offsets[0] >= 0, offsets[1] >= offsets[0], offsets[1] <= dataCount,
                offsets[1] - offsets[0] == bytes
            else {
                throw InputError(
                    path, "tensor '\(name)': shape \(shape), dtype \(dtypeName) and offsets \(offsets) do not agree")
            }
            spans.append((offsets[0], offsets[1], name))
            tensors[name] = Entry(
                dtype: dtype, shape: shape,
                data: file.subdata(in: (dataStart + offsets[0])..<(dataStart + offsets[1])))
        }
        var position = 0
        for (begin, end, name) in spans.sorted(by: { ($0.0, $0.1) < ($1.0, $1.1) }) {
            guard begin == position else {
                throw InputError(
                    path,
                    begin > position ? "data has a hole before '\(name)'" : "data of '\(name)' overlaps another tensor")
            }
            position = end
        }
        guard position == dataCount else {
            throw InputError(path, "data section has \(dataCount - position) trailing bytes")
        }
        return (tensors, metadata)
    }

    /// Copies a stored entry into `tensor` (same dtype and shape).
    public static func assign(_ entry: Entry, to tensor: Tensor, name: String, path: String) throws {
        guard entry.dtype == tensor.dtype, entry.shape == tensor.shape else {
            throw InputError(
                path,
                "tensor '\(name)' is \(entry.dtype.safetensorsName) \(entry.shape), "
                    + "the model expects \(tensor.dtype.safetensorsName) \(tensor.shape)"
            )
        }
        entry.data.withUnsafeBytes { tensor.backend.write($0, into: tensor) }
    }
}
