import Foundation

/// Reading and writing Hugging Face `tokenizer.json` files (version 1.0) for WordPiece tokenizers:
/// normalisers (BertNormalizer, Sequence, NFD/NFC/NFKD/NFKC, Lowercase, StripAccents, Replace),
/// pre-tokenisers (Whitespace, BertPreTokenizer, WhitespaceSplit, Sequence), post-processors
/// (TemplateProcessing, BertProcessing) and the WordPiece model. Anything else is refused with an
/// error naming the file and the field, rather than silently tokenising differently.
extension Tokenizer {
    public static func load(_ path: String) throws -> Tokenizer {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError(path, "cannot read the file (missing or unreadable)")
        }
        let root: [String: Any]
        do {
            guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw InputError(path, "not a JSON object")
            }
            root = object
        } catch let e as InputError {
            throw e
        } catch {
            throw InputError(path, "malformed JSON (\(error.localizedDescription))")
        }
        do {
            return try Tokenizer(json: root)
        } catch let e as InputError {
            throw InputError(path, e.problem)
        }
    }

    convenience init(json root: [String: Any]) throws {
        if let v = root["version"] as? String, v != "1.0" {
            throw InputError("tokenizer", "unsupported version '\(v)'")
        }
        guard let modelJSON = root["model"] as? [String: Any] else { throw InputError("tokenizer", "missing 'model'") }
        let model: TokenizerModel
        switch modelJSON["type"] as? String ?? "WordPiece" {
        case "WordPiece": model = .wordPiece(try Tokenizer.parseWordPiece(modelJSON))
        case "Unigram": model = .unigram(try Tokenizer.parseUnigram(modelJSON))
        case let other: throw InputError("tokenizer", "model type '\(other)' is not supported (WordPiece or Unigram)")
        }
        var added: [AddedToken] = []
        for (i, a) in ((root["added_tokens"] as? [[String: Any]]) ?? []).enumerated() {
            guard let id = a["id"] as? Int, let content = a["content"] as? String else {
                throw InputError("tokenizer", "added_tokens[\(i)] needs 'id' and 'content'")
            }
            added.append(
                AddedToken(
                    id: Int32(id), content: content, special: a["special"] as? Bool ?? false,
                    normalized: a["normalized"] as? Bool ?? false, lstrip: a["lstrip"] as? Bool ?? false,
                    rstrip: a["rstrip"] as? Bool ?? false, singleWord: a["single_word"] as? Bool ?? false))
        }
        self.init(
            normalizer: try (root["normalizer"] as? [String: Any]).map(Tokenizer.parseNormalizer),
            preTokenizer: try (root["pre_tokenizer"] as? [String: Any]).map(Tokenizer.parsePreTokenizer),
            model: model,
            postProcessor: try (root["post_processor"] as? [String: Any]).map { try Tokenizer.parsePost($0, model) },
            addedTokens: added)
    }

    static func parseWordPiece(_ modelJSON: [String: Any]) throws -> WordPiece {
        guard let vocab = modelJSON["vocab"] as? [String: Any] else {
            throw InputError("tokenizer", "model.vocab missing")
        }
        guard let unk = modelJSON["unk_token"] as? String else {
            throw InputError("tokenizer", "model.unk_token missing")
        }
        guard let prefix = modelJSON["continuing_subword_prefix"] as? String else {
            throw InputError("tokenizer", "model.continuing_subword_prefix missing")
        }
        guard let maxChars = modelJSON["max_input_chars_per_word"] as? Int else {
            throw InputError("tokenizer", "model.max_input_chars_per_word missing")
        }
        var tokens = [String?](repeating: nil, count: vocab.count)
        for (token, idValue) in vocab {
            guard let id = idValue as? Int, id >= 0, id < vocab.count else {
                throw InputError("tokenizer", "model.vocab['\(token)'] is not an id in 0..<\(vocab.count)")
            }
            guard tokens[id] == nil else { throw InputError("tokenizer", "model.vocab gives id \(id) twice") }
            tokens[id] = token
        }
        return try WordPiece(
            vocabulary: tokens.map { $0! }, unknownToken: unk, continuingSubwordPrefix: prefix,
            maxInputCharsPerWord: maxChars)
    }

    static func parseUnigram(_ modelJSON: [String: Any]) throws -> Unigram {
        guard let vocab = modelJSON["vocab"] as? [[Any]] else {
            throw InputError("tokenizer", "model.vocab must be a list of [piece, score]")
        }
        if modelJSON["byte_fallback"] as? Bool == true {
            throw InputError("tokenizer", "Unigram byte_fallback is not supported")
        }
        let pieces = try vocab.enumerated().map { i, entry -> (String, Double) in
            guard entry.count == 2, let piece = entry[0] as? String,
                let score = (entry[1] as? Double) ?? (entry[1] as? Int).map(Double.init)
            else {
                throw InputError("tokenizer", "model.vocab[\(i)] is not [piece, score]")
            }
            return (piece, score)
        }
        guard let unk = modelJSON["unk_id"] as? Int else { throw InputError("tokenizer", "model.unk_id missing") }
        return try Unigram(vocabulary: pieces, unknownID: unk)
    }

    static func parseNormalizer(_ j: [String: Any]) throws -> TextNormalizer {
        let type = j["type"] as? String ?? "?"
        switch type {
        case "Sequence":
            guard let list = j["normalizers"] as? [[String: Any]] else {
                throw InputError("tokenizer", "normalizer Sequence without 'normalizers'")
            }
            return .sequence(try list.map(parseNormalizer))
        case "Precompiled":
            guard let charsmap = j["precompiled_charsmap"] as? String else {
                throw InputError("tokenizer", "normalizer Precompiled without 'precompiled_charsmap'")
            }
            return .precompiled(try PrecompiledCharsmap(base64: charsmap))
        case "Strip":
            guard let left = j["strip_left"] as? Bool, let right = j["strip_right"] as? Bool else {
                throw InputError("tokenizer", "normalizer Strip needs 'strip_left' and 'strip_right'")
            }
            return .strip(left: left, right: right)
        case "NFD": return .nfd
        case "NFC": return .nfc
        case "NFKD": return .nfkd
        case "NFKC": return .nfkc
        case "Lowercase": return .lowercase
        case "StripAccents": return .stripAccents
        case "Replace":
            guard let pattern = j["pattern"] as? [String: Any], let content = j["content"] as? String else {
                throw InputError("tokenizer", "normalizer Replace needs 'pattern' and 'content'")
            }
            if let s = pattern["String"] as? String { return .replace(pattern: .string(s), content: content) }
            if let r = pattern["Regex"] as? String {
                guard (try? Regex(r)) != nil else {
                    throw InputError("tokenizer", "normalizer Replace: invalid regex '\(r)'")
                }
                return .replace(pattern: .regex(r), content: content)
            }
            throw InputError("tokenizer", "normalizer Replace: pattern must be String or Regex")
        case "BertNormalizer":
            guard let clean = j["clean_text"] as? Bool, let chinese = j["handle_chinese_chars"] as? Bool,
                let lower = j["lowercase"] as? Bool, j.keys.contains("strip_accents")
            else {
                throw InputError(
                    "tokenizer",
                    "BertNormalizer needs clean_text, handle_chinese_chars, strip_accents and lowercase")
            }
            return .bert(
                cleanText: clean, handleChineseChars: chinese, stripAccents: j["strip_accents"] as? Bool,
                lowercase: lower)
        default:
            throw InputError("tokenizer", "normalizer type '\(type)' is not supported")
        }
    }

    static func parsePreTokenizer(_ j: [String: Any]) throws -> PreTokenizer {
        let type = j["type"] as? String ?? "?"
        switch type {
        case "Whitespace": return .whitespace
        case "BertPreTokenizer": return .bert
        case "WhitespaceSplit": return .whitespaceSplit
        case "Metaspace":
            let replacement = j["replacement"] as? String ?? PreTokenizer.spaceMark
            var scheme = j["prepend_scheme"] as? String ?? "always"
            if let legacy = j["add_prefix_space"] as? Bool, j["prepend_scheme"] == nil {
                scheme = legacy ? "always" : "never"
            }
            guard ["always", "first", "never"].contains(scheme) else {
                throw InputError("tokenizer", "Metaspace prepend_scheme '\(scheme)' is unknown")
            }
            return .metaspace(replacement: replacement, prependScheme: scheme, split: j["split"] as? Bool ?? true)
        case "Sequence":
            guard let list = j["pretokenizers"] as? [[String: Any]] else {
                throw InputError("tokenizer", "pre_tokenizer Sequence without 'pretokenizers'")
            }
            return .sequence(try list.map(parsePreTokenizer))
        default:
            throw InputError("tokenizer", "pre_tokenizer type '\(type)' is not supported")
        }
    }

    static func parsePost(_ j: [String: Any], _ model: TokenizerModel) throws -> TemplateProcessor {
        let type = j["type"] as? String ?? "?"
        switch type {
        case "TemplateProcessing":
            func pieces(_ key: String) throws -> [TemplateProcessor.Piece] {
                guard let list = j[key] as? [[String: Any]] else {
                    throw InputError("tokenizer", "TemplateProcessing needs '\(key)'")
                }
                return try list.map { item in
                    if let s = item["SpecialToken"] as? [String: Any], let id = s["id"] as? String {
                        return .special(id, typeID: s["type_id"] as? Int ?? 0)
                    }
                    if let s = item["Sequence"] as? [String: Any], let id = s["id"] as? String {
                        return .sequence(id, typeID: s["type_id"] as? Int ?? 0)
                    }
                    throw InputError(
                        "tokenizer",
                        "TemplateProcessing.\(key) has an entry that is neither SpecialToken nor Sequence")
                }
            }
            var specials: [String: [Int32]] = [:]
            for (name, v) in (j["special_tokens"] as? [String: Any]) ?? [:] {
                guard let ids = (v as? [String: Any])?["ids"] as? [Int] else {
                    throw InputError("tokenizer", "TemplateProcessing.special_tokens['\(name)'] has no ids")
                }
                specials[name] = ids.map { Int32($0) }
            }
            return TemplateProcessor(single: try pieces("single"), pair: try pieces("pair"), specialTokens: specials)
        case "BertProcessing":
            guard let sep = j["sep"] as? [Any], let cls = j["cls"] as? [Any], sep.count == 2, cls.count == 2,
                let sepName = sep[0] as? String, let sepID = sep[1] as? Int,
                let clsName = cls[0] as? String, let clsID = cls[1] as? Int
            else {
                throw InputError("tokenizer", "BertProcessing needs sep and cls as [token, id]")
            }
            return TemplateProcessor(
                single: [.special(clsName, typeID: 0), .sequence("A", typeID: 0), .special(sepName, typeID: 0)],
                pair: [
                    .special(clsName, typeID: 0), .sequence("A", typeID: 0), .special(sepName, typeID: 0),
                    .sequence("B", typeID: 1), .special(sepName, typeID: 1),
                ],
                specialTokens: [clsName: [Int32(clsID)], sepName: [Int32(sepID)]])
        default:
            throw InputError("tokenizer", "post_processor type '\(type)' is not supported")
        }
    }

    // MARK: Writing

    /// Writes this tokenizer as a Hugging Face `tokenizer.json` (atomically).
    public func save(_ path: String) throws {
        try jsonData().write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// The `tokenizer.json` bytes (keys sorted, so equal tokenizers give equal bytes).
    public func jsonData() throws -> Data {
        var root: [String: Any] = [
            "version": "1.0", "truncation": NSNull(), "padding": NSNull(),
            "added_tokens": addedTokens.map {
                [
                    "id": Int($0.id), "content": $0.content, "single_word": $0.singleWord, "lstrip": $0.lstrip,
                    "rstrip": $0.rstrip, "normalized": $0.normalized, "special": $0.special,
                ] as [String: Any]
            },
        ]
        switch model {
        case .wordPiece(let m):
            var vocab: [String: Int] = [:]
            for (i, t) in m.vocabulary.enumerated() { vocab[t] = i }
            root["decoder"] = ["type": "WordPiece", "prefix": m.continuingSubwordPrefix, "cleanup": true]
            root["model"] =
                [
                    "type": "WordPiece", "unk_token": m.unknownToken,
                    "continuing_subword_prefix": m.continuingSubwordPrefix,
                    "max_input_chars_per_word": m.maxInputCharsPerWord, "vocab": vocab,
                ] as [String: Any]
        case .unigram(let m):
            root["decoder"] = [
                "type": "Metaspace", "replacement": PreTokenizer.spaceMark, "prepend_scheme": "always", "split": true,
            ]
            root["model"] =
                [
                    "type": "Unigram", "unk_id": Int(m.unknownID), "byte_fallback": false,
                    "vocab": zip(m.vocabulary, m.scores).map { [$0, $1] as [Any] },
                ] as [String: Any]
        }
        root["normalizer"] = normalizer.map(Tokenizer.json) ?? NSNull()
        root["pre_tokenizer"] = preTokenizer.map(Tokenizer.json) ?? NSNull()
        root["post_processor"] = postProcessor.map(Tokenizer.json) ?? NSNull()
        return try JSONSerialization.data(withJSONObject: root, options: [.sortedKeys, .withoutEscapingSlashes])
    }

    static func json(_ n: TextNormalizer) -> [String: Any] {
        switch n {
        case .sequence(let steps): return ["type": "Sequence", "normalizers": steps.map(json)]
        case .nfd: return ["type": "NFD"]
        case .nfc: return ["type": "NFC"]
        case .nfkd: return ["type": "NFKD"]
        case .nfkc: return ["type": "NFKC"]
        case .lowercase: return ["type": "Lowercase"]
        case .stripAccents: return ["type": "StripAccents"]
        case .replace(let pattern, let content):
            switch pattern {
            case .string(let s): return ["type": "Replace", "pattern": ["String": s], "content": content]
            case .regex(let r): return ["type": "Replace", "pattern": ["Regex": r], "content": content]
            }
        case .bert(let clean, let chinese, let strip, let lower):
            return [
                "type": "BertNormalizer", "clean_text": clean, "handle_chinese_chars": chinese,
                "strip_accents": strip.map { $0 as Any } ?? NSNull(), "lowercase": lower,
            ]
        case .precompiled(let charsmap): return ["type": "Precompiled", "precompiled_charsmap": charsmap.base64]
        case .strip(let left, let right): return ["type": "Strip", "strip_left": left, "strip_right": right]
        }
    }

    static func json(_ p: PreTokenizer) -> [String: Any] {
        switch p {
        case .whitespace: return ["type": "Whitespace"]
        case .bert: return ["type": "BertPreTokenizer"]
        case .whitespaceSplit: return ["type": "WhitespaceSplit"]
        case .metaspace(let replacement, let scheme, let split):
            return ["type": "Metaspace", "replacement": replacement, "prepend_scheme": scheme, "split": split]
        case .sequence(let steps): return ["type": "Sequence", "pretokenizers": steps.map(json)]
        }
    }

    static func json(_ t: TemplateProcessor) -> [String: Any] {
        func pieces(_ list: [TemplateProcessor.Piece]) -> [[String: Any]] {
            list.map {
                switch $0 {
                case .special(let id, let type): return ["SpecialToken": ["id": id, "type_id": type]]
                case .sequence(let id, let type): return ["Sequence": ["id": id, "type_id": type]]
                }
            }
        }
        var specials: [String: Any] = [:]
        for (name, ids) in t.specialTokens {
            specials[name] = ["id": name, "ids": ids.map { Int($0) }, "tokens": [name]]
        }
        return [
            "type": "TemplateProcessing", "single": pieces(t.single), "pair": pieces(t.pair),
            "special_tokens": specials,
        ]
    }
}
