import Foundation

/// On-disk cache of tokenised, packed corpora (and of tokenizers trained on them), so a second
/// run with the same corpus, tokenizer and packing skips tokenisation. Entries live in
/// `<cache>/<key>/`, the key being a 64-bit FNV-1a hash of everything the result depends on:
/// the corpus files (path, size, modification time), the tokenizer (its tokenizer.json bytes),
/// the sequence length and the packing group size. Files are written atomically.
public struct DatasetCache: Sendable {
    public let directory: String

    public init(directory: String) { self.directory = directory }

    /// Key for a corpus plus extra parts.
    public static func key(corpus: Corpus, _ parts: [String]) -> String {
        var h = FNV1a()
        for f in corpus.files { h.add("\(f.path)|\(f.size)|\(f.modified)|\(f.format.rawValue)") }
        h.add(corpus.textField)
        for p in parts { h.add(p) }
        return h.hex
    }

    public func entry(_ key: String) -> String { directory + "/" + key }

    /// The packed dataset stored under `key`, if any.
    public func loadDataset(_ key: String) throws -> PackedDataset? {
        let meta = entry(key) + "/meta.json", rows = entry(key) + "/rows.bin"
        guard let metaData = FileManager.default.contents(atPath: meta),
            let info = try? JSONCoding.decoder().decode(Meta.self, from: metaData),
            let data = FileManager.default.contents(atPath: rows)
        else { return nil }
        let width = info.bytesPerToken
        guard width == 2 || width == 4, data.count == info.rows * info.sequenceLength * width else {
            throw InputError(rows, "cache entry is damaged (size does not match meta.json); delete \(entry(key))")
        }
        var tokens = [Int32](repeating: 0, count: data.count / width)
        data.withUnsafeBytes { raw in
            if width == 2 {
                let p = raw.bindMemory(to: UInt16.self)
                for i in tokens.indices { tokens[i] = Int32(UInt16(littleEndian: p[i])) }
            } else {
                let p = raw.bindMemory(to: Int32.self)
                for i in tokens.indices { tokens[i] = Int32(littleEndian: p[i]) }
            }
        }
        return PackedDataset(sequenceLength: info.sequenceLength, tokens: tokens)
    }

    /// The files an entry holds; an entry folder holding anything else is not written into.
    static let entryFiles: Set<String> = ["rows.bin", "meta.json", "tokenizer.json"]

    /// The folder of entry `key`, created if missing; refused if it holds files the cache did not
    /// write (the cache never writes over a user's files). The temporary files of its atomic writes
    /// (`.dat.nosync*`, Foundation's) are its own: another process filling the same entry at the same
    /// time (cells of `ntng compare` started together), or one killed while writing, leaves them.
    public func prepareEntry(_ key: String) throws -> String {
        let dir = entry(key)
        let fm = FileManager.default
        if let names = try? fm.contentsOfDirectory(atPath: dir),
            let foreign = names.first(where: {
                !DatasetCache.entryFiles.contains($0) && !$0.hasPrefix(".dat.nosync")
            })
        {
            throw InputError(
                dir, "holds '\(foreign)', which the data cache did not write; clear data.cache_dir or choose another")
        }
        try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Stores `dataset` under `key` (2 bytes per token when ids fit).
    public func storeDataset(_ dataset: PackedDataset, key: String, description: String) throws {
        let dir = try prepareEntry(key)
        let width = (dataset.tokens.max() ?? 0) < 65536 ? 2 : 4
        var data = Data(capacity: dataset.tokens.count * width)
        if width == 2 {
            for t in dataset.tokens { withUnsafeBytes(of: UInt16(t).littleEndian) { data.append(contentsOf: $0) } }
        } else {
            for t in dataset.tokens { withUnsafeBytes(of: t.littleEndian) { data.append(contentsOf: $0) } }
        }
        try data.write(to: URL(fileURLWithPath: dir + "/rows.bin"), options: .atomic)
        let meta = Meta(
            rows: dataset.count, sequenceLength: dataset.sequenceLength, bytesPerToken: width, description: description)
        try JSONCoding.encoder().encode(meta).write(to: URL(fileURLWithPath: dir + "/meta.json"), options: .atomic)
    }

    struct Meta: Codable {
        let rows: Int
        let sequenceLength: Int
        let bytesPerToken: Int
        let description: String
    }
}

/// 64-bit FNV-1a, for cache keys (not for security).
struct FNV1a {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ bytes: some Sequence<UInt8>) {
        for b in bytes {
            value ^= UInt64(b)
            value = value &* 0x0000_0100_0000_01b3
        }
        value ^= 0xff
        value = value &* 0x0000_0100_0000_01b3
    }

    mutating func add(_ s: String) { add(s.utf8) }

    var hex: String {
        let s = String(value, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}
