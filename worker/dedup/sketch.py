"""Fingerprints: an exact content hash, a datasketch MinHash and LSH band keys for one text.

A text fingerprints to None when it is too short or too repetitive to match by its body:
fewer than MIN_WORDS words (word-equivalents for CJK/Thai) or fewer than MIN_SHINGLES distinct
shingles (one word repeated 10,000 times has one shingle). Such texts are matched only by
`short_text_match` (title + outlet rule).

Band keys: the first BANDS * ROWS of the NUM_PERM MinHash values are cut into BANDS bands of
ROWS values; each band is hashed together with its band index and SCHEME_VERSION into a
non-negative 63-bit int, so all bands of all articles go into one indexed BIGINT column and two
texts are candidates when they share any key. Changing NUM_PERM, ROWS, the shingling or the seed
requires bumping SCHEME_VERSION (old keys then simply never collide with new ones); changing
BANDS does not (band b's key stays the same), which is how BANDS went from 64 to 32 without
rebuilding the index.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cache, cached_property

import numpy as np

from worker.dedup.normalise import Shingles, fmix64, shingle

NUM_PERM = 128
ROWS = 2
BANDS = 32  # one index row each per article: the index's size and the per-article cost
SEED = 1
SCHEME = "affine32"
SCHEME_VERSION = 1
MIN_WORDS = 50
MIN_SHINGLES = 30


@dataclass(frozen=True)
class Fingerprint:
    content_hash: str  # sha256 hex of the normalised text (exact layer)
    bands: tuple[int, ...]  # BANDS non-negative 63-bit keys, band index mixed in
    word_count: int
    script: str  # "latin" | "cjk" | "arabic" | ... (see normalise.detect_script)
    hashes: np.ndarray = field(repr=False, compare=False)  # the text's shingle hashes

    @property
    def shingle_count(self) -> int:
        return len(self.hashes)

    @cached_property
    def minhash(self) -> tuple[int, ...]:
        """The NUM_PERM 32-bit datasketch MinHash hash values (affine32). Worked out when
        asked for: the bands need only the first BANDS * ROWS of them, and half the
        permutations cost a quarter of the time (their table stays in the processor's cache)."""
        return tuple(minhash_values(self.hashes).tolist())


@cache
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    """datasketch's "affine32" permutation parameters (a odd, b), drawn as MinHash draws them,
    without importing datasketch: it pulls in SciPy, 1-2 s of CPU at each worker's first
    article. tests/test_dedup_stage.py checks they equal `MinHash(...).permutations`."""
    gen = np.random.RandomState(SEED)
    a = gen.randint(0, 1 << 31, NUM_PERM, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, NUM_PERM, dtype=np.uint32)
    return a, b


def _fmix32(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def minhash_values(hashes: np.ndarray, count: int = NUM_PERM) -> np.ndarray:
    """datasketch MinHash(scheme="affine32") hash values of 64-bit shingle hashes, vectorised
    (the first `count` of them).

    Same arithmetic as ``MinHash.update_batch`` (fmix32 pre-mix, then ``a*h+b mod 2**32`` with
    datasketch's own permutation parameters), minus its per-item Python hash call, which costs
    more than the rest of fingerprinting; tests/test_dedup_stage.py checks both agree.
    """
    folded = (((hashes >> np.uint64(32)) ^ hashes) & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    with np.errstate(over="ignore"):
        a, b = _permutations()
        permuted = _fmix32(folded)[:, None] * a[None, :count] + b[None, :count]
    return permuted.min(axis=0)


def band_keys(values: np.ndarray) -> tuple[int, ...]:
    """One non-negative 63-bit key per band (band index and scheme version mixed in)."""
    rows = np.asarray(values, dtype=np.uint64)[: BANDS * ROWS].reshape(BANDS, ROWS)
    with np.errstate(over="ignore"):
        acc = np.arange(BANDS, dtype=np.uint64) + np.uint64(SCHEME_VERSION << 32)
        for r in range(ROWS):
            acc = fmix64(acc * np.uint64(0x9E3779B97F4A7C15) + rows[:, r])
    return tuple((acc >> np.uint64(1)).tolist())


def matchable(sh: Shingles) -> bool:
    """True when a text has enough words and distinct shingles to be matched by its body."""
    return sh.word_count >= MIN_WORDS and len(sh.hashes) >= MIN_SHINGLES


def strip_title(text: str, title: str | None) -> str:
    """Drop a leading line equal to the title (extractors often repeat the headline)."""
    if not title:
        return text
    head, sep, rest = text.lstrip().partition("\n")
    if " ".join(head.split()).casefold() == " ".join(title.split()).casefold():
        return rest
    return text


def fingerprint(text: str, *, title: str | None = None) -> Fingerprint | None:
    """Fingerprint `text`; None when it is too short or repetitive to match by body."""
    return fingerprint_of(shingle(strip_title(text or "", title)))


def fingerprint_of(sh: Shingles) -> Fingerprint | None:
    """The fingerprint of a text's shingles (see `fingerprint`)."""
    if not matchable(sh):
        return None
    return Fingerprint(
        content_hash=content_hash_of(sh.normalised),
        bands=band_keys(minhash_values(sh.hashes, BANDS * ROWS)),
        word_count=sh.word_count,
        script=sh.script,
        hashes=sh.hashes,
    )


def content_hash_of(normalised: str) -> str:
    """sha256 hex of normalised text, paragraph breaks ignored (the exact-duplicate layer)."""
    return hashlib.sha256(" ".join(normalised.split()).encode()).hexdigest()
