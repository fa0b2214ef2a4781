"""The match decision: two texts are one story only by the documented rules below.

Body rule (both texts fingerprintable, see sketch.MIN_WORDS / MIN_SHINGLES), on the
distinct shingle sets A and B:
    containment = |A∩B| / min(|A|, |B|) >= MIN_CONTAINMENT  and  jaccard >= MIN_JACCARD
Containment lets a truncated copy (first 40 % of the paragraphs: containment ~1, jaccard ~0.4)
join its original; the jaccard floor keeps a long roundup that quotes a short item whole from
joining it. Both were chosen on the labelled benchmark (bench/dedup.py --sweep): independently
written reports of one event (ECB+) reach containment up to 0.72 through shared quotes and wire
passages, generated copies stay above 0.8; at 0.8 recall drops by 0.8 points, at 0.7 precision
falls to 0.98.

Short rule (either text under MIN_WORDS words, or degenerate): bodies never decide alone.
`short_text_match` joins two items only when they come from different outlets, their titles
normalise to at least MIN_TITLE_WORDS words with word-set overlap >= MIN_TITLE_OVERLAP (wire
prefixes such as "UPDATE 2-" and outlet/agency suffixes such as "- Reuters" or "| Outlet" are
removed first), and, when both bodies have words, the shorter body's word bigrams are mostly
(>= MIN_SHORT_BODY_OVERLAP) found in the other. The same outlet repeating a title is a recurring
column or an update, never a republication. Callers restrict candidates to a time window.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import numpy as np

from worker.dedup.normalise import Shingles, normalise, shingle
from worker.dedup.sketch import matchable

MIN_CONTAINMENT = 0.75
MIN_JACCARD = 0.2
MIN_TITLE_WORDS = 4
MIN_TITLE_OVERLAP = 0.75
MIN_SHORT_BODY_OVERLAP = 0.5

_TITLE_PREFIX = re.compile(
    r"^\s*(?:(?:update|updated|corrected|refile|breaking|exclusive|urgent|wrapup)\s*\d*\s*[-:]"
    r"|(?:watch|video|live|report)\s*:)\s*",
    re.IGNORECASE,
)
_TITLE_SUFFIX = re.compile(r"\s+[-|\u2013\u2014]\s+[^-|\u2013\u2014]{2,40}$")


@dataclass(frozen=True)
class Similarity:
    jaccard: float
    containment: float  # |A∩B| / min(|A|, |B|)
    shingles_a: int
    shingles_b: int


def similarity_of(a: Shingles, b: Shingles) -> Similarity:
    """Jaccard and containment of two shingle sets (0.0 when either is empty)."""
    na, nb = len(a.hashes), len(b.hashes)
    if not na or not nb:
        return Similarity(0.0, 0.0, na, nb)
    inter = len(np.intersect1d(a.hashes, b.hashes, assume_unique=True))
    return Similarity(inter / (na + nb - inter), inter / min(na, nb), na, nb)


def similarity(a: str, b: str) -> Similarity:
    """Jaccard and containment of the shingle sets of two texts."""
    return similarity_of(shingle(a), shingle(b))


def decide(
    a: Shingles,
    b: Shingles,
    *,
    min_containment: float = MIN_CONTAINMENT,
    min_jaccard: float = MIN_JACCARD,
) -> bool:
    """Body rule on already shingled texts (False when either is too short or degenerate)."""
    if not (matchable(a) and matchable(b)):
        return False
    sim = similarity_of(a, b)
    return sim.containment >= min_containment and sim.jaccard >= min_jaccard


def is_republication(
    a: str, b: str, *, min_containment: float = MIN_CONTAINMENT, min_jaccard: float = MIN_JACCARD
) -> bool:
    """True when `b` republishes `a` (or vice versa) by the body rule."""
    return decide(shingle(a), shingle(b), min_containment=min_containment, min_jaccard=min_jaccard)


def normalise_title(title: str) -> str:
    """Title without wire prefixes and outlet/agency suffixes, normalised like body text."""
    title = (title or "").strip()
    for _ in range(2):
        title = _TITLE_PREFIX.sub("", _TITLE_SUFFIX.sub("", title))
    return " ".join(normalise(title).split())


def title_key(title: str) -> int | None:
    """Non-negative 63-bit key of the normalised title: the candidate key for short items."""
    norm = normalise_title(title)
    if len(norm.split()) < MIN_TITLE_WORDS:
        return None
    return int.from_bytes(hashlib.blake2b(norm.encode(), digest_size=8).digest(), "little") >> 1


def _bigrams(text: str) -> set[tuple[str, str]]:
    words = normalise(text).split()
    return set(zip(words, words[1:], strict=False))


def short_text_match(
    *, title_a: str, title_b: str, outlet_a: str, outlet_b: str, text_a: str = "", text_b: str = ""
) -> bool:
    """The title + outlet rule for items too short to match by body (see module docstring)."""
    if not outlet_a or not outlet_b or outlet_a.strip().casefold() == outlet_b.strip().casefold():
        return False
    wa, wb = set(normalise_title(title_a).split()), set(normalise_title(title_b).split())
    if min(len(wa), len(wb)) < MIN_TITLE_WORDS:
        return False
    if len(wa & wb) / len(wa | wb) < MIN_TITLE_OVERLAP:
        return False
    ba, bb = _bigrams(text_a), _bigrams(text_b)
    if ba and bb:
        return len(ba & bb) / min(len(ba), len(bb)) >= MIN_SHORT_BODY_OVERLAP
    return True
