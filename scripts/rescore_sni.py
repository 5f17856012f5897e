#!/usr/bin/env python3
"""Rescores an `ntng evaluate --suite sni` predictions.jsonl with the original scorers and compares
per instance: ROUGE-L by `rouge_score` (`RougeScorer(['rougeL'], use_stemmer=True)`, the best over the
stored references) and exact match by Tk-Instruct's `normalize_answer` (from its
`src/compute_metrics.py`, MIT License, Copyright (c) 2022 Yizhong Wang; copied in
scripts/tk_instruct_metrics.py). Prints the largest
differences and both overall means as JSON; exits 1 if any instance differs by more than --tolerance.

    pip install rouge-score==0.1.2 nltk==3.10.4
    python3 scripts/rescore_sni.py runs/demo-t5/evaluation-sni/predictions.jsonl
"""
import argparse
import json
import sys

from rouge_score import rouge_scorer

from tk_instruct_metrics import normalize_answer


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("predictions")
    parser.add_argument("--tolerance", type=float, default=1e-12)
    args = parser.parse_args()
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    rows = [json.loads(line) for line in open(args.predictions, encoding="utf-8") if line.strip()]
    worst_rouge = worst_em = 0.0
    worst_instance = None
    ours_rouge = theirs_rouge = ours_em = theirs_em = 0.0
    for row in rows:
        refs = row["references"]
        rouge = max(scorer.score(target=r, prediction=row["prediction"])["rougeL"].fmeasure for r in refs)
        em = max(float(normalize_answer(row["prediction"]) == normalize_answer(r)) for r in refs)
        if abs(rouge - row["rouge_l"]) > worst_rouge:
            worst_rouge, worst_instance = abs(rouge - row["rouge_l"]), row["id"]
        worst_em = max(worst_em, abs(em - row["exact_match"]))
        ours_rouge += row["rouge_l"]
        theirs_rouge += rouge
        ours_em += row["exact_match"]
        theirs_em += em
    n = max(len(rows), 1)
    print(json.dumps({
        "instances": len(rows),
        "largest_rouge_l_difference": worst_rouge, "at": worst_instance,
        "largest_exact_match_difference": worst_em,
        "rouge_l_ntng": 100 * ours_rouge / n, "rouge_l_rouge_score": 100 * theirs_rouge / n,
        "exact_match_ntng": 100 * ours_em / n, "exact_match_tk_instruct": 100 * theirs_em / n,
    }, indent=1))
    sys.exit(0 if worst_rouge <= args.tolerance and worst_em == 0 else 1)


if __name__ == "__main__":
    main()
