"""Estimated share of articles holding an index key, to file each topic under its rarest terms.

Word frequencies come from wordfreq (English list, which also covers names and loanwords seen in
English news); words it does not know count as rare. Without wordfreq installed a length
heuristic is used. Either way only the number of candidate topics per article changes, never
which topics match: every candidate is evaluated exactly.
"""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def _word_frequency():  # noqa: ANN202
    """wordfreq's lookup, imported on first use (it costs most of a second at start-up)."""
    try:
        from wordfreq import word_frequency
    except ImportError:  # pragma: no cover - exercised only where wordfreq is missing
        return None
    return word_frequency

ARTICLE_WORDS = 800  # typical article length the estimate is made for
FIELD_SHARE = {
    "lang": 0.5,
    "wire": 0.1,
    "source": 0.05,
    "feed": 0.05,
}  # one value's share of the stream


@lru_cache(maxsize=200_000)
def word_share(word: str) -> float:
    """Estimated share of articles containing `word` (normalised) at least once."""
    word_frequency = _word_frequency()
    if word_frequency is None:
        return min(1.0, 0.5 / len(word) ** 2)
    per_word = max(word_frequency(word, "en"), 1e-8)
    return min(1.0, per_word * ARTICLE_WORDS)


def key_cost(kind: str, field: str, value: str) -> float:
    """Estimated share of articles holding the key ("w" word or "p" prefix, in `field`)."""
    if field in FIELD_SHARE:  # metadata: wire:Reuters, lang:en
        return min(1.0, FIELD_SHARE[field] * (2 if kind == "p" else 1))
    share = word_share(value)
    if kind == "p":  # a prefix stands for several words; short ones for very many
        share = min(1.0, share * 10 + 0.2 ** len(value))
    return share
