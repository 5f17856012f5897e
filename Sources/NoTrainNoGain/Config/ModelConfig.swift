import Foundation

/// `model:` — the model a run pre-trains (`kind: crammed-bert` with masked LM, or `kind: t5` with
/// span corruption) and its shape.
public enum ModelConfig: Equatable, Sendable {
    case crammedBERT(CrammedBERTConfig)
    case t5(T5Config)

    public enum Kind: String, Codable, Sendable, CaseIterable {
        case crammedBERT = "crammed-bert"
        case t5
    }

    public var kind: Kind {
        switch self {
        case .crammedBERT: .crammedBERT
        case .t5: .t5
        }
    }

    /// Blocks in the stack that stacking and dropping act on (T5: encoder–decoder pairs).
    public var layers: Int {
        switch self {
        case .crammedBERT(let c): c.layers
        case .t5(let c): c.layers
        }
    }

    public var hidden: Int {
        switch self {
        case .crammedBERT(let c): c.hidden
        case .t5(let c): c.hidden
        }
    }

    public var vocabularySize: Int {
        switch self {
        case .crammedBERT(let c): c.vocabularySize
        case .t5(let c): c.vocabularySize
        }
    }

    /// "16L/768d/12h" and the like.
    public var summary: String {
        switch self {
        case .crammedBERT(let c): "crammed BERT \(c.layers)L/\(c.hidden)d/\(c.heads)h"
        case .t5(let c): "T5 \(c.layers)+\(c.layers)L/\(c.hidden)d/\(c.heads)h"
        }
    }

    /// Problems with the shape, one line each (empty when valid).
    public var problems: [String] {
        switch self {
        case .crammedBERT(let c): c.problems()
        case .t5(let c): c.problems()
        }
    }

    /// A freshly initialised model.
    public func make(seed: UInt64) -> any PretrainingModel {
        switch self {
        case .crammedBERT(let c): CrammedBERT(c, seed: seed)
        case .t5(let c): T5(c, seed: seed)
        }
    }
}

extension ModelConfig: Codable {
    enum CodingKeys: String, CodingKey { case kind, shape }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        switch try c.decode(Kind.self, forKey: .kind) {
        case .crammedBERT: self = .crammedBERT(try c.decode(CrammedBERTConfig.self, forKey: .shape))
        case .t5: self = .t5(try c.decode(T5Config.self, forKey: .shape))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(kind, forKey: .kind)
        switch self {
        case .crammedBERT(let m): try c.encode(m, forKey: .shape)
        case .t5(let m): try c.encode(m, forKey: .shape)
        }
    }
}
