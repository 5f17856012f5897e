import Foundation

/// Token rows for pre-training (cramming's `data/pretraining_preparation.py`, nanoT5's
/// `tokenize_function` in `t5/t5/utils/copied.py`): each document is tokenised with the tokenizer's
/// single-sequence template, as both original codes' Hugging Face tokenizers add it (BERT:
/// `$A <sep>`; T5: `$A </s>`, so every document ends with `</s>`); documents are concatenated within
/// groups of `documentsPerGroup` (cramming's map batches of 256, nanoT5's 1000) and cut into rows of
/// `sequenceLength` tokens; each group's remainder is dropped.
public struct PackedDataset: Sendable {
    public let sequenceLength: Int
    /// Row-major token ids, `count × sequenceLength`.
    public let tokens: [Int32]
    public var count: Int { tokens.count / sequenceLength }

    public init(sequenceLength: Int, tokens: [Int32]) {
        precondition(sequenceLength > 0 && tokens.count % sequenceLength == 0)
        self.sequenceLength = sequenceLength
        self.tokens = tokens
    }

    public func row(_ i: Int) -> ArraySlice<Int32> { tokens[(i * sequenceLength)..<((i + 1) * sequenceLength)] }

    /// Concatenated rows `indices`.
    public func rows(_ indices: [Int]) -> [Int32] {
        var out: [Int32] = []
        out.reserveCapacity(indices.count * sequenceLength)
        for i in indices { out += row(i) }
        return out
    }

    /// Tokenises and packs `corpus`, reporting progress as (documents done, rows so far).
    public static func build(
        corpus: Corpus, tokenizer: Tokenizer, sequenceLength: Int, documentsPerGroup: Int = 256,
        progress: (Int, Int) -> Void = { _, _ in }
    ) throws -> PackedDataset {
        var tokens: [Int32] = []
        var documentsDone = 0
        try corpus.forEachFile { _, documents in
            var start = 0
            while start < documents.count {
                let group = Array(documents[start..<min(start + documentsPerGroup, documents.count)])
                var stream: [Int32] = []
                for ids in tokenizer.encodeAll(group) {
                    stream += tokenizer.postProcessor.map { $0.apply(ids) } ?? ids
                }
                let whole = stream.count / sequenceLength * sequenceLength
                tokens += stream[0..<whole]
                start += documentsPerGroup
                documentsDone += group.count
                progress(documentsDone, tokens.count / sequenceLength)
            }
        }
        return PackedDataset(sequenceLength: sequenceLength, tokens: tokens)
    }
}
