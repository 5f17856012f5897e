import Foundation
import NoTrainNoGain
import Testing

/// Reads TensorBoard event files back: checks each record's framing and both masked CRC-32Cs, and
/// decodes the `Event` fields ntng writes (an independent decoder of the wire format).
struct EventFileReader {
    struct Event: Equatable {
        var wallTime: Double
        var step: Int64
        var fileVersion: String?
        var scalars: [String: Float]
        var texts: [String: String]
    }

    /// Each field of a message: number, wire type and payload (the value's bytes, or the varint).
    static func fields(_ b: ArraySlice<UInt8>) throws -> [(field: Int, wire: Int, payload: ArraySlice<UInt8>)] {
        var i = b.startIndex, out: [(Int, Int, ArraySlice<UInt8>)] = []
        func varint() throws -> UInt64 {
            var v: UInt64 = 0, shift: UInt64 = 0
            while true {
                guard i < b.endIndex, shift < 64 else { throw InputError("truncated varint") }
                let byte = b[i]
                i += 1
                v |= UInt64(byte & 0x7F) << shift
                if byte < 0x80 { return v }
                shift += 7
            }
        }
        while i < b.endIndex {
            let key = try varint(), wire = Int(key & 7), start: Int
            switch wire {
            case 0:
                start = i
                _ = try varint()
            case 1, 5:
                start = i
                i += wire == 1 ? 8 : 4
            case 2:
                let n = Int(try varint())
                start = i
                i += n
            default: throw InputError("wire type \(wire)")
            }
            guard i <= b.endIndex else { throw InputError("field runs past its message") }
            out.append((Int(key >> 3), wire, b[start..<i]))
        }
        return out
    }

    static func varint(_ p: ArraySlice<UInt8>) -> UInt64 {
        p.enumerated().reduce(0) { $0 | UInt64($1.element & 0x7F) << (7 * UInt64($1.offset)) }
    }

    static func little<T: FixedWidthInteger>(_ p: ArraySlice<UInt8>, as: T.Type) -> T {
        p.reversed().reduce(T(0)) { $0 << 8 | T($1) }
    }

    /// The records of a file, each checked: length and data CRCs, and nothing left over.
    static func records(_ bytes: [UInt8]) throws -> [ArraySlice<UInt8>] {
        var i = 0, out: [ArraySlice<UInt8>] = []
        while i < bytes.count {
            guard i + 12 <= bytes.count else { throw InputError("record header cut short at byte \(i)") }
            let lengthBytes = bytes[i..<i + 8]
            guard little(bytes[i + 8..<i + 12], as: UInt32.self) == TFRecord.masked(TFRecord.crc32c(lengthBytes))
            else { throw InputError("length CRC mismatch at byte \(i)") }
            let n = Int(little(lengthBytes, as: UInt64.self)), start = i + 12
            guard start + n + 4 <= bytes.count else { throw InputError("record cut short at byte \(i)") }
            let data = bytes[start..<start + n]
            guard little(bytes[start + n..<start + n + 4], as: UInt32.self) == TFRecord.masked(TFRecord.crc32c(data))
            else { throw InputError("data CRC mismatch at byte \(i)") }
            out.append(data)
            i = start + n + 4
        }
        return out
    }

    static func event(_ data: ArraySlice<UInt8>) throws -> Event {
        var e = Event(wallTime: 0, step: 0, scalars: [:], texts: [:])
        for f in try fields(data) {
            switch f.field {
            case 1: e.wallTime = Double(bitPattern: little(f.payload, as: UInt64.self))
            case 2: e.step = Int64(bitPattern: varint(f.payload))
            case 3: e.fileVersion = String(decoding: f.payload, as: UTF8.self)
            case 5:
                for value in try fields(f.payload) where value.field == 1 {
                    let parts = try fields(value.payload)
                    let tag = parts.first { $0.field == 1 }.map { String(decoding: $0.payload, as: UTF8.self) } ?? ""
                    if let simple = parts.first(where: { $0.field == 2 }) {
                        e.scalars[tag] = Float(bitPattern: little(simple.payload, as: UInt32.self))
                    }
                    if let tensor = parts.first(where: { $0.field == 8 }) {
                        let strings = try fields(tensor.payload).filter { $0.field == 8 }
                        e.texts[tag] = strings.map { String(decoding: $0.payload, as: UTF8.self) }.joined()
                    }
                }
            default: break
            }
        }
        return e
    }

    /// The events of every `tfevents` file in a folder, in file order.
    static func events(folder: String) throws -> [Event] {
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.contains("tfevents") }
        return try files.sorted().flatMap { name in
            try records(Array(try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name)))).map(event)
        }
    }
}

@Suite("TensorBoard event files", .serialized)
struct TensorBoardTests {
    @Test func framingAndEncodingMatchTheFormat() throws {
        // CRC-32C's check value, and a scalar event as TensorBoard 2.21's readers accepted it.
        #expect(TFRecord.crc32c(Array("123456789".utf8)) == 0xE306_9283)
        var value = ProtoMessage(), summary = ProtoMessage(), event = ProtoMessage()
        value.string(1, "train/loss")
        value.float(2, 2.5)
        summary.message(1, value)
        event.double(1, 1.5)
        event.int64(2, 10)
        event.message(5, summary)
        let hex = event.bytes.map { String(format: "%02x", $0) }.joined()
        #expect(hex == "09000000000000f83f100a2a130a110a0a747261696e2f6c6f73731500002040")
        // TFRecord framing of an empty record: the length 0 and the CRCs of 8 zero bytes and of nothing.
        let empty = TFRecord.frame([])
        #expect(empty.count == 16 && Array(empty[0..<8]) == [UInt8](repeating: 0, count: 8))
        #expect(try EventFileReader.records(empty) == [[]])
        // Negative int64 values take ten bytes (two's complement), as protobuf specifies.
        var negative = ProtoMessage()
        negative.int64(2, -1)
        #expect(negative.bytes == [0x10] + [UInt8](repeating: 0xFF, count: 9) + [0x01])
        // A flipped bit anywhere is caught.
        var broken = TFRecord.frame(event.bytes)
        broken[20] ^= 4
        #expect(throws: InputError.self) { try EventFileReader.records(broken) }
    }

    /// Scalars at the optimiser step and at the RST step in milliseconds, equal to the log's figures;
    /// the config as text; ledger and plug-in fields where the run has them.
    @Test func aRunWritesItsLogAsTensorBoardScalarsOnBothAxes() throws {
        let tiny = try TinyRun(extra: "optimizer: {name: sophia, hessian_interval: 2}")
        let run = try PretrainingRun(config: try tiny.config())
        try run.train()
        let entries = try MetricsLog.entries(run.directory + "/metrics.jsonl")
        let events = try EventFileReader.events(folder: run.directory + "/tb")
        #expect(events.first?.fileVersion == "brain.Event:2")
        let config = try #require(events.first { !$0.texts.isEmpty }?.texts["config"])
        #expect(config.contains("| optimizer | sophia |") && config.contains("\"hessian_interval\" : 2"))
        let scalarEvents = events.filter { !$0.scalars.isEmpty }
        var expected: [(step: Int64, rstStep: Int64, time: Double, scalars: [String: Float])] = []
        for entry in entries {
            let values = TensorBoardLog.scalars(entry.event)
            guard !values.isEmpty else { continue }
            let rst = try #require(entry.event.rstSeconds)
            let time = try #require(entry.time)
            expected.append(
                (
                    Int64(entry.event.step), Int64((rst * 1000).rounded()), time,
                    Dictionary(uniqueKeysWithValues: values.map { ($0.tag, Float($0.value)) })
                ))
        }
        #expect(scalarEvents.count == 2 * expected.count)
        for (k, e) in expected.enumerated() {
            let byStep = scalarEvents[2 * k], byRST = scalarEvents[2 * k + 1]
            #expect(byStep.step == e.step && byStep.scalars == e.scalars && byStep.wallTime == e.time)
            #expect(byRST.step == e.rstStep)
            #expect(byRST.scalars == Dictionary(uniqueKeysWithValues: e.scalars.map { ("rst/" + $0.key, $0.value) }))
        }
        let train = try #require(scalarEvents.first { $0.scalars["train/loss"] != nil && $0.step == 2 })
        let line = try #require(entries.map(\.event).trainLines.first { $0.step == 2 })
        #expect(train.scalars["train/loss"] == Float(line.loss) && train.scalars["train/lr"] == Float(line.lr))
        #expect(train.scalars["ledger/hessian_rst_seconds"] == Float(line.ledger[.hessian].charged.seconds))
        #expect(train.scalars["ledger/hessian_rst_seconds"].map { $0 > 0 } == true)
        #expect(train.scalars["sophia/curvature_updates"] != nil)
        #expect(scalarEvents.contains { $0.scalars["validation/loss"] != nil && $0.step == 0 })
    }

    /// A resumed run's view holds each step once, with the uninterrupted run's figures (the checks
    /// for every method are in `TinyRun.expectResumeMatches`).
    @Test func aResumedRunRebuildsItsViewWithoutRepeatingSteps() throws {
        let tiny = try TinyRun()
        let straight = try PretrainingRun(config: try tiny.config())
        try straight.train()
        try tiny.expectResumeMatches(straight, overrides: [], directory: tiny.directory + "/resumed", stopAfter: 4)
        let files = try FileManager.default.contentsOfDirectory(atPath: tiny.directory + "/resumed/tb")
        #expect(files.filter { $0.contains("tfevents") }.count == 1)
    }
}

extension TinyRun {
    /// The run's TensorBoard scalars by (tag, step), without the wall-clock figure (tokens/s).
    func tensorBoardCurves(_ runDirectory: String) throws -> [String: Float] {
        var curves: [String: Float] = [:]
        for event in try EventFileReader.events(folder: runDirectory + "/tb") {
            for (tag, value) in event.scalars where !tag.hasSuffix("tokens_per_second") {
                let key = "\(tag)@\(event.step)"
                #expect(curves[key] == nil, "\(key) appears twice")
                curves[key] = value
            }
        }
        return curves
    }
}
