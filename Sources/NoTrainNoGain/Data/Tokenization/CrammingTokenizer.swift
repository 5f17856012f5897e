import Engine

/// cramming's WordPiece tokenizer (`bert/cramming/data/tokenizer_preparation.py`): its normaliser
/// sequence, the `Whitespace`
/// pre-tokenizer, special tokens `<pad> <s> </s> <unk> <cls> <sep> <mask>` with fixed ids 0–6
/// (the original inserted them through a set, so their ids varied between processes; the model
/// assumes `<pad>` = 0), and the templates `$A <sep>` and `<cls> $A <sep> $B <sep>`.
extension Tokenizer {
    public static let crammingSpecialTokens = ["<pad>", "<s>", "</s>", "<unk>", "<cls>", "<sep>", "<mask>"]

    /// Trains the vocabulary on `documents`.
    public static func trainCramming(documents: [String], vocabularySize: Int) throws -> Tokenizer {
        try trainCramming(wordCounts: crammingWordCounts(documents), vocabularySize: vocabularySize)
    }

    /// Word frequencies of `documents` after cramming's normaliser and pre-tokenizer.
    public static func crammingWordCounts(_ documents: [String]) -> [String: Int] {
        let normalizer = TextNormalizer.cramming, pre = PreTokenizer.whitespace
        return WordCounter.count(documents) { pre(normalizer($0)) }
    }

    /// Trains the vocabulary from word frequencies (see `crammingWordCounts`).
    public static func trainCramming(wordCounts counts: [String: Int], vocabularySize: Int) throws -> Tokenizer {
        guard vocabularySize > crammingSpecialTokens.count else {
            throw InputError(
                "tokenizer",
                "vocabulary size must exceed the \(crammingSpecialTokens.count) special tokens (got \(vocabularySize))")
        }
        let normalizer = TextNormalizer.cramming, pre = PreTokenizer.whitespace
        let vocabulary = WordPieceTrainer(vocabularySize: vocabularySize, specialTokens: crammingSpecialTokens)
            .train(wordCounts: counts)
        let model = try WordPiece(vocabulary: vocabulary, unknownToken: "<unk>")
        let sep = model.ids["<sep>"]!, cls = model.ids["<cls>"]!
        let post = TemplateProcessor(
            single: [.sequence("A", typeID: 0), .special("<sep>", typeID: 0)],
            pair: [
                .special("<cls>", typeID: 0), .sequence("A", typeID: 0), .special("<sep>", typeID: 0),
                .sequence("B", typeID: 0), .special("<sep>", typeID: 0),
            ],
            specialTokens: ["<sep>": [sep], "<cls>": [cls]])
        let added = crammingSpecialTokens.map { AddedToken(id: model.ids[$0]!, content: $0) }
        return Tokenizer(
            normalizer: normalizer, preTokenizer: pre, model: .wordPiece(model), postProcessor: post, addedTokens: added
        )
    }
}

/// Word frequencies of a corpus, counted in parallel.
public enum WordCounter {
    /// Adds `part` into `total`.
    public static func merge(_ part: [String: Int], into total: inout [String: Int]) {
        for (w, n) in part { total[w, default: 0] += n }
    }

    static func count(_ documents: [String], words: @escaping (String) -> [Substring]) -> [String: Int] {
        let partial = Parallel.mapRanges(documents.count, grain: 16) { range -> [String: Int] in
            var counts: [String: Int] = [:]
            for i in range { for w in words(documents[i]) { counts[String(w), default: 0] += 1 } }
            return counts
        }
        return partial.dropFirst().reduce(into: partial.first ?? [:]) { merge($1, into: &$0) }
    }
}
