/// How a tokenizer is learned from a corpus: words counted document by document (in parallel, then
/// merged), then a trainer over the counts. A model kind's recipe names the one it uses; `ntng
/// tokenize --train --kind <name>` offers them all.
public struct TokenizerRecipe: Sendable {
    /// The name `ntng tokenize --kind` takes.
    public let name: String
    /// What it trains, for progress lines ("WordPiece").
    public let algorithm: String
    /// Part of the cache key of a trained tokenizer (a new version invalidates old caches).
    public let cacheKey: String
    public let countWords: @Sendable ([String]) -> [String: Int]
    public let train: @Sendable (_ wordCounts: [String: Int], _ vocabularySize: Int) throws -> Tokenizer

    /// cramming's WordPiece: BERT-style normalisation, `$A <sep>` template (crammed BERT).
    public static let crammingWordPiece = TokenizerRecipe(
        name: "wordpiece", algorithm: "WordPiece", cacheKey: "cramming-wordpiece-v1",
        countWords: { Tokenizer.crammingWordCounts($0) },
        train: { try Tokenizer.trainCramming(wordCounts: $0, vocabularySize: $1) })

    /// A SentencePiece-style Unigram with T5's layout: `<pad>`, `</s>`, `<unk>` and 100 sentinels.
    /// (Cache v2: sums in key order, the same tokenizer in every process; v1 entries could differ.)
    public static let t5Unigram = TokenizerRecipe(
        name: "unigram", algorithm: "Unigram", cacheKey: "t5-unigram-v2",
        countWords: { Tokenizer.t5WordCounts($0) },
        train: { try Tokenizer.trainT5(wordCounts: $0, vocabularySize: $1) })

    public static let all = [crammingWordPiece, t5Unigram]

    /// Counts the words of every document of `corpus` and trains a tokenizer of `vocabularySize`.
    public func train(on corpus: Corpus, vocabularySize: Int) throws -> (tokenizer: Tokenizer, words: Int) {
        var counts: [String: Int] = [:]
        try corpus.forEachFile { _, documents in WordCounter.merge(countWords(documents), into: &counts) }
        return (try train(counts, vocabularySize), counts.count)
    }
}
