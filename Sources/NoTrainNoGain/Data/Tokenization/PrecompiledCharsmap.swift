import Foundation

/// SentencePiece's precompiled normalisation rules, the `Precompiled` normaliser of the
/// tokenizer.json files Hugging Face converts from SentencePiece models (T5's `nmt_nfkc`): a
/// darts-clone double-array trie over UTF-8 byte strings whose values point into a pool of
/// NUL-terminated replacement strings. The blob (`precompiled_charsmap`, base64) is a little-endian
/// UInt32 trie size in bytes, the trie's UInt32 units, then the pool.
///
/// Normalising follows Hugging Face's reading of it (`spm_precompiled`) exactly, quirks included:
/// the text is walked by extended grapheme clusters; a cluster shorter than 6 UTF-8 bytes whose
/// bytes start with a key is replaced by that key's string (the shortest matching key, the first a
/// prefix search finds); otherwise each of its scalars is replaced the same way or kept.
public struct PrecompiledCharsmap: Equatable, Sendable {
    /// The blob as the file gave it (written back unchanged).
    public let base64: String
    let trie: [UInt32]
    let pool: [UInt8]
    /// ASCII byte → its replacement (nil: unchanged), for the all-ASCII fast path.
    let ascii: [[UInt8]?]

    public init(base64: String) throws {
        guard let blob = Data(base64Encoded: base64) else {
            throw InputError("tokenizer", "normalizer Precompiled: precompiled_charsmap is not valid base64")
        }
        let bytes = [UInt8](blob)
        guard bytes.count >= 4 else {
            throw InputError("tokenizer", "normalizer Precompiled: precompiled_charsmap is shorter than its header")
        }
        let trieBytes = Int(bytes[0]) | Int(bytes[1]) << 8 | Int(bytes[2]) << 16 | Int(bytes[3]) << 24
        guard trieBytes % 4 == 0, trieBytes >= 4, 4 + trieBytes <= bytes.count else {
            throw InputError(
                "tokenizer",
                "normalizer Precompiled: a trie of \(trieBytes) bytes does not fit the \(bytes.count)-byte charsmap")
        }
        trie = stride(from: 4, to: 4 + trieBytes, by: 4).map { i in
            UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24
        }
        pool = Array(bytes[(4 + trieBytes)...])
        guard String(validating: pool, as: UTF8.self) != nil else {
            throw InputError("tokenizer", "normalizer Precompiled: the replacement strings are not valid UTF-8")
        }
        self.base64 = base64
        var ascii: [[UInt8]?] = []
        for b in 0..<UInt8(128) { ascii.append(PrecompiledCharsmap.lookup(trie, pool, [b]).map(Array.init)) }
        self.ascii = ascii
    }

    public static func == (a: PrecompiledCharsmap, b: PrecompiledCharsmap) -> Bool { a.base64 == b.base64 }

    public func callAsFunction(_ text: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        if text.isASCII && !text.utf8.contains(13) {  // "\r\n" is one grapheme cluster
            for b in text.utf8 {
                if let r = ascii[Int(b)] { out += r } else { out.append(b) }
            }
            return String(decoding: out, as: UTF8.self)
        }
        for cluster in text {
            let bytes = Array(cluster.utf8)
            if bytes.count < 6, let r = transform(bytes) {
                out += r
                continue
            }
            for scalar in cluster.unicodeScalars {
                let scalarBytes = Array(scalar.utf8)
                if let r = transform(scalarBytes) { out += r } else { out += scalarBytes }
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The replacement for the shortest key that `key` starts with (nil: none).
    func transform(_ key: [UInt8]) -> ArraySlice<UInt8>? { PrecompiledCharsmap.lookup(trie, pool, key) }

    /// darts-clone's common-prefix search, stopped at its first result. Out-of-range positions (a
    /// damaged trie) end the search rather than trap.
    static func lookup(_ trie: [UInt32], _ pool: [UInt8], _ key: [UInt8]) -> ArraySlice<UInt8>? {
        func offset(_ unit: UInt32) -> Int { Int((unit >> 10) << ((unit & (1 << 9)) >> 6)) }
        var position = offset(trie[0])
        for c in key {
            if c == 0 { break }
            position ^= Int(c)
            guard position >= 0 && position < trie.count else { return nil }
            let unit = trie[position]
            guard unit & ((1 << 31) | 0xFF) == UInt32(c) else { return nil }
            position ^= offset(unit)
            if (unit >> 8) & 1 == 1 {
                guard position >= 0 && position < trie.count else { return nil }
                let start = Int(trie[position] & ((1 << 31) - 1))
                guard start < pool.count else { return nil }
                let end = pool[start...].firstIndex(of: 0) ?? pool.count
                return pool[start..<end]
            }
        }
        return nil
    }
}
