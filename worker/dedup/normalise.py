"""Text normalisation and shingling: the same story text always yields the same shingle hashes.

Rules (decided on the republication benchmark, see bench/dedup.py):

* Unicode NFKC, then case-folding.
* Wire credits and datelines are removed so they never affect a fingerprint: a leading
  ``LONDON (Reuters) -`` / ``(AP) —`` dateline, and whole credit lines such as
  ``Source: Reuters``, ``Reporting by …; Editing by …``, ``Copyright … Associated Press``,
  ``With inputs from PTI``.
* Accents: Latin/Greek/Cyrillic combining diacritics and Arabic harakat/tatweel are stripped
  (copies of one story differ in diacritics more often than two stories differ only there).
  Other combining marks (Indic vowel signs, Thai tone marks) are kept: they carry the words.
* Punctuation is dropped; tokens are runs of word characters.
* Shingles never cross a paragraph (line) break, so chrome lines shorter than the shingle
  size ("Advertisement", "Leave a Reply", "Click to comment") contribute nothing.
* Space-separated scripts shingle word n-grams (WORD_NGRAM); CJK, Thai, Lao, Khmer, Myanmar
  and Tibetan shingle character n-grams (CHAR_NGRAM), Latin words inside them stay one token.
* Shingle hashes are 64-bit: blake2b per distinct token, then a vectorised positional mix.
  (datasketch leaves shingle hashing to the caller; this is that part.)
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from dataclasses import dataclass

import numpy as np

WORD_NGRAM = 5
CHAR_NGRAM = 5
CHARS_PER_WORD = 1.5  # CJK/Thai characters per word-equivalent, for the 50-word rule
MAX_CHARS = 100_000  # text beyond this is ignored (a 1 MB page costs no more than 100 kB)
MAX_TOKENS = 20_000  # tokens beyond this are ignored

AGENCIES = (
    r"reuters|ap|afp|apf|ansa|aap|ians|pti|upi|dpa|efe|kyodo|yonhap|xinhua|bloomberg|cnn|"
    r"bernama|anadolu|tass|itar-tass|interfax|press association|pa|pa media|ani|cp|"
    r"the associated press|associated press|agence france-presse"
)
# "LONDON (Reuters) - ", "WASHINGTON, Nov 5 (Reuters) -", "(AP) — ", "PARIS (AFP) -"
_DATELINE = re.compile(
    r"^[^\n()]{0,60}?\((?:" + AGENCIES + r")\)\s*(?:[-\u2010-\u2015:]+\s*)?",
    re.IGNORECASE | re.MULTILINE,
)
# Every dateline holds an agency in parentheses: a text without one is not searched line by line.
_AGENCY_IN_PARENS = re.compile(r"\((?:" + AGENCIES + r")\)", re.IGNORECASE)
_CREDIT_LINE = re.compile(
    r"^\W*(?:"
    r"(?:additional\s+|\(\s*)?(?:reporting|writing|editing|compiled|produced|graphics|"
    r"translated|research)(?:\s+and\s+\w+)?\s+by\b"
    r"|sources?\s*:\s*(?:" + AGENCIES + r")\b"
    r"|(?:copyright|©|\(c\))\s.*?(?:" + AGENCIES + r"|all rights reserved)"
    r"|[-\u2010-\u2015]*\s*with\s+(?:files|inputs|reporting)\s+from\b"
    r"|this\s+(?:story|article|report)\s+.*\b(?:wire|agency|syndicated)\b"
    r")[^\n]{0,300}$",
    re.IGNORECASE | re.MULTILINE,
)
_INLINE_CREDIT = re.compile(r"\(\s*(?:additional\s+)?reporting\s+by\b[^)]{0,300}\)", re.IGNORECASE)
_COMMON_PUNCT = "\u2018\u2019\u201c\u201d\u2013\u2014\u00a0"
_ASCII_PUNCT = str.maketrans(
    {chr(c): " " for c in range(128) if not chr(c).isalnum() and chr(c) not in "\n\r"}
)
_STRIP_MARKS = re.compile("[\u0300-\u036f\u064b-\u065f\u0670\u0640]")
# Letters/digits, plus the combining marks that are part of words in Hebrew, Arabic, Indic and
# South-East Asian scripts (str.isalnum and \w leave those out).
_TOKEN = re.compile(
    "(?:[^\\W_]|[\u0483-\u0489\u0591-\u05c7\u0610-\u061a\u064b-\u065f\u0900-\u0dff"
    "\u0e00-\u0fff\u1000-\u109f\u1780-\u17ff])+"
)
# Scripts written without spaces between words: shingled by character.
_CHAR_SCRIPTS = {
    "cjk": "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f",
    "thai": "\u0e00-\u0e7f",
    "lao": "\u0e80-\u0eff",
    "khmer": "\u1780-\u17ff",
    "myanmar": "\u1000-\u109f",
    "tibetan": "\u0f00-\u0fff",
}
_WORD_SCRIPTS = {
    "latin": "a-z\u00c0-\u024f",
    "cyrillic": "\u0400-\u04ff",
    "greek": "\u0370-\u03ff",
    "arabic": "\u0600-\u06ff\u0750-\u077f",
    "hebrew": "\u0590-\u05ff",
    "devanagari": "\u0900-\u097f",
    "hangul": "\uac00-\ud7af\u1100-\u11ff",
}


def _script_ranges() -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    names, rows = [], []
    for name, chars in {**_CHAR_SCRIPTS, **_WORD_SCRIPTS}.items():
        names.append(name)
        rows += [(ord(a), ord(b), len(names) - 1) for a, b in re.findall(r"(.)-(.)", chars)]
    rows.sort()
    starts, ends, script = (np.array(col) for col in zip(*rows, strict=True))
    return names, starts, ends, script


_SCRIPT_NAMES, _RANGE_STARTS, _RANGE_ENDS, _RANGE_SCRIPT = _script_ranges()
_CHAR_CLASS = "".join(_CHAR_SCRIPTS.values())
_ASCII_LETTER = re.compile("[a-z]")
_CHAR_SPLIT = re.compile(f"[{_CHAR_CLASS}]|\n| |[^{_CHAR_CLASS}\\s]+")

# Odd multipliers, one per position in the n-gram (positional, so "a b" != "b a").
_POSITION_MULT = np.array(
    [
        0x9E3779B97F4A7C15,
        0xC2B2AE3D27D4EB4F,
        0x165667B19E3779F9,
        0xD6E8FEB86659FD93,
        0xFF51AFD7ED558CCD,
        0xC4CEB9FE1A85EC53,
        0x94D049BB133111EB,
        0xBF58476D1CE4E5B9,
    ],
    dtype=np.uint64,
)


@dataclass(frozen=True)
class Shingles:
    """Normalised form of one text."""

    normalised: str  # tokens joined by spaces, paragraphs by newlines
    hashes: np.ndarray  # sorted distinct uint64 shingle hashes
    word_count: int  # words, or word-equivalents for character-shingled scripts
    script: str


def normalise(text: str) -> str:
    """NFKC, case-fold, drop credits/datelines and diacritics, keep paragraph breaks."""
    text = unicodedata.normalize("NFKC", text[:MAX_CHARS])
    text = _CREDIT_LINE.sub("", text)
    if _AGENCY_IN_PARENS.search(text):
        text = _DATELINE.sub("", text)
    text = _INLINE_CREDIT.sub(" ", text)
    text = text.casefold()
    for mark in _COMMON_PUNCT:
        text = text.replace(mark, " ")
    if text.isascii():  # fast path, same result as the general one below
        text = text.translate(_ASCII_PUNCT)
        return "\n".join(filter(None, (" ".join(line.split()) for line in text.splitlines())))
    text = unicodedata.normalize("NFKD", text)
    text = unicodedata.normalize("NFC", _STRIP_MARKS.sub("", text))
    lines = []
    for line in text.splitlines():
        tokens: list[str] = []
        for word in line.split():
            if word.isalnum():  # fast path: most words need no regex
                tokens.append(word)
            else:
                tokens.extend(_TOKEN.findall(word))
        if tokens:
            lines.append(" ".join(tokens))
    return "\n".join(lines)


def detect_script(normalised: str) -> str:
    """Dominant script of the letters in the first 3,000 characters ("other" if none)."""
    sample = normalised[:3_000]
    if sample.isascii():  # fast path, same answer: of ASCII, only a-z is in a script's range
        return "latin" if _ASCII_LETTER.search(sample) else "other"
    return _script_of(sample)


def _script_of(sample: str) -> str:
    codes = np.frombuffer(sample.encode("utf-32-le"), dtype="<u4")
    slot = np.searchsorted(_RANGE_STARTS, codes, side="right") - 1
    inside = (slot >= 0) & (codes <= _RANGE_ENDS[np.maximum(slot, 0)])
    counts = np.bincount(_RANGE_SCRIPT[slot[inside]], minlength=len(_SCRIPT_NAMES))
    return _SCRIPT_NAMES[int(counts.argmax())] if counts.any() else "other"


class _TokenCodes(dict):
    """token -> its 64-bit code (crc32 and UTF-8 length), worked out once per distinct token:
    news repeats its words, so most of an article's tokens are looked up, not hashed. Shared
    by the threads (a race only computes a code twice); emptied when it reaches TOKEN_CODES."""

    def __missing__(self, token: str) -> int:
        b = token.encode()
        code = zlib.crc32(b) | (len(b) << 32)
        self[token] = code
        return code


TOKEN_CODES = 50_000  # distinct tokens kept (~5 MB)
_codes = _TokenCodes()
_BREAK_CODE = _codes["\n"]  # no token holds a line break, and crc32 tells 1-byte inputs apart


def _token_hashes(tokens: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """64-bit hash per token (crc32 and length), and the break mask.

    crc32 is used for speed (C, ~0.1 us); a collision between two words is harmless because a
    shingle hash needs all of its n tokens to agree, and the mix makes shingle hashes uniform.
    """
    if len(_codes) > TOKEN_CODES:
        _codes.clear()
    codes = np.fromiter(map(_codes.__getitem__, tokens), dtype=np.uint64, count=len(tokens))
    return codes, codes == _BREAK_CODE


def fmix64(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xFF51AFD7ED558CCD)
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xC4CEB9FE1A85EC53)
    return h ^ (h >> np.uint64(33))


def _tokens(normalised: str, by_char: bool) -> list[str]:
    """Tokens, with "\n" kept as a paragraph marker."""
    if not by_char:
        return normalised.replace("\n", " \n ").split(" ", MAX_TOKENS)[:MAX_TOKENS]
    tokens = _CHAR_SPLIT.findall(normalised[: MAX_TOKENS * 10])[:MAX_TOKENS]
    return [t for t in tokens if t != " "]


def _distinct(values: np.ndarray) -> np.ndarray:
    """np.unique(values), sorted in place: np.unique costs ~30 us on an article's ~700 hashes
    (numpy 2's generic path), a sort and a mask ~4."""
    values.sort()
    keep = np.empty(len(values), dtype=bool)
    keep[:1] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def shingle(text: str) -> Shingles:
    """Normalise `text` and return its distinct shingle hashes (never crossing a line break).

    word_count counts only the words of paragraphs long enough to hold a shingle, so chrome
    lines never lift a short text over the 50-word rule; for character-shingled scripts a
    single character counts 1/CHARS_PER_WORD word.
    """
    normalised = normalise(text)
    script = detect_script(normalised)
    by_char = script in _CHAR_SCRIPTS
    n = CHAR_NGRAM if by_char else WORD_NGRAM
    tokens = _tokens(normalised, by_char)
    hashes = np.empty(0, dtype=np.uint64)
    words = 0.0
    if len(tokens) >= n:
        th, is_break = _token_hashes(tokens)
        breaks = np.cumsum(is_break)
        m = len(tokens) - n + 1
        with np.errstate(over="ignore"):
            th = fmix64(th)
            acc = np.zeros(m, dtype=np.uint64)
            for k in range(n):
                acc += th[k : k + m] * _POSITION_MULT[k]
            acc = fmix64(acc)
        # a window is valid when it holds no break: same break count at its first and last token,
        # and its first token is not itself a break
        hashes = _distinct(acc[(breaks[:m] == breaks[n - 1 :]) & ~is_break[:m]])
        weights = (~is_break).astype(float)
        if by_char:
            weights[[len(t) == 1 for t in tokens] & ~is_break] = 1 / CHARS_PER_WORD
        per_para = np.bincount(breaks, minlength=breaks[-1] + 1)  # tokens per paragraph (+1 break)
        per_para_words = np.bincount(breaks, weights=weights)
        words = float(per_para_words[(per_para - (np.arange(len(per_para)) > 0)) >= n].sum())
    return Shingles(normalised=normalised, hashes=hashes, word_count=int(words), script=script)
