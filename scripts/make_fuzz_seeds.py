#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (Tests/Fuzz/seeds/<target>/) from files in this
repository and a few lines of the shared task data. Run from the repository root:

    python3 scripts/make_fuzz_seeds.py [--run runs/<a small run>] [--data ../shared/data]

--run: a finished `ntng pretrain` run whose checkpoint/state.json and metrics.jsonl become seeds.
Seeds are kept small (libFuzzer mutates them; scripts/fuzz.sh caps inputs at 64 KiB)."""
import argparse, glob, gzip, json, os, shutil, struct

parser = argparse.ArgumentParser()
parser.add_argument("--run", default=None)
parser.add_argument("--data", default="../shared/data")
args = parser.parse_args()
root = "Tests/Fuzz/seeds"


def put(target, name, data):
    os.makedirs(f"{root}/{target}", exist_ok=True)
    with open(f"{root}/{target}/{name}", "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def head(path, lines):
    with open(path, encoding="utf-8") as f:
        return "".join(line for _, line in zip(range(lines), f))


for path in sorted(glob.glob("Tests/NoTrainNoGainTests/Fixtures/hf-*.json")):
    # (hf-t5-sentencepiece.json's 320 KB normalisation table is left to its small sibling's seed.)
    if not path.endswith("-ids.json") and os.path.getsize(path) < 100_000:
        put("tokenizer-json", os.path.basename(path), open(path, "rb").read())

# A safetensors file of two small tensors with metadata, as SafeTensors.write lays it out.
header = {"__metadata__": {"format": "pt"},
          "a": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
          "b": {"dtype": "I32", "shape": [3], "data_offsets": [16, 28]}}
text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
text += b" " * ((8 - (8 + len(text)) % 8) % 8)
put("safetensors", "small.safetensors",
    struct.pack("<Q", len(text)) + text + struct.pack("<4f", 1, 2, 3, 4) + struct.pack("<3i", 5, 6, 7))

for path in sorted(glob.glob("Resources/configs/*.yaml")):
    put("config-yaml", os.path.basename(path), open(path, "rb").read())
for path in sorted(glob.glob("Resources/experiments/*.yaml")):
    put("experiment-yaml", os.path.basename(path), open(path, "rb").read())
for path in sorted(glob.glob("Resources/cost-tables/*.json")):
    put("cost-table", os.path.basename(path), open(path, "rb").read())
if args.run:
    put("checkpoint-state", "state.json", open(f"{args.run}/checkpoint/state.json", "rb").read())
    put("run-log", "metrics.jsonl", open(f"{args.run}/metrics.jsonl", "rb").read()[:60000])

wiki = sorted(glob.glob("Resources/demo-corpus/text/*/wiki_*"))[0]
sample = head(wiki, 40)
put("wikiextractor", "wiki_00", sample[: sample.rfind("</doc>") + 7] if "</doc>" in sample else sample)
paragraphs = [p for p in sample.split("\n") if p and not p.startswith("<")][:6]
put("corpus-text", "corpus.txt", "\n\n".join(paragraphs) + "\n")
lines = "".join(json.dumps({"text": p, "id": i}) + "\n" for i, p in enumerate(paragraphs))
put("corpus-jsonl", "corpus.jsonl", lines)
put("corpus-gzip", "corpus.json.gz", gzip.compress(lines.encode(), mtime=0))

for path in sorted(glob.glob(f"{args.data}/glue/*/train.tsv")):
    put("glue-tsv", os.path.basename(os.path.dirname(path)) + ".tsv", head(path, 6))
for folder in sorted(glob.glob(f"{args.data}/superglue/*/")):
    for split in ("train.jsonl", "val.jsonl"):
        if os.path.exists(folder + split):
            put("superglue-jsonl", os.path.basename(os.path.dirname(folder)) + ".jsonl", head(folder + split, 1))
            break
sni = f"{args.data}/super-natural-instructions"
if os.path.exists(f"{sni}/splits/staged/test_tasks.txt"):
    names = [n.strip() for n in open(f"{sni}/splits/staged/test_tasks.txt") if n.strip()][:3]
    for name in names:
        task = json.load(open(f"{sni}/tasks/{name}.json", encoding="utf-8"))
        task["Instances"] = task["Instances"][:3]
        task["Positive Examples"] = task["Positive Examples"][:2]
        task["Negative Examples"] = task["Negative Examples"][:1]
        put("sni-task-json", name + ".json", json.dumps(task, ensure_ascii=False, indent=1))
    task["Definition"] = task["Definition"][0]
    put("sni-task-json", "definition-string.json", json.dumps(task, ensure_ascii=False))
print("seeds:", {t: len(os.listdir(f"{root}/{t}")) for t in sorted(os.listdir(root))})
