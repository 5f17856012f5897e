import Engine
import Foundation
import NoTrainNoGain
import Testing

@Suite("Corpora, packing, split")
struct CorpusTests {
    func write(_ text: String, _ name: String, in dir: String) throws -> String {
        let p = dir + "/" + name
        try text.write(toFile: p, atomically: true, encoding: .utf8)
        return p
    }

    @Test func plainTextJSONLinesAndWikiExtractorDocuments() throws {
        let dir = Fixtures.temporaryDirectory()
        _ = try write("first doc\nsecond line\n\n\nsecond doc\n", "a.txt", in: dir)
        _ = try write(
            #"{"text": "json one", "url": "x"}"# + "\n\n" + #"{"text": "json \"two\"\n"}"# + "\n", "b.jsonl", in: dir)
        try FileManager.default.createDirectory(atPath: dir + "/text/AA", withIntermediateDirectories: true)
        _ = try write(
            "<doc id=\"1\" url=\"u\" title=\"T\">\nTitle\n\nBody one.\nBody two.\n</doc>\n"
                + "<doc id=\"2\" title=\"E\">\nEmpty\n</doc>\n",
            "text/AA/wiki_00", in: dir)
        _ = try write("ignored", "notes.md", in: dir)
        let corpus = try Corpus(paths: [dir])
        #expect(corpus.files.map(\.format) == [.plainText, .jsonLines, .wikiExtractor])
        #expect(
            try corpus.documents() == [
                "first doc second line", "second doc", "json one", "json \"two\"\n", "Body one. Body two.",
            ])
    }

    @Test func gzipJSONLinesOfTheC4Sample() throws {
        guard let shared = Fixtures.sharedData else {
            print("skipped: ../shared/data is not present")
            return
        }
        let corpus = try Corpus(paths: [shared + "/c4-sample/c4-sample.00000-of-00001.json.gz"])
        let docs = try corpus.documents()
        #expect(docs.count == 1000)
        #expect(docs.allSatisfy { !$0.isEmpty })
    }

    @Test func gzipWrittenByGzipIsReadIncludingConcatenatedMembers() throws {
        guard
            FileManager.default.fileExists(atPath: "/bin/gzip")
                || FileManager.default.fileExists(atPath: "/usr/bin/gzip")
        else {
            print("skipped: gzip is not installed")
            return
        }
        let dir = Fixtures.temporaryDirectory()
        _ = try write(#"{"text": "one"}"# + "\n", "p1.jsonl", in: dir)
        _ = try write(#"{"text": "two"}"# + "\n", "p2.jsonl", in: dir)
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        shell.arguments = [
            "-c",
            "cd \(dir) && gzip -c p1.jsonl > c.json.gz && gzip -c p2.jsonl >> c.json.gz "
                + "&& printf 'garbage' > bad.json.gz",
        ]
        try shell.run()
        shell.waitUntilExit()
        #expect(try Corpus(paths: [dir + "/c.json.gz"]).documents() == ["one", "two"])
        #expect { try Corpus(paths: [dir + "/bad.json.gz"]).documents() } throws: {
            "\($0)".hasPrefix(dir + "/bad.json.gz: ")
        }
    }

    @Test func malformedInputIsReportedWithFileAndLine() throws {
        let dir = Fixtures.temporaryDirectory()
        let bad = try write(#"{"text": "ok"}"# + "\n{broken\n", "bad.jsonl", in: dir)
        #expect { try Corpus(paths: [bad]).documents() } throws: { "\($0)" == bad + ": line 2: not a JSON object" }
        let field = try write(#"{"body": "x"}"# + "\n", "field.jsonl", in: dir)
        #expect { try Corpus(paths: [field]).documents() } throws: {
            "\($0)" == field + ": line 1: no string field 'text'"
        }
        let unknown = try write("x", "data.csv", in: dir)
        #expect { try Corpus(paths: [unknown]) } throws: { "\($0)".hasPrefix(unknown + ": unsupported corpus file") }
        let wiki = dir + "/wiki_07"
        try "<doc id=\"1\">\nT\nbody\n".write(toFile: wiki, atomically: true, encoding: .utf8)
        #expect { try Corpus(paths: [wiki]).documents() } throws: {
            "\($0)" == wiki + ": unterminated <doc> at the end of the file"
        }
    }

    @Test func packingAppendsSeparatorsAndDropsEachGroupsRemainder() throws {
        let dir = Fixtures.temporaryDirectory()
        _ = try write("a b c\n\nd e\n\nf g h i\n", "c.txt", in: dir)
        let tokenizer = try Tokenizer.trainCramming(documents: ["a b c d e f g h i"], vocabularySize: 30)
        let ids = { (s: String) in tokenizer.encode(s) }  // each ends with <sep>
        let corpus = try Corpus(paths: [dir])
        // Groups of 2 documents: [a b c <sep> d e <sep>] → one row of 4, 3 left over (dropped);
        // [f g h i <sep>] → one row of 4, 1 dropped.
        let packed = try PackedDataset.build(
            corpus: corpus, tokenizer: tokenizer, sequenceLength: 4, documentsPerGroup: 2)
        #expect(packed.count == 2)
        #expect(Array(packed.row(0)) == Array((ids("a b c") + ids("d e")).prefix(4)))
        #expect(Array(packed.row(1)) == Array(ids("f g h i").prefix(4)))
    }

    @Test func splitIsDeterministicDisjointAndReshufflesPerEpoch() throws {
        let a = try DataSplit(count: 1000, validationFraction: 0.05, validationMaximum: 30, seed: 0)
        let b = try DataSplit(count: 1000, validationFraction: 0.05, validationMaximum: 30, seed: 0)
        #expect(a == b)
        #expect(a.validation.count == 30 && a.training.count == 970)
        #expect(Set(a.validation).isDisjoint(with: a.training))
        let epoch0 = a.trainingRows(0..<970), epoch1 = a.trainingRows(970..<1940)
        #expect(Set(epoch0) == Set(epoch1) && epoch0 != epoch1)
        #expect(a.trainingRow(at: 975) == epoch1[5])
        #expect { try DataSplit(count: 1, validationFraction: 0.1, validationMaximum: 10, seed: 0) } throws: { _ in true
        }
    }

    @Test func datasetCacheRoundTripsAndDetectsDamage() throws {
        let dir = Fixtures.temporaryDirectory()
        let cache = DatasetCache(directory: dir)
        let data = PackedDataset(sequenceLength: 3, tokens: [1, 2, 3, 4, 5, 70_000])
        try cache.storeDataset(data, key: "k", description: "test")
        #expect(try cache.loadDataset("k")?.tokens == data.tokens)
        #expect(try cache.loadDataset("missing") == nil)
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: dir + "/k/rows.bin"))
        #expect { try cache.loadDataset("k") } throws: { "\($0)".contains("cache entry is damaged") }
    }
}

@Suite("safetensors")
struct SafeTensorsTests {
    @Test func roundTripWithMetadata() throws {
        let dir = Fixtures.temporaryDirectory()
        let a = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3]), b = Tensor(int32: [7, 8], shape: [2]),
            s = Tensor([9], shape: [])
        try SafeTensors.write([("a", a), ("b", b), ("s", s)], metadata: ["format": "pt"], to: dir + "/t.safetensors")
        let (tensors, metadata) = try SafeTensors.read(dir + "/t.safetensors")
        #expect(metadata == ["format": "pt"])
        #expect(tensors["a"]?.shape == [2, 3] && tensors["b"]?.dtype == .int32 && tensors["s"]?.shape == [])
        let back = Tensor(shape: [2, 3])
        try SafeTensors.assign(tensors["a"]!, to: back, name: "a", path: "t")
        #expect(back.scalars() == a.scalars())
        // Header padded to 8 bytes.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: dir + "/t.safetensors"))
        let n = bytes.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        #expect((8 + Int(n)) % 8 == 0)
    }

    @Test func readsTheReferenceImplementationsFileAndRefusesBrokenOnes() throws {
        if let shared = Fixtures.sharedData {
            // Written by a script from the spec; loads in safetensors 0.8.0. It holds I64, which ntng refuses by name.
            let path = shared + "/../notes/interop-examples/hand_made.safetensors"
            #expect { try SafeTensors.read(path) } throws: { "\($0)".contains("dtype I64, which ntng does not read") }
        }
        let dir = Fixtures.temporaryDirectory()
        func file(_ header: String, data: Int) throws -> String {
            var d = Data()
            withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { d.append(contentsOf: $0) }
            d.append(contentsOf: header.utf8)
            d.append(Data(count: data))
            let p = dir + "/f\(header.hashValue).safetensors"
            try d.write(to: URL(fileURLWithPath: p))
            return p
        }
        let hole = try file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: 8)
        #expect { try SafeTensors.read(hole) } throws: { "\($0)".contains("data has a hole") }
        let size = try file(#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: 8)
        #expect { try SafeTensors.read(size) } throws: { "\($0)".contains("do not agree") }
        let trailing = try file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: 8)
        #expect { try SafeTensors.read(trailing) } throws: { "\($0)".contains("4 trailing bytes") }
        let meta = try file(#"{"__metadata__":{"x":1}}"#, data: 0)
        #expect { try SafeTensors.read(meta) } throws: { "\($0)".contains("__metadata__['x'] is not a string") }
        let junk = dir + "/junk.safetensors"
        try Data([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 1]).write(to: URL(fileURLWithPath: junk))
        #expect { try SafeTensors.read(junk) } throws: { "\($0)".contains("header length") }
    }

    @Test func checkpointWithWrongShapesIsRefused() throws {
        let dir = Fixtures.temporaryDirectory()
        let small = CrammedBERT(
            CrammedBERTConfig(layers: 1, hidden: 16, heads: 2, intermediate: 32, vocabularySize: 40), seed: 0)
        try SafeTensors.write(small.checkpointTensors, to: dir + "/m.safetensors")
        let other = CrammedBERT(
            CrammedBERTConfig(layers: 1, hidden: 16, heads: 2, intermediate: 32, vocabularySize: 50), seed: 0)
        #expect { try Checkpointer.loadModel(from: dir + "/m.safetensors", into: other) } throws: {
            "\($0)".contains("'bert.embeddings.word_embeddings.weight' is F32 [40, 16], the model expects F32 [50, 16]")
        }
        let deeper = CrammedBERT(
            CrammedBERTConfig(layers: 2, hidden: 16, heads: 2, intermediate: 32, vocabularySize: 40), seed: 0)
        #expect { try Checkpointer.loadModel(from: dir + "/m.safetensors", into: deeper) } throws: {
            "\($0)".contains("'bert.encoder.layer.1")
        }
        let same = CrammedBERT(small.config, seed: 9)
        try Checkpointer.loadModel(from: dir + "/m.safetensors", into: same)
        #expect(same.blocks[0].qkv.weight.scalars() == small.blocks[0].qkv.weight.scalars())
    }
}
