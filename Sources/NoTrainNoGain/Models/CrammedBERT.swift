import Engine
#if canImport(Glibc)
    import Glibc
#endif

/// Crammed BERT for masked-language-model pre-training (`bert/cramming/config/arch/bert-c5.yaml`;
/// Geiping & Goldstein's recipe as
/// NTNG runs it):
///
///     tokens → Embedding + s·sinusoid (s learnable, 1/√d at init) → LayerNorm → Drop
///            → L pre-LN blocks (`CrammedBERTBlock`) → final LayerNorm
///            → rows at masked positions only → Linear(d → d) → tied decoder Eᵀ → cross-entropy
///
/// Every block is built up front; a forward pass runs the blocks listed in `activeBlocks`
/// (all by default), which is how layer stacking and layer dropping act on the model.
public final class CrammedBERT: PretrainingModel {
    public var shape: any ModelKind { config }
    public let config: CrammedBERTConfig
    public let tokenEmbedding: Embedding
    /// s in x = E[ids] + s·P (scaled sinusoidal positions).
    public let positionScale: Tensor
    public let embeddingNorm: LayerNorm
    public let blocks: [CrammedBERTBlock]
    public let finalNorm: LayerNorm
    public let headTransform: Linear
    /// Fixed sinusoidal table P [maxSequenceLength, d].
    let positionTable: Tensor

    public static let padID: Int32 = 0

    public init(_ config: CrammedBERTConfig, seed: UInt64) {
        precondition(config.problems().isEmpty, config.problems().joined(separator: "; "))
        self.config = config
        var g = SeededGenerator(seed: seed)
        tokenEmbedding = Embedding(
            config.vocabularySize, config.hidden, std: config.initStd,
            paddingIndex: Int(CrammedBERT.padID), generator: &g)
        positionScale = Tensor([1 / Float(config.hidden).squareRoot()], shape: [], requiresGrad: true)
        embeddingNorm = LayerNorm(config.hidden, epsilon: config.normEpsilon)
        blocks = (0..<config.layers).map { _ in CrammedBERTBlock(config, generator: &g) }
        finalNorm = LayerNorm(config.hidden, epsilon: config.normEpsilon)
        headTransform = Linear(config.hidden, config.hidden, std: config.initStd, generator: &g)
        positionTable = CrammedBERT.sinusoidTable(length: config.maxSequenceLength, dim: config.hidden)
    }

    /// P[pos, 2i] = sin(pos·10000^(−2i/d)), P[pos, 2i+1] = cos(pos·10000^(−2i/d)).
    static func sinusoidTable(length: Int, dim: Int) -> Tensor {
        var values = [Float](repeating: 0, count: length * dim)
        for pos in 0..<length {
            for i in stride(from: 0, to: dim, by: 2) {
                let angle = Double(pos) * exp(-log(10000.0) * Double(i) / Double(dim))
                values[pos * dim + i] = Float(sin(angle))
                if i + 1 < dim { values[pos * dim + i + 1] = Float(cos(angle)) }
            }
        }
        return Tensor(values, shape: [length, dim])
    }

    /// Hidden states [B, S, d] after the final norm; with `outputRows` (int32 indices into the B·S
    /// positions) only those rows, [N, d] (see `CrammedBERTBlock`).
    public func encode(
        _ ids: Tensor, keyLengths: Tensor? = nil, activeBlocks: [Int]? = nil,
        dropoutSeed: UInt64? = nil, outputRows: Tensor? = nil
    ) -> Tensor {
        precondition(ids.rank == 2 && ids.dtype == .int32, "encode: ids must be int32 [B, S]")
        let s = ids.shape[1]
        precondition(
            s <= config.maxSequenceLength, "sequence length \(s) exceeds the model's \(config.maxSequenceLength)")
        let dropout = dropoutSeed.map { (p: config.dropout, seed: $0) }
        var x = tokenEmbedding(ids) + positionTable.rows(0..<s) * positionScale
        x = embeddingNorm(x).dropout(probability: dropout?.p ?? 0, seed: dropout?.seed ?? 0)
        let order = activeBlocks ?? Array(blocks.indices)
        for (k, i) in order.enumerated() {
            x = blocks[i](
                x, keyLengths: keyLengths, dropout: dropout.map { ($0.p, $0.seed &+ UInt64(i + 1) &* 16) },
                outputRows: k == order.count - 1 ? outputRows : nil)
        }
        if order.isEmpty, let outputRows {
            x = x.reshaped([ids.shape[0] * s, config.hidden]).gatherRows(outputRows)
        }
        return finalNorm(x)
    }

    /// Vocabulary logits [N, V] at the N masked positions of a batch (sparse prediction: only those
    /// rows leave the last block and reach the head and the tied decoder), with their labels and rows.
    public func predictions(_ batch: PretrainingBatch, activeBlocks: [Int]? = nil) -> Predictions {
        let ids = Tensor(int32: batch.inputIDs, shape: [batch.batchSize, batch.sequenceLength])
        var positions: [Int32] = [], labels: [Int32] = []
        positions.reserveCapacity(batch.labels.count / 6)
        for (i, label) in batch.labels.enumerated() where label != PretrainingBatch.ignoreLabel {
            positions.append(Int32(i))
            labels.append(label)
        }
        let selected = encode(
            ids, activeBlocks: activeBlocks, outputRows: Tensor(int32: positions, shape: [positions.count]))
        return Predictions(
            logits: linear(headTransform(selected), tokenEmbedding.weight), labels: labels,
            rows: positions.map { $0 / Int32(batch.sequenceLength) })
    }

    /// The encoder's final hidden states at every position, [B·S, d] (what the original Sophia
    /// code sampled labels from, `bert/pretrain_bert_sophia.py`).
    public func finalHiddenStates(_ batch: PretrainingBatch, activeBlocks: [Int]? = nil) -> Tensor {
        let ids = Tensor(int32: batch.inputIDs, shape: [batch.batchSize, batch.sequenceLength])
        return encode(ids, activeBlocks: activeBlocks).reshaped([batch.tokenCount, config.hidden])
    }

    /// Tensors as stored in a checkpoint: Hugging Face BERT names where a counterpart exists; the
    /// fused QKV weight [3d, d] is stored as its three [d, d] row blocks, `query`, `key`, `value`
    /// (views, no copies). Pre-LN norms, the final norm and the position scale keep our own names.
    public var checkpointTensors: [(String, Tensor)] {
        let d = config.hidden
        return parameters.flatMap { p -> [(String, Tensor)] in
            guard p.name.hasSuffix(".attention.self.qkv.weight") else { return [(p.name, p.tensor)] }
            let prefix = p.name.dropLast("qkv.weight".count)
            return ["query", "key", "value"].enumerated().map { i, part in
                ("\(prefix)\(part).weight", p.tensor.storageView((i * d * d)..<((i + 1) * d * d), shape: [d, d]))
            }
        }
    }

    public var parameters: [Parameter] {
        tokenEmbedding.parameters.prefixed("bert.embeddings.word_embeddings")
            + [Parameter("bert.embeddings.position_embeddings.scale", positionScale, role: .weight)]
            + embeddingNorm.parameters.prefixed("bert.embeddings.LayerNorm")
            + blocks.enumerated().flatMap { $1.parameters.prefixed("bert.encoder.layer.\($0)") }
            + finalNorm.parameters.prefixed("bert.encoder.final_norm")
            + headTransform.parameters.prefixed("cls.predictions.transform.dense")
    }
}
