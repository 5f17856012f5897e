#!/usr/bin/env python3
"""Writes the SNI fixtures the tests compare against, computed by the original code:

- Tests/NoTrainNoGainTests/Fixtures/sni/porter.tsv: `word<TAB>stem` by NLTK's `PorterStemmer()` (the
  stemmer `rouge_score` uses with `use_stemmer=True`) for the classic examples of Porter's paper and
  NLTK's docstrings plus a spread of words from the SNI task files;
- .../sni/rouge.json: ROUGE-L F-measures by `rouge_score`'s `RougeScorer(['rougeL'], use_stemmer=True)`
  (each reference and the best) and exact match by Tk-Instruct's `normalize_answer`, for hand-made edge
  cases (stemming, punctuation, case, digits, Unicode, empty text) and for predictions made from
  real SNI references;
- .../sni/prompts.json: prompts and ids made by Tk-Instruct's `DataCollatorForNI` (copied below,
  prompt code unchanged) with nanoT5's fine-tuning settings
  (definition, 2 positive examples, no negatives, no explanation, no task name) and the T5-style test
  tokenizer `hf-unigram-t5style.json` through `transformers`' fast tokenizer (decoding with
  `clean_up_tokenization_spaces=True`, the default when Tk-Instruct ran), for a few staged tasks,
  at the source limit 1,024 and at 256 (to exercise dropped examples and truncation).

    pip install rouge-score==0.1.2 nltk==3.10.4 transformers==4.46.3 tokenizers
    python3 scripts/make_sni_fixtures.py [--sni ../shared/data/super-natural-instructions]
"""
import argparse
import json
import os
import random
import re
import string
from dataclasses import dataclass
from typing import Any, Optional, Union

from nltk.stem import porter
from rouge_score import rouge_scorer
from transformers import PreTrainedTokenizerFast

from tk_instruct_metrics import exact_match_score

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "..", "Tests", "NoTrainNoGainTests", "Fixtures")
OUT = os.path.join(FIX, "sni")


# ---------------------------------------------------------------------------------------------------
# From github.com/yizhongw/Tk-Instruct, src/ni_collator.py (MIT License, Copyright (c) 2022 Yizhong
# Wang): `DataCollatorForNI`, with its `tk_instruct` branch (random encodings) and its tensor output left
# out; the prompt-building code is unchanged.
@dataclass
class DataCollatorForNI:

    tokenizer: Any
    model: Optional[Any] = None
    padding: Union[bool, str] = True
    max_source_length: Optional[int] = None
    max_target_length: Optional[int] = None
    pad_to_multiple_of: Optional[int] = None
    label_pad_token_id: int = -100
    return_tensors: str = "pt"
    add_task_name: bool = False
    add_task_definition: bool = True
    num_pos_examples: int = 0
    num_neg_examples: int = 0
    add_explanation: bool = False
    tk_instruct: bool = False
    text_only: bool=False

    def __call__(self, batch, return_tensors=None):

        if return_tensors is None:
            return_tensors = self.return_tensors

        sources = []
        for instance in batch:
            add_task_name = self.add_task_name
            add_task_definition = self.add_task_definition
            num_pos_examples = self.num_pos_examples
            num_neg_examples = self.num_neg_examples
            add_explanation = self.add_explanation 

            task_input = ""
            # add the input first.
            task_input += "Now complete the following example -\n"
            task_input += f"Input: {instance['Instance']['input'].strip()}"
            if not task_input[-1] in string.punctuation:
                task_input += "."
            task_input += "\n"
            task_input += "Output: "
            
            task_name = ""
            if add_task_name:
                task_name += instance["Task"] + ". "

            definition = ""
            if add_task_definition:
                if isinstance(instance["Definition"], list):
                    definition = "Definition: " + instance["Definition"][0].strip() # TODO: should we use <Definition>?
                else:
                    definition = "Definition: " + instance["Definition"].strip()
                if not definition[-1] in string.punctuation:
                    definition += "."
                definition += "\n\n"
            
            # try to add positive examples.
            pos_examples = []
            for idx, pos_example in enumerate(instance["Positive Examples"][:num_pos_examples]):
                pos_example_str = f" Positive Example {idx+1} -\n"
                pos_example_str += f"Input: {pos_example['input'].strip()}"
                if not pos_example_str[-1] in string.punctuation:
                    pos_example_str += "."
                pos_example_str += "\n"
                pos_example_str += f" Output: {pos_example['output'].strip()}"
                if not pos_example_str[-1] in string.punctuation:
                    pos_example_str += "."
                pos_example_str += "\n" 
                if add_explanation and "explanation" in pos_example:
                    pos_example_str += f" Explanation: {pos_example['explanation'].strip()}"
                    if not pos_example_str[-1] in string.punctuation:
                        pos_example_str += "."
                    pos_example_str += "\n"
                pos_example_str += "\n"
                if len(self.tokenizer(definition + " ".join(pos_examples) + pos_example_str + task_input)["input_ids"]) <= self.max_source_length:
                    pos_examples.append(pos_example_str)
                else:
                    break
            
            # try to add negative examples.
            neg_examples = []
            for idx, neg_example in enumerate(instance["Negative Examples"][:num_neg_examples]):
                neg_example_str = f" Negative Example {idx+1} -\n"
                neg_example_str += f"Input: {neg_example['input'].strip()}"
                if not neg_example_str[-1] in string.punctuation:
                    neg_example_str += "."
                neg_example_str += "\n"
                neg_example_str += f" Output: {neg_example['output'].strip()}"
                if not neg_example_str[-1] in string.punctuation:
                    neg_example_str += "."
                neg_example_str += "\n"
                if add_explanation and "explanation" in neg_example:
                    neg_example_str += f" Explanation: {neg_example['explanation'].strip()}"
                    if not neg_example_str[-1] in string.punctuation:
                        neg_example_str += "."
                    neg_example_str += "\n"
                neg_example_str += "\n"
                if len(self.tokenizer(definition + " ".join(pos_examples) + " ".join(neg_examples) + neg_example_str + task_input)["input_ids"]) <= self.max_source_length:
                    neg_examples.append(neg_example_str)
                else:
                    break 
            
            source = task_name + definition + "".join(pos_examples) + "".join(neg_examples) + task_input
            tokenized_source = self.tokenizer(source)["input_ids"]
            if len(tokenized_source) <= self.max_source_length:
                sources.append(source)
            else:
                sources.append(self.tokenizer.decode(tokenized_source[:self.max_source_length], skip_special_tokens=True))

        return {"inputs": sources}
# ---------------------------------------------------------------------------------------------------


# Porter's paper, NLTK's docstrings and the rules' corner cases.
CLASSIC = """caresses ponies ties caress cats feed agreed plastered bled motoring sing conflated troubled sized
hopping tanned falling hissing fizzed failing filing happy sky relational conditional rational valenci
hesitanci digitizer conformabli radicalli differentli vileli analogousli vietnamization predication operator
feudalism decisiveness hopefulness callousness formaliti sensitiviti sensibiliti triplicate formative
formalize electriciti electrical hopeful goodness revival allowance inference airliner gyroscopic adjustable
defensible irritant replacement adjustment dependent adoption homologou communism activate angulariti
homologous effective bowdlerize probate rate cease controll roll skies dying lying tying news innings inning
outings outing cannings canning howe proceed exceed succeed dies died spied tried flies enjoy enjoyment
generously generalization archaeology geology theology analogies fulli carefully totally y ys yes is as
sses ies ied eed ing ed syzygy toy trouble oed bies cries ably ably abli generate generations
""".split()


def porter_words(tasks):
    words = set(CLASSIC)
    for task in tasks:
        texts = [task["Definition"][0]] + [e["input"] + " " + e["output"] for e in task["Positive Examples"]]
        texts += [i["input"][:400] + " " + " ".join(i["output"]) for i in task["Instances"][:20]]
        for text in texts:
            words.update(w for w in re.split(r"[^a-z0-9]+", text.lower()) if w)
    ordered = sorted(words)
    step = max(1, len(ordered) // 6000)
    chosen = sorted(set(ordered[::step]) | set(CLASSIC))
    stemmer = porter.PorterStemmer()
    return [(w, stemmer.stem(w)) for w in chosen]


EDGE = [
    ("The cats are running quickly.", ["the cat runs quick"]),
    ("running runs ran runner", ["run", "runs running"]),
    ("", ["anything at all"]),
    ("something", [""]),
    ("!!! ... ???", ["..."]),
    ("Hello, World!", ["hello world", "Hello world."]),
    ("3.14 is pi; 42 is the answer", ["the answer is 42", "pi is 3 14"]),
    ("Café naïve résumé", ["cafe naive resume", "Café naïve résumé"]),
    ("ΟΔΟΣ", ["οδος", "ΟΔΟΣ"]),
    ("İstanbul KELVIN", ["istanbul kelvin", "i̇stanbul kelvin"]),
    ("don't can't won't", ["do not can not will not", "dont cant wont"]),
    ("e-mail well-known state-of-the-art", ["email well known state of the art"]),
    ("Yes", ["yes", "no"]),
    ("No.", ["yes", "NO"]),
    ("  spaced\tout\ntext  ", ["spaced out text"]),
    ("generalizations of relational conditions", ["generalize relate condition"]),
    ("a a a a b", ["a b a b a"]),
    ("the the the", ["the"]),
    ("东京 is a city", ["东京 city", "tokyo is a city"]),
    ("under_score and CamelCase", ["under score and camelcase"]),
    ("x" * 50, ["x" * 50 + " y"]),
    ("The quick brown fox jumps over the lazy dog",
     ["A quick brown dog jumps over the lazy fox", "The fast brown fox leaps over a lazy dog"]),
]


def rouge_cases(tasks, rng):
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    cases = [(p, refs, "edge") for p, refs in EDGE]
    for task in tasks:
        instances = task["Instances"][:5]
        for k, instance in enumerate(instances):
            refs = instance["output"]
            other = instances[(k + 1) % len(instances)]["output"][0]
            first = refs[0]
            variants = [
                first.upper() + "!!",
                other,
                " ".join(first.split()[: max(1, len(first.split()) // 2)]),
                " ".join(instance["input"].split()[:12]),
            ]
            cases.append((variants[rng.randrange(len(variants))], refs, task["Task"]))
    out = []
    for prediction, refs, source in cases:
        each = [scorer.score(target=r, prediction=prediction)["rougeL"].fmeasure for r in refs]
        out.append({
            "source": source, "prediction": prediction, "references": refs, "rouge_l_each": each,
            "rouge_l": max(each), "exact_match": max(float(exact_match_score(prediction, r)) for r in refs),
        })
    return out


def trimmed(task, instances):
    keep = ["Definition", "Positive Examples", "Negative Examples", "Categories", "Input_language",
            "Output_language", "Instruction_language"]
    out = {k: task[k] for k in keep if k in task}
    out["Instances"] = instances
    return out


def prompt_cases(tasks, rng):
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_file=os.path.join(FIX, "hf-unigram-t5style.json"), eos_token="</s>", unk_token="<unk>",
        pad_token="<pad>", clean_up_tokenization_spaces=True)
    out = []
    for task in tasks:
        instances = task["Instances"][:3]
        cases = []
        for limit in (1024, 256):
            collator = DataCollatorForNI(
                tokenizer, max_source_length=limit, max_target_length=128, add_task_definition=True,
                num_pos_examples=2, num_neg_examples=0, add_explanation=False, text_only=True)
            for instance in instances:
                example = dict(task, Instance=instance)
                source = collator([example])["inputs"][0]
                label = rng.choice(instance["output"])
                cases.append({
                    "instance": instance["id"], "max_source_length": limit, "source": source,
                    "input_ids": tokenizer(source, max_length=limit, truncation=True)["input_ids"],
                    "label": label,
                    "label_ids": tokenizer(label, max_length=128, truncation=True)["input_ids"],
                })
        out.append({"task": task["Task"], "file": trimmed(task, instances), "cases": cases})
    return out


def load(sni, names):
    tasks = []
    for name in names:
        with open(os.path.join(sni, "tasks", name + ".json"), encoding="utf-8") as f:
            task = json.load(f)
        task["Task"] = name
        tasks.append(task)
    return tasks


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sni", default=os.path.join(HERE, "..", "..", "shared", "data",
                                                      "super-natural-instructions"))
    args = parser.parse_args()
    with open(os.path.join(args.sni, "splits", "staged", "test_tasks.txt")) as f:
        test = [line.strip() for line in f if line.strip()]
    with open(os.path.join(args.sni, "splits", "staged", "train_tasks.txt")) as f:
        train = [line.strip() for line in f if line.strip()]
    rng = random.Random(2137)
    os.makedirs(OUT, exist_ok=True)

    words = porter_words(load(args.sni, test[:40]))
    with open(os.path.join(OUT, "porter.tsv"), "w", encoding="utf-8") as f:
        f.write("".join(f"{w}\t{s}\n" for w, s in words))

    cases = rouge_cases(load(args.sni, test[:60]), rng)
    with open(os.path.join(OUT, "rouge.json"), "w", encoding="utf-8") as f:
        json.dump(cases, f, ensure_ascii=False, indent=1)

    prompts = prompt_cases(load(args.sni, test[:4] + train[:2]), rng)
    with open(os.path.join(OUT, "prompts.json"), "w", encoding="utf-8") as f:
        json.dump(prompts, f, ensure_ascii=False, indent=1)
    print(f"{len(words)} Porter words, {len(cases)} ROUGE cases, "
          f"{sum(len(p['cases']) for p in prompts)} prompts -> {OUT}")


if __name__ == "__main__":
    main()
