"""Tk-Instruct's answer normalisation and exact match, shared by scripts/make_sni_fixtures.py and
scripts/rescore_sni.py."""
import string


# ---------------------------------------------------------------------------------------------------
# From github.com/yizhongw/Tk-Instruct, src/compute_metrics.py (MIT License, Copyright (c) 2022
# Yizhong Wang), unchanged.
def normalize_answer(s):
    """Lower text and remove punctuation, and extra whitespace."""

    def white_space_fix(text):
        return ' '.join(text.split())

    def remove_punc(text):
        exclude = set(string.punctuation)
        return ''.join(ch for ch in text if ch not in exclude)

    def lower(text):
        return text.lower()

    return white_space_fix(remove_punc(lower(s)))


def exact_match_score(prediction, ground_truth, xlingual=False):
    return (normalize_answer(prediction) == normalize_answer(ground_truth))
