import ArgumentParser
import Foundation
import NoTrainNoGain

struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Encode text with a tokenizer.json, or train a cramming WordPiece tokenizer on a corpus.",
        discussion: """
            ntng tokenize --tokenizer tok.json --text "Hello world"      prints ids (JSON)
            ntng tokenize --tokenizer tok.json < lines.txt                one JSON array of ids per input line
            ntng tokenize --train corpus/ --vocabulary-size 8192 --output tok.json
            """)

    @Option(help: "A Hugging Face tokenizer.json (WordPiece, or Unigram such as T5's).") var tokenizer: String?
    @Option(help: "Text to encode (otherwise each line of standard input).") var text: [String] = []
    @Flag(help: "Leave out the template's special tokens.") var noSpecialTokens = false
    @Option(help: "Train on this corpus (file or folder) instead.", completion: .file()) var train: [String] = []
    @Option(help: "Vocabulary size when training.") var vocabularySize = 32768
    @Option(help: "What to train: wordpiece (crammed BERT) or unigram (T5, with 100 sentinels).") var kind = "wordpiece"
    @Option(help: "Where to write the trained tokenizer.json.") var output: String?

    func run() throws {
        if !train.isEmpty {
            guard let output else { throw ValidationError("--train needs --output") }
            guard let recipe = TokenizerRecipe.all.first(where: { $0.name == kind }) else {
                throw ValidationError("--kind must be \(TokenizerRecipe.all.map(\.name).joined(separator: " or "))")
            }
            let (trained, words) = try recipe.train(on: try Corpus(paths: train), vocabularySize: vocabularySize)
            try trained.save(output)
            stderrLine("wrote \(output): \(trained.vocabularySize) pieces from \(words) distinct words")
            return
        }
        guard let tokenizer else { throw ValidationError("give --tokenizer (to encode) or --train (to train)") }
        let t = try Tokenizer.load(tokenizer)
        let inputs = text.isEmpty ? Array(AnyIterator { readLine(strippingNewline: true) }) : text
        for line in inputs {
            let ids = t.encode(line, addSpecialTokens: !noSpecialTokens)
            print("[" + ids.map(String.init).joined(separator: ", ") + "]")
        }
    }
}
