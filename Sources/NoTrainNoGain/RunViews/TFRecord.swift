/// TFRecord framing, the container of TensorBoard's event files: each record is
/// `u64 length | u32 masked CRC-32C of the 8 length bytes | data | u32 masked CRC-32C of data`,
/// little-endian (TensorFlow's `core/lib/io/record_writer.cc`).
public enum TFRecord {
    /// CRC-32C (Castagnoli): reflected polynomial 0x82F63B78, initial value and final xor 0xFFFFFFFF.
    static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 == 1 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
        return c
    }

    public static func crc32c(_ bytes: some Sequence<UInt8>) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }

    /// TensorFlow's masking of a stored CRC: rotate right by 15 bits and add a constant.
    public static func masked(_ crc: UInt32) -> UInt32 { ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8 }

    /// One record: `data` with its length and checksums.
    public static func frame(_ data: [UInt8]) -> [UInt8] {
        let length = littleEndian(UInt64(data.count))
        return length + littleEndian(masked(crc32c(length))) + data + littleEndian(masked(crc32c(data)))
    }

    static func littleEndian<T: FixedWidthInteger>(_ v: T) -> [UInt8] {
        (0..<(T.bitWidth / 8)).map { UInt8(truncatingIfNeeded: v >> ($0 * 8)) }
    }
}

/// The protocol-buffer wire format, enough to write TensorBoard's `Event` and `Summary` messages:
/// fields are (number << 3 | wire type) keys followed by a varint, a fixed 64- or 32-bit value, or
/// a length-prefixed payload (protobuf's "Encoding" documentation).
public struct ProtoMessage: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    mutating func key(_ field: Int, _ wireType: UInt64) { varint(UInt64(field) << 3 | wireType) }

    mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    public mutating func int64(_ field: Int, _ v: Int64) {
        key(field, 0)
        varint(UInt64(bitPattern: v))
    }

    public mutating func double(_ field: Int, _ v: Double) {
        key(field, 1)
        bytes += TFRecord.littleEndian(v.bitPattern)
    }

    public mutating func float(_ field: Int, _ v: Float) {
        key(field, 5)
        bytes += TFRecord.littleEndian(v.bitPattern)
    }

    public mutating func data(_ field: Int, _ payload: [UInt8]) {
        key(field, 2)
        varint(UInt64(payload.count))
        bytes += payload
    }

    public mutating func string(_ field: Int, _ s: String) { data(field, Array(s.utf8)) }

    public mutating func message(_ field: Int, _ m: ProtoMessage) { data(field, m.bytes) }
}
