import Engine

/// T5's SentencePiece-style tokenizer (the T5 v1.1 tokenizer nanoT5 loads): NFKC and collapsed
/// spaces, Metaspace words, a
/// Unigram model, `<pad>` = 0, `</s>` = 1, `<unk>` = 2, the single template `$A </s>`, and 100
/// sentinels `<extra_id_0>` … `<extra_id_99>` at the top of the vocabulary, counting down:
/// `<extra_id_0>` is the last id.
extension Tokenizer {
    public static let t5SpecialTokens = ["<pad>", "</s>", "<unk>"]

    /// Word frequencies after T5's normaliser and Metaspace splitting.
    public static func t5WordCounts(_ documents: [String]) -> [String: Int] {
        let normalizer = t5Normalizer,
            pre = PreTokenizer.metaspace(replacement: PreTokenizer.spaceMark, prependScheme: "always", split: true)
        return WordCounter.count(documents) { pre(normalizer($0)) }
    }

    static let t5Normalizer = TextNormalizer.sequence([.nfkc, .replace(pattern: .regex(" {2,}"), content: " ")])

    /// Trains the Unigram vocabulary (`vocabularySize` includes the 3 special tokens and the sentinels).
    public static func trainT5(wordCounts: [String: Int], vocabularySize: Int, sentinels: Int = 100) throws -> Tokenizer
    {
        guard vocabularySize > t5SpecialTokens.count + sentinels + 1 else {
            throw InputError(
                "tokenizer",
                "vocabulary size must exceed the \(t5SpecialTokens.count) special tokens and \(sentinels) sentinels")
        }
        let pieces = UnigramTrainer(vocabularySize: vocabularySize - sentinels, specialTokens: t5SpecialTokens).train(
            wordCounts: wordCounts)
        var vocabulary: [(String, Double)] = t5SpecialTokens.map { ($0, 0) } + pieces
        let base = vocabulary.count
        vocabulary += (0..<sentinels).reversed().map { ("<extra_id_\($0)>", 0) }
        let model = try Unigram(vocabulary: vocabulary, unknownID: 2)
        let post = TemplateProcessor(
            single: [.sequence("A", typeID: 0), .special("</s>", typeID: 0)],
            pair: [
                .sequence("A", typeID: 0), .special("</s>", typeID: 0), .sequence("B", typeID: 1),
                .special("</s>", typeID: 1),
            ],
            specialTokens: ["</s>": [1]])
        let added =
            t5SpecialTokens.enumerated().map { AddedToken(id: Int32($0.offset), content: $0.element) }
            + (0..<sentinels).map { AddedToken(id: Int32(base + sentinels - 1 - $0), content: "<extra_id_\($0)>") }
        return Tokenizer(
            normalizer: t5Normalizer,
            preTokenizer: .metaspace(replacement: PreTokenizer.spaceMark, prependScheme: "always", split: true),
            model: .unigram(model), postProcessor: post, addedTokens: added.sorted { $0.id < $1.id })
    }

    /// The id of sentinel k (`<extra_id_k>`), counting down from the top of the vocabulary.
    public func sentinelID(_ k: Int) -> Int32? { model.ids["<extra_id_\(k)>"] }
}
