#!/usr/bin/env python3
"""Compares ntng's ids with Hugging Face's for a tokenizer.json on many lines of real text.

    /tmp/torchvenv/bin/python scripts/check_t5_tokenizer.py .build/release/ntng TOKENIZER.json \
        ../shared/data/wikipedia-en-wikiextractor/text 3000

Reads the first N non-empty lines (WikiExtractor `<doc>` lines skipped) of the files under the
folder, encodes each with `ntng tokenize --tokenizer` and with HF `tokenizers`, and prints how many
agree and the first disagreements. Used for the SentencePiece-converted T5 tokenizers
(`Precompiled` normaliser); Google's own T5 v1.1 tokenizer.json checks the same way.
"""
import glob
import json
import os
import subprocess
import sys

from tokenizers import Tokenizer


def lines(folder, limit):
    out = []
    for path in sorted(glob.glob(os.path.join(folder, "**", "*"), recursive=True)):
        if not os.path.isfile(path):
            continue
        for line in open(path, encoding="utf-8", errors="replace"):
            line = line.rstrip("\n")
            if line.strip() and not line.startswith("<doc") and not line.startswith("</doc"):
                out.append(line)
                if len(out) == limit:
                    return out
    return out


def main():
    binary, tokenizer, folder, limit = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    texts = lines(folder, limit)
    result = subprocess.run([binary, "tokenize", "--tokenizer", tokenizer], input="\n".join(texts) + "\n",
                            capture_output=True, text=True, check=True)
    ours = [json.loads(line) for line in result.stdout.splitlines()]
    hf = Tokenizer.from_file(tokenizer)
    theirs = [hf.encode(t).ids for t in texts]
    assert len(ours) == len(theirs), f"{len(ours)} vs {len(theirs)} lines"
    differ = [i for i in range(len(texts)) if ours[i] != theirs[i]]
    chars = sum(len(t) for t in texts)
    print(f"{len(texts) - len(differ)} of {len(texts)} lines ({chars} characters) give identical ids")
    for i in differ[:5]:
        print(f"line {i}: {texts[i][:120]!r}\n  ntng {ours[i][:20]}\n  HF   {theirs[i][:20]}")
    sys.exit(1 if differ else 0)


main()
