import Foundation

/// The data side of a pre-training run: the tokenizer (trained on the corpus or loaded from a
/// tokenizer.json) and the packed token rows (of a separate validation corpus too, if given), all
/// cached on disk (`DatasetCache`).
public struct PretrainingData {
    public let tokenizer: Tokenizer
    public let dataset: PackedDataset
    /// Rows of `data.validation_corpus`, when the config names one (else validation rows are held
    /// out of `dataset`).
    public let validationDataset: PackedDataset?
    public let corpus: Corpus
    /// Where the tokenizer came from: "trained (cached)", a path, ...
    public let tokenizerSource: String

    public static func prepare(_ config: PretrainingConfig, progress: (String) -> Void) throws -> PretrainingData {
        let d = config.data
        let corpus = try Corpus(paths: d.corpus, textField: d.textField)
        progress("corpus: \(corpus.files.count) file(s), \(corpus.byteCount / 1024) KiB")
        let cache = DatasetCache(directory: d.cacheDir)
        let clock = ContinuousClock()

        let tokenizer: Tokenizer, source: String
        let vocabularySize = config.model.vocabularySize
        switch d.tokenizer {
        case .train:
            let recipe = config.model.recipe.tokenizer
            let trainedSize = d.tokenizerVocabularySize ?? vocabularySize
            let key = DatasetCache.key(corpus: corpus, [recipe.cacheKey, "\(trainedSize)"])
            let path = cache.entry(key) + "/tokenizer.json"
            if FileManager.default.fileExists(atPath: path) {
                tokenizer = try Tokenizer.load(path)
                source = "trained on the corpus (cached: \(path))"
            } else {
                progress("training a \(recipe.algorithm) tokenizer (vocabulary \(trainedSize)) …")
                let start = clock.now
                let (trained, words) = try recipe.train(on: corpus, vocabularySize: trainedSize)
                tokenizer = trained
                _ = try cache.prepareEntry(key)
                try tokenizer.save(path)
                source = "trained on the corpus (\(path))"
                progress(
                    "tokenizer: \(tokenizer.vocabularySize) pieces from \(words) distinct words in "
                        + formatWall(seconds(clock.now - start)))
            }
        case .file(let path):
            tokenizer = try Tokenizer.load(path)
            source = path
        }
        guard tokenizer.vocabularySize <= vocabularySize else {
            throw InputError(
                "the tokenizer has \(tokenizer.vocabularySize) pieces but model.vocabulary_size is \(vocabularySize)")
        }
        _ = try config.makeObjective(tokenizer: tokenizer)  // the tokenizer has what the objective needs

        var hash = FNV1a()
        hash.add(try tokenizer.jsonData())
        let tokenizerHash = hash.hex
        func pack(_ corpus: Corpus, _ what: String) throws -> PackedDataset {
            try PretrainingData.pack(
                corpus, what: what, tokenizer: tokenizer, tokenizerHash: tokenizerHash, tokenizerSource: source,
                config: config, cache: cache, progress: progress)
        }
        let dataset = try pack(corpus, "data")
        guard dataset.count >= 2 else {
            throw InputError(
                "the corpus gives only \(dataset.count) row(s) of \(config.rowLength) tokens; it is too small")
        }
        var validation: PackedDataset?
        if !d.validationCorpus.isEmpty {
            let corpus = try Corpus(paths: d.validationCorpus, textField: d.textField)
            progress("validation corpus: \(corpus.files.count) file(s), \(corpus.byteCount / 1024) KiB")
            validation = try pack(corpus, "validation data")
            guard validation!.count >= 1 else {
                throw InputError("data.validation_corpus gives no row of \(config.rowLength) tokens; it is too small")
            }
        }
        return PretrainingData(
            tokenizer: tokenizer, dataset: dataset, validationDataset: validation, corpus: corpus,
            tokenizerSource: source)
    }

    /// Tokenised, packed rows of `corpus` (cached by corpus, tokenizer, row length and grouping).
    static func pack(
        _ corpus: Corpus, what: String, tokenizer: Tokenizer, tokenizerHash: String, tokenizerSource: String,
        config: PretrainingConfig, cache: DatasetCache, progress: (String) -> Void
    ) throws -> PackedDataset {
        let rowLength = config.rowLength, groups = config.data.documentsPerGroup
        let key = DatasetCache.key(
            corpus: corpus,
            ["packed-v1", tokenizerHash, "\(rowLength)", "\(groups)"])
        if let cached = try cache.loadDataset(key) {
            progress("\(what): \(cached.count) rows of \(cached.sequenceLength) tokens (cached: \(cache.entry(key)))")
            return cached
        }
        progress("tokenising and packing \(what) into rows of \(rowLength) tokens …")
        let clock = ContinuousClock()
        let start = clock.now
        var lastReport = clock.now
        let dataset = try PackedDataset.build(
            corpus: corpus, tokenizer: tokenizer, sequenceLength: rowLength,
            documentsPerGroup: groups
        ) { docs, rows in
            if clock.now - lastReport > .seconds(5) {
                progress("  \(docs) documents, \(rows) rows")
                lastReport = clock.now
            }
        }
        if dataset.count > 0 {
            try cache.storeDataset(dataset, key: key, description: "\(corpus.files.map(\.path)) / \(tokenizerSource)")
        }
        progress(
            "\(what): \(dataset.count) rows of \(rowLength) tokens in \(formatWall(seconds(clock.now - start))) "
                + "(cached: \(cache.entry(key)))"
        )
        return dataset
    }
}
