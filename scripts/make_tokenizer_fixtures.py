#!/usr/bin/env python3
"""Writes tokenizer fixtures for the tests, computed by Hugging Face `tokenizers`:
- hf-bert-wordpiece.json (a BERT-style tokenizer.json: BertNormalizer, BertPreTokenizer, WordPiece)
  → hf-bert-wordpiece-ids.json: ids of the test texts;
- hf-unigram-t5style.json (a T5-style Unigram tokenizer.json: NFKC, Metaspace, `$A </s>`)
  → hf-unigram-t5style-ids.json;
- hf-cramming-wordpiece.json: a cramming-style tokenizer (cramming's normaliser sequence, Whitespace
  pre-tokenizer, `$A <sep>` template) trained by HF on a slice of the demo corpus
  → hf-cramming-wordpiece-ids.json.
With --check PATH it instead loads a tokenizer.json written by ntng and prints HF's ids for the
texts, for comparison with ours.

With --ntng BINARY it writes the fixtures of our own trainers instead: tokenizer-corpus.txt (the
first documents of the demo corpus, one paragraph each), ntng-wordpiece.json and ntng-unigram.json
(trained on it by `BINARY tokenize --train`), and ntng-{wordpiece,unigram}-hf-ids.json: the ids
Hugging Face `tokenizers` gives with those files, for the texts and the corpus's first lines.
The tests check that our trainers still write these files and that ntng's ids equal HF's.

    /tmp/torchvenv/bin/python scripts/make_tokenizer_fixtures.py --ntng .build/release/ntng

With --sentencepiece it writes the fixture of a real T5-style tokenizer.json instead: a SentencePiece
Unigram model trained on tokenizer-corpus.txt with T5's normalisation rules (`nmt_nfkc`, whose
compiled table becomes the `Precompiled` normaliser) and T5's special ids, converted by
`transformers`' T5 converter exactly as Hugging Face converts Google's T5 tokenizer, as
hf-t5-sentencepiece.json, and HF's ids (hf-t5-sentencepiece-ids.json) for the texts, Unicode texts
that exercise the normalisation table and the corpus's first lines; and a small one whose table holds
five hand-written rules (hf-t5-sentencepiece-rules.json, a 1 KB charsmap: the fuzzers' seed), with
its ids.

    /tmp/torchvenv/bin/pip install sentencepiece protobuf
    /tmp/torchvenv/bin/python scripts/make_tokenizer_fixtures.py --sentencepiece

    /tmp/torchvenv/bin/pip install tokenizers==0.23.3
    /tmp/torchvenv/bin/python scripts/make_tokenizer_fixtures.py
"""
import glob
import json
import os
import re
import subprocess
import sys

import tokenizers
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "..", "Tests", "NoTrainNoGainTests", "Fixtures")
TEXTS = [
    "Hello, world! This is a test.",
    "Café naïve résumé: the loss fell to 2.31 after 10,000 steps. 東京",
    "``Quoted'' text   with    many spaces\tand\ttabs\nand newlines.",
    "[CLS] masked [MASK] tokens [SEP] inside text",
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "Ünïcödé ÀÉÎÕÜ ñ ç ß ø æ — “curly quotes” and ‘single’ … ellipsis",
    "e-mail: someone@example.com, URL https://example.org/path?x=1&y=2",
    "Numbers 3.14159 and 1,234,567 and -42; symbols #$%^&*()_+=",
    "x" * 120,
    "Überraschung! naïve café — ünicode ☃ 東京 emoji 🙂 mixed",
    "  leading and trailing spaces  ",
    "",
    "   ",
    "The quick brown fox jumps over the lazy dog. " * 3,
]


def encode_all(tok):
    return [{"text": t, "ids": tok.encode(t).ids} for t in TEXTS]


def corpus_slice(limit=40_000):
    """The first documents of the demo corpus (title line dropped, lines joined), about `limit` bytes."""
    text = open(os.path.join(HERE, "..", "Resources", "demo-corpus", "text", "AA", "wiki_00"), encoding="utf-8").read()
    docs, size = [], 0
    for body in re.findall(r"<doc [^>]*>\n(.*?)</doc>", text, re.S):
        joined = " ".join(line for line in body.split("\n")[1:] if line.strip())
        if joined:
            docs.append(joined)
            size += len(joined.encode())
        if size > limit:
            break
    return docs


def ntng_fixtures(binary):
    docs = corpus_slice()
    corpus = os.path.join(FIX, "tokenizer-corpus.txt")
    with open(corpus, "w", encoding="utf-8") as f:
        f.write("\n\n".join(docs) + "\n")
    texts = TEXTS + [d[:300] for d in docs[:20]]
    for kind in ["wordpiece", "unigram"]:
        path = os.path.join(FIX, f"ntng-{kind}.json")
        subprocess.run([binary, "tokenize", "--train", corpus, "--kind", kind, "--vocabulary-size", "600",
                        "--output", path], check=True)
        tok = Tokenizer.from_file(path)
        cases = [{"text": t, "ids": tok.encode(t).ids} for t in texts]
        json.dump({"generator": f"tokenizers {tokenizers.__version__}", "cases": cases},
                  open(os.path.join(FIX, f"ntng-{kind}-hf-ids.json"), "w"), ensure_ascii=False, indent=1)
    print("wrote ntng tokenizer fixtures to", os.path.normpath(FIX))


# Text the nmt_nfkc table rewrites: full-width and half-width forms, ligatures, circled and Roman
# numerals, compatibility spaces, control characters, combining sequences, Hangul, emoji sequences.
UNICODE_TEXTS = [
    "ＦＵＬＬ－ｗｉｄｔｈ　ｔｅｘｔ １２３！ and ｶﾀｶﾅ ﾊﾟﾝ",
    "ligatures ﬁ ﬂ ﬀ ﬃ, ① ② ⑩, Ⅻ ⅷ, ½ ¼, ㎏ ㎡ ℃ №",
    "no\u00a0break\u2009thin\u3000ideographic\u200bzero-width",
    "tab\there\r\nwindows line\x0bvertical\x0cform\x07bell",
    "e\u0301 vs é, n\u0303 vs ñ, A\u030a vs Å, ﬀ\u0301",
    "한국어 텍스트 각, 日本語のテキスト、中文文本。",
    "emoji 👍🏽 👨‍👩‍👧 🇩🇪 ❤️ and symbols ™ © ®",
    "Ｔｈｅ ｑｕｉｃｋ ﾌﾞﾗｳﾝ ｆｏｘ",
    "mixed   spaces\u00a0\u00a0and\u2003em",
    "trailing spaces and tabs \t \u3000 ",
]


# Hand-written SentencePiece rules (source code points -> target code points): full-width A and B, the
# fi ligature, A + combining acute -> Á, the ideographic space.
RULES = "FF21\t41\nFF22\t42\nFB01\t66 69\n41 301\tC1\n3000\t20\n"
RULE_TEXTS = ["ＡＢ ﬁne", "A\u0301 and Á and A\u0301\u0301", "a\u3000b\u3000\u3000c", "ＡＡＢ ﬁﬁ A", "plain ascii"]


def sentencepiece_fixtures():
    import tempfile

    import sentencepiece as spm
    from transformers import T5Tokenizer
    from transformers.convert_slow_tokenizer import convert_slow_tokenizer

    corpus = os.path.join(FIX, "tokenizer-corpus.txt")
    lines = [line for line in open(corpus, encoding="utf-8").read().split("\n") if line.strip()][:20]
    generator = f"sentencepiece {spm.__version__}, tokenizers {tokenizers.__version__}"
    for name, vocab, extra, texts, rules in [
        ("hf-t5-sentencepiece", 800, 100, TEXTS + UNICODE_TEXTS + [line[:300] for line in lines], None),
        ("hf-t5-sentencepiece-rules", 300, 4, TEXTS + RULE_TEXTS, RULES),
    ]:
        with tempfile.TemporaryDirectory() as tmp:
            prefix = os.path.join(tmp, "t5")
            options = {"normalization_rule_name": "nmt_nfkc"}
            if rules:
                open(prefix + ".tsv", "w").write(rules)
                options = {"normalization_rule_tsv": prefix + ".tsv"}
            spm.SentencePieceTrainer.train(
                input=corpus, model_prefix=prefix, vocab_size=vocab, model_type="unigram", pad_id=0, eos_id=1,
                unk_id=2, bos_id=-1, character_coverage=1.0, minloglevel=2, **options)
            fast = convert_slow_tokenizer(T5Tokenizer(prefix + ".model", extra_ids=extra, legacy=True))
        path = os.path.join(FIX, name + ".json")
        fast.save(path)
        tok = Tokenizer.from_file(path)
        cases = [{"text": t, "ids": tok.encode(t).ids} for t in texts]
        json.dump({"generator": generator, "cases": cases}, open(os.path.join(FIX, name + "-ids.json"), "w"),
                  ensure_ascii=False, indent=1)
        print("wrote", os.path.normpath(path), "and its ids")


def main():
    if len(sys.argv) == 2 and sys.argv[1] == "--sentencepiece":
        sentencepiece_fixtures()
        return
    if len(sys.argv) == 3 and sys.argv[1] == "--ntng":
        ntng_fixtures(sys.argv[2])
        return
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        tok = Tokenizer.from_file(sys.argv[2])
        print(json.dumps(encode_all(tok)))
        return
    unigram = Tokenizer.from_file(os.path.join(FIX, "hf-unigram-t5style.json"))
    json.dump({"generator": "tokenizers 0.23.3", "cases": encode_all(unigram)},
              open(os.path.join(FIX, "hf-unigram-t5style-ids.json"), "w"), ensure_ascii=False, indent=1)
    bert = Tokenizer.from_file(os.path.join(FIX, "hf-bert-wordpiece.json"))
    json.dump({"generator": "tokenizers 0.23.3", "cases": encode_all(bert)},
              open(os.path.join(FIX, "hf-bert-wordpiece-ids.json"), "w"), ensure_ascii=False, indent=1)

    tok = Tokenizer(models.WordPiece(unk_token="<unk>", continuing_subword_prefix="##", max_input_chars_per_word=100))
    tok.normalizer = normalizers.Sequence([
        normalizers.Replace("``", '"'), normalizers.Replace("''", '"'), normalizers.NFD(), normalizers.Lowercase(),
        normalizers.StripAccents(), normalizers.Replace(Regex(" {2,}"), " "),
        normalizers.Replace(Regex(r"[^\x00-\x7F]+"), "")])
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.decoder = decoders.WordPiece(prefix="##", cleanup=True)
    specials = ["<pad>", "<s>", "</s>", "<unk>", "<cls>", "<sep>", "<mask>"]
    trainer = trainers.WordPieceTrainer(vocab_size=600, min_frequency=1, special_tokens=specials,
                                        continuing_subword_prefix="##")
    corpus = sorted(glob.glob(os.path.join(HERE, "..", "Resources", "demo-corpus", "text", "AA", "wiki_*")))[:1]
    text = open(corpus[0], encoding="utf-8").read()[:200_000]
    tok.train_from_iterator([text], trainer)
    sep, cls = tok.token_to_id("<sep>"), tok.token_to_id("<cls>")
    tok.post_processor = processors.TemplateProcessing(single="$A <sep>", pair="<cls> $A <sep> $B <sep>",
                                                       special_tokens=[("<sep>", sep), ("<cls>", cls)])
    tok.save(os.path.join(FIX, "hf-cramming-wordpiece.json"))
    json.dump({"generator": "tokenizers 0.23.3", "cases": encode_all(tok)},
              open(os.path.join(FIX, "hf-cramming-wordpiece-ids.json"), "w"), ensure_ascii=False, indent=1)
    print("wrote fixtures to", os.path.normpath(FIX))


main()
