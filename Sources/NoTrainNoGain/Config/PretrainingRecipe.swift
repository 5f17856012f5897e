/// A model kind's pre-training recipe from the paper and its original code: the defaults of the
/// shared config sections (data, training, optimizer) when a config does not set them. The values
/// of each kind are in its file (`CrammedBERTConfig.recipe`, `T5Config.recipe`).
public struct PretrainingRecipe: Sendable {
    /// How `data.tokenizer: train` learns the tokenizer.
    public var tokenizer: TokenizerRecipe
    public var sequenceLength: Int
    /// The sequence lengths a config may ask for.
    public var sequenceLengths: ClosedRange<Int>
    /// Documents tokenised and concatenated together before rows are cut.
    public var documentsPerGroup: Int
    public var microBatchSize: Int
    public var batchSize: Int
    public var learningRate: Double
    public var schedule: LearningRateSchedule
    public var gradientClip: Double
    /// A built-in cost table (`CostModel.builtIn`).
    public var costTable: String
    /// The optimiser's name (`Plugins.optimizers`).
    public var optimizer: String
}
