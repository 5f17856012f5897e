/// The prompt of an SNI instance as Tk-Instruct's collator builds it (`DataCollatorForNI` in
/// `src/ni_collator.py` of github.com/yizhongw/Tk-Instruct, which nanoT5's fine-tuning follows) with
/// the paper's encoding: the task's definition and 2 positive examples, no negative examples, no
/// explanations, no task name:
///
///     Definition: <definition>[.]\n\n
///      Positive Example 1 -\nInput: <input>[.]\n Output: <output>[.]\n\n      (each example that fits)
///     Now complete the following example -\nInput: <input>[.]\nOutput:␣
///
/// where `[.]` is a full stop added when the text does not already end in ASCII punctuation. A
/// positive example is added only while the prompt so far (the examples joined with a space, as
/// the original measures it) stays within `maxSourceLength` tokens; a prompt still too long is cut
/// to its first `maxSourceLength` tokens and decoded back to text. Sources are then encoded to at
/// most 1,024 ids and targets to 128, `</s>` included.
public struct SNIPrompt: Sendable {
    public var positiveExamples = 2
    public var maxSourceLength = 1024
    public var maxTargetLength = 128

    public init() {}

    /// The prompt text of `instance` of `task`.
    public func source(_ task: SNITask, _ instance: SNITask.Instance, tokenizer: Tokenizer) -> String {
        prompt(task, instance, tokenizer: tokenizer).text
    }

    /// The prompt's text and its encoding (the encoding of the text as returned, cut or not).
    func prompt(_ task: SNITask, _ instance: SNITask.Instance, tokenizer: Tokenizer) -> (text: String, ids: [Int32]) {
        let taskInput =
            PythonText.stopped("Now complete the following example -\nInput: " + PythonText.strip(instance.input))
            + "\nOutput: "
        let definition = PythonText.stopped("Definition: " + PythonText.strip(task.definition.first ?? "")) + "\n\n"
        var examples: [String] = []
        for (k, example) in task.positiveExamples.prefix(positiveExamples).enumerated() {
            let text =
                PythonText.stopped(" Positive Example \(k + 1) -\nInput: " + PythonText.strip(example.input)) + "\n"
            let block = PythonText.stopped(text + " Output: " + PythonText.strip(example.output)) + "\n\n"
            let measured = definition + examples.joined(separator: " ") + block + taskInput
            guard tokenizer.encode(measured).count <= maxSourceLength else { break }
            examples.append(block)
        }
        let source = definition + examples.joined() + taskInput
        let ids = tokenizer.encode(source)
        guard ids.count > maxSourceLength else { return (source, ids) }
        let cut = SNIPrompt.cleanUp(tokenizer.decode(Array(ids.prefix(maxSourceLength)), skipSpecialTokens: true))
        return (cut, tokenizer.encode(cut))
    }

    /// Hugging Face's `clean_up_tokenization` (on by default when Tk-Instruct ran): the spaces a
    /// decode leaves before punctuation and English contractions.
    static func cleanUp(_ text: String) -> String {
        [
            (" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"), (" 'm", "'m"),
            (" 's", "'s"), (" 've", "'ve"), (" 're", "'re"),
        ].reduce(text) { $0.replacingOccurrences(of: $1.0, with: $1.1) }
    }

    /// The encoder ids: the prompt's tokens, at most `maxSourceLength` with `</s>` last.
    public func sourceIDs(_ task: SNITask, _ instance: SNITask.Instance, tokenizer: Tokenizer) -> [Int32] {
        truncated(prompt(task, instance, tokenizer: tokenizer).ids, to: maxSourceLength)
    }

    /// The target ids of a reference: at most `maxTargetLength` with `</s>` last.
    public func targetIDs(_ reference: String, tokenizer: Tokenizer) -> [Int32] {
        truncated(tokenizer.encode(reference), to: maxTargetLength)
    }

    /// Hugging Face's truncation of an encoding ending in `</s>`: the text's first n − 1 ids and `</s>`.
    func truncated(_ ids: [Int32], to n: Int) -> [Int32] {
        guard ids.count > n, let last = ids.last else { return ids }
        return Array(ids.prefix(n - 1)) + [last]
    }
}
