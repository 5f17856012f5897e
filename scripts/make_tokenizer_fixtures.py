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


def main():
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
