import Foundation
import Engine
@testable import NoTrainNoGain
import Testing

@Suite("Tokenizers (WordPiece, Unigram)")
struct TokenizerTests {
    struct Case: Decodable { let text: String; let ids: [Int32] }
    struct File: Decodable { let cases: [Case] }

    @Test(arguments: [
        ("hf-bert-wordpiece", "hf-bert-wordpiece-ids"), ("hf-cramming-wordpiece", "hf-cramming-wordpiece-ids"),
        ("hf-unigram-t5style", "hf-unigram-t5style-ids"), ("ntng-wordpiece", "ntng-wordpiece-hf-ids"),
        ("ntng-unigram", "ntng-unigram-hf-ids"), ("hf-t5-sentencepiece", "hf-t5-sentencepiece-ids"),
        ("hf-t5-sentencepiece-rules", "hf-t5-sentencepiece-rules-ids"),
    ])
    func loadedTokenizerGivesHuggingFaceIds(name: String, ids: String) throws {
        let tokenizer = try Tokenizer.load(Fixtures.path("\(name).json"))
        let cases = try Fixtures.json("\(ids).json", as: File.self).cases
        #expect(cases.count >= 10)
        for c in cases {
            #expect(tokenizer.encode(c.text) == c.ids, "text: \(c.text.prefix(60))")
        }
    }

    /// The ntng-*.json fixtures are what our trainers write for tokenizer-corpus.txt (and Hugging Face
    /// gives the same ids with them, above): training again must write them byte for byte, so the
    /// HF check covers the trainers as they are (`scripts/make_tokenizer_fixtures.py --ntng`).
    @Test(arguments: [("wordpiece", TokenizerRecipe.crammingWordPiece), ("unigram", TokenizerRecipe.t5Unigram)])
    func ourTrainersStillWriteTheTokenizersHuggingFaceReads(kind: String, recipe: TokenizerRecipe) throws {
        let corpus = try Corpus(paths: [Fixtures.path("tokenizer-corpus.txt")])
        let trained = try recipe.train(on: corpus, vocabularySize: 600).tokenizer
        let path = Fixtures.temporaryDirectory() + "/\(kind).json"
        try trained.save(path)
        #expect(
            FileManager.default.contents(atPath: path)
                == FileManager.default.contents(
                    atPath: Fixtures.path("ntng-\(kind).json")))
    }

    @Test func unigramViterbiPicksTheBestSegmentationOnAHandMadeVocabulary() throws {
        // "▁ab": ▁a + b scores −1 − 1 = −2; ▁ + ab scores −3 − 0.5 = −3.5; ▁ab would be −2.5 but is absent.
        let m = try Unigram(
            vocabulary: [("<unk>", 0), ("▁", -3), ("▁a", -1), ("b", -1), ("ab", -0.5), ("a", -2), ("c", -4)],
            unknownID: 0)
        var out: [Int32] = []
        m.encode(word: "▁ab", into: &out)
        #expect(out == [2, 3])
        // "▁abab": ▁a b ab = −2.5 beats ▁a b a b = −5.
        out = []; m.encode(word: "▁abab", into: &out)
        #expect(out == [2, 3, 4])
        // Unknown characters become <unk>, consecutive ones fused: "▁xyc" → ▁ <unk> c.
        out = []; m.encode(word: "▁xyc", into: &out)
        #expect(out == [1, 0, 6])
    }

    @Test func crammingNormalizerFollowsTheSpec() {
        let n = TextNormalizer.cramming
        #expect(n("``Hi''  THERE   Café 東京") == "\"hi\" there cafe ")
        #expect(n("plain ascii") == "plain ascii")
    }

    @Test func whitespacePreTokenizerSplitsWordsAndPunctuationRuns() {
        #expect(
            PreTokenizer.whitespace("hello, world!! a_b 3.5").map(String.init) == [
                "hello", ",", "world", "!!", "a_b", "3", ".", "5",
            ])
        #expect(PreTokenizer.bert("a,b!!c").map(String.init) == ["a", ",", "b", "!", "!", "c"])
    }

    @Test func trainedTokenizerRoundTripsThroughTokenizerJSON() throws {
        let docs = ["the cat sat on the mat", "the dog sat on the log", "cats and dogs", "a mat and a log"]
        let tokenizer = try Tokenizer.trainCramming(documents: docs, vocabularySize: 60)
        #expect(tokenizer.vocabularySize <= 60)
        #expect(tokenizer.padID == 0 && tokenizer.maskID == 6 && tokenizer.sepID == 5)
        let ids = tokenizer.encode("the cat sat")
        #expect(ids.last == tokenizer.sepID)
        #expect(tokenizer.decode(ids) == "the cat sat")
        let dir = Fixtures.temporaryDirectory()
        let path = dir + "/tokenizer.json"
        try tokenizer.save(path)
        let reloaded = try Tokenizer.load(path)
        for text in docs + ["unseen words zebra"] {
            #expect(reloaded.encode(text) == tokenizer.encode(text))
        }
        #expect(reloaded.model.vocabulary == tokenizer.model.vocabulary)
    }

    @Test func trainerMergesTheMostFrequentPairFirst() {
        // "ab" occurs 10 times, "cd" 3 times: the first merge is a + ##b.
        let trainer = WordPieceTrainer(vocabularySize: 100, specialTokens: ["<unk>"])
        let vocab = trainer.train(wordCounts: ["ab": 10, "cd": 3])
        // specials, the alphabet by code point, continuation symbols as words are read, then merges
        // by frequency ("ab": 10 before "cd": 3).
        #expect(vocab == ["<unk>", "a", "b", "c", "d", "##b", "##d", "ab", "cd"])
        // The vocabulary size caps the merges.
        #expect(
            WordPieceTrainer(vocabularySize: 8, specialTokens: ["<unk>"]).train(wordCounts: ["ab": 10, "cd": 3]).last
                == "ab")
    }

    @Test func malformedFilesGiveOneLineErrorsNamingTheFile() throws {
        let dir = Fixtures.temporaryDirectory()
        let missing = dir + "/missing.json"
        #expect(throws: InputError(missing, "cannot read the file (missing or unreadable)")) {
            try Tokenizer.load(missing)
        }
        let bad = dir + "/bad.json"
        try "{ not json".write(toFile: bad, atomically: true, encoding: .utf8)
        #expect { try Tokenizer.load(bad) } throws: { "\($0)".hasPrefix(bad + ": malformed JSON") }
        let bpe = dir + "/bpe.json"
        try #"{"version":"1.0","model":{"type":"BPE","vocab":{}}}"#.write(
            toFile: bpe, atomically: true, encoding: .utf8)
        #expect { try Tokenizer.load(bpe) } throws: {
            "\($0)" == bpe + ": model type 'BPE' is not supported (WordPiece or Unigram)"
        }
        let unigram = dir + "/unigram.json"
        try #"{"version":"1.0","model":{"type":"Unigram","vocab":[["a", 0.0]],"unk_id":5}}"#.write(
            toFile: unigram, atomically: true, encoding: .utf8)
        #expect { try Tokenizer.load(unigram) } throws: {
            "\($0)" == unigram + ": unk_id 5 is outside the vocabulary of 1"
        }
        let noUnk = dir + "/nounk.json"
        try
            (###"{"version":"1.0","model":{"type":"WordPiece","vocab":{"a":0},"unk_token":"[UNK]","###
            + ###""continuing_subword_prefix":"##","max_input_chars_per_word":100}}"###)
            .write(toFile: noUnk, atomically: true, encoding: .utf8)
        #expect { try Tokenizer.load(noUnk) } throws: {
            "\($0)".contains("unknown token '[UNK]' is not in the vocabulary")
        }
    }

    /// A T5 tokenizer.json as Hugging Face converts a SentencePiece model (the `Precompiled`
    /// normaliser of `nmt_nfkc`): its ids are HF's (above), it writes back what it read, and it
    /// serves span corruption (its sentinels count down from the top, `</s>` ends every text).
    @Test func aSentencePieceConvertedT5TokenizerServesT5() throws {
        let path = Fixtures.path("hf-t5-sentencepiece.json")
        let tokenizer = try Tokenizer.load(path)
        #expect(tokenizer.vocabularySize == 900 && tokenizer.padID == 0 && tokenizer.eosID == 1)
        #expect(tokenizer.sentinelID(0) == 899 && tokenizer.sentinelID(99) == 800)
        // NFKC by the compiled table: full-width letters and ligatures are the plain ones.
        #expect(tokenizer.encode("ＦＵＬＬ ﬁne") == tokenizer.encode("FULL fine"))
        let copy = Fixtures.temporaryDirectory() + "/t5.json"
        try tokenizer.save(copy)
        let reloaded = try Tokenizer.load(copy)
        for text in ["ＦＵＬＬ－ｗｉｄｔｈ ｔｅｘｔ", "tab\there  two  spaces ", "é ﬁ ①"] {
            #expect(reloaded.encode(text) == tokenizer.encode(text))
        }
        let config = try PretrainingConfig.parse(
            yaml: "model: {kind: t5, vocabulary_size: 928}\ndata: {corpus: c.txt, tokenizer: \(path)}\n"
                + "training: {budget: 1h}", source: "t5.yaml", baseDirectory: "/")
        _ = try config.makeObjective(tokenizer: tokenizer)
    }

    @Test func aDamagedPrecompiledCharsmapIsRefusedOrHarmlessNeverATrap() throws {
        func error(_ base64: String) -> String {
            do { _ = try PrecompiledCharsmap(base64: base64); return "no error" } catch { return "\(error)" }
        }
        #expect(error("not base64!") == "tokenizer: normalizer Precompiled: precompiled_charsmap is not valid base64")
        #expect(error(Data([1, 0]).base64EncodedString()).contains("shorter than its header"))
        #expect(error(Data([64, 0, 0, 0, 1, 2, 3, 4]).base64EncodedString()).contains("does not fit"))
        #expect(error(Data([4, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFE]).base64EncodedString()).contains("not valid UTF-8"))
        // Random tries: every lookup ends without trapping, whatever the units say.
        var g = SeededGenerator(seed: 3)
        for _ in 0..<200 {
            let units = 1 + g.int(below: 40)
            var bytes: [UInt8] = [UInt8(units * 4), 0, 0, 0]
            for _ in 0..<(units * 4) { bytes.append(UInt8(g.int(below: 256))) }
            bytes += Array("ab\0c\0".utf8)
            let charsmap = try PrecompiledCharsmap(base64: Data(bytes).base64EncodedString())
            _ = charsmap("Ünïcödé ＦＵＬＬ ascii \r\n 👨‍👩‍👧")
        }
    }
}

@Suite("Unigram training (T5 tokenizer)")
struct UnigramTrainingTests {
    func corpus() throws -> [String] {
        let text = try String(contentsOfFile: Fixtures.demoCorpus + "/text/AA/wiki_00", encoding: .utf8)
        return Array(text.split(separator: "\n").filter { !$0.hasPrefix("<") }.prefix(120).map(String.init))
    }

    @Test func unigramSumsDoNotDependOnADictionarysOrder() {
        // The same entries in dictionaries of different capacities iterate in different orders; a
        // sum in iteration order would round differently (1e16 + 1 − 1e16 …), and the trained
        // vocabulary with it — from one process to the next, as hashing is seeded per process.
        let values = (0..<64).map { i -> (String, Double) in ("p\(i)", i % 3 == 0 ? 1e16 : (i % 3 == 1 ? 1 : -1e16)) }
        var small: [String: Double] = [:], large: [String: Double] = [:]
        large.reserveCapacity(1 << 12)
        for (k, v) in values { small[k] = v }
        for (k, v) in values.reversed() { large[k] = v }
        #expect(Array(small.keys) != Array(large.keys))
        #expect(UnigramTrainer.sum(small) == UnigramTrainer.sum(large))
    }

    @Test func trainedT5TokenizerHasTheLayoutAndRoundTrips() throws {
        let docs = try corpus()
        let tokenizer = try Tokenizer.trainT5(wordCounts: Tokenizer.t5WordCounts(docs), vocabularySize: 600)
        #expect(tokenizer.vocabularySize <= 600 && tokenizer.vocabularySize > 400)
        #expect(tokenizer.padID == 0 && tokenizer.eosID == 1 && tokenizer.model.ids["<unk>"] == 2)
        // Sentinels count down from the top: <extra_id_0> is the last id.
        #expect(tokenizer.sentinelID(0) == Int32(tokenizer.vocabularySize - 1))
        #expect(tokenizer.sentinelID(99) == Int32(tokenizer.vocabularySize - 100))
        // Training text needs no <unk>, and decoding gives the (normalised) text back.
        for doc in docs.prefix(30) {
            let ids = tokenizer.encode(doc)
            #expect(ids.last == 1 && !ids.contains(2))
            #expect(
                tokenizer.decode(ids)
                    == doc.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
                    .precomposedStringWithCompatibilityMapping)
        }
        // Frequent words become single pieces.
        #expect(tokenizer.encode("the", addSpecialTokens: false).count == 1)
        // tokenizer.json round trip.
        let path = Fixtures.temporaryDirectory() + "/t5.json"
        try tokenizer.save(path)
        let reloaded = try Tokenizer.load(path)
        for doc in docs.prefix(10) { #expect(reloaded.encode(doc) == tokenizer.encode(doc)) }
        #expect(reloaded.encode("<extra_id_3> x", addSpecialTokens: false).first == tokenizer.sentinelID(3))
    }
}
