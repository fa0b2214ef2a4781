"""Extraction quality metric: mean per-page F1 of word 4-gram shingle sets (tests and bench)."""

from __future__ import annotations

import re
from collections.abc import Iterable

_WORD = re.compile(r"\w+", re.UNICODE)
SHINGLE_SIZE = 4


def shingles(text: str | None, *, size: int = SHINGLE_SIZE) -> set[tuple[str, ...]]:
    """Lower-cased word n-grams of `text`; a text shorter than `size` words is one shingle."""
    words = _WORD.findall((text or "").lower())
    if not words:
        return set()
    if len(words) < size:
        return {tuple(words)}
    return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}


def page_scores(predicted: str | None, expected: str | None) -> tuple[float, float, float]:
    """(precision, recall, F1) of one page; empty-vs-empty counts as a perfect 1.0."""
    got, want = shingles(predicted), shingles(expected)
    if not got and not want:
        return 1.0, 1.0, 1.0
    if not got or not want:
        return 0.0, 0.0, 0.0
    overlap = len(got & want)
    precision, recall = overlap / len(got), overlap / len(want)
    if overlap == 0:
        return precision, recall, 0.0
    return precision, recall, 2 * precision * recall / (precision + recall)


def page_f1(predicted: str | None, expected: str | None) -> float:
    """F1 of one page (see page_scores)."""
    return page_scores(predicted, expected)[2]


def mean_f1(pairs: Iterable[tuple[str | None, str | None]]) -> float:
    """Mean over pages of page_f1(predicted, expected); 0.0 for no pages."""
    scores = [page_f1(got, want) for got, want in pairs]
    return sum(scores) / len(scores) if scores else 0.0
