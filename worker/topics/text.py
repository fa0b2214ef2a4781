"""Text normalisation shared by queries and documents: NFKD, no combining marks, casefolded words.

A document is tokenised once into a `DocView`: per field the list of words (for phrases) and the
set of words (for terms), with "body" = title + text, the field an unfielded term looks at.
Words are maximal runs of letters, digits and non-combining marks after normalisation;
punctuation, symbols, spaces and controls separate them, so "Iran's" holds the word "iran" and
"U.S." the words "u", "s". Scripts written without spaces (CJK, Thai) give one word per run of
characters; topics in those scripts match only whole runs.
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_left
from dataclasses import dataclass

FIELDS = ("title", "text", "source", "wire", "lang", "feed")
BODY = "body"  # an unfielded term: title or text
PARTS = {BODY: ("title", "text"), **{f: (f,) for f in FIELDS}}

# Categories that separate words: punctuation, symbols, spaces, controls and format characters.
_BREAKING = {
    "Pc",
    "Pd",
    "Ps",
    "Pe",
    "Pi",
    "Pf",
    "Po",
    "Sm",
    "Sc",
    "Sk",
    "So",
    "Zs",
    "Zl",
    "Zp",
    "Cc",
    "Cf",
}


def _tables() -> tuple[dict[int, None], dict[int, str | None]]:
    """str.translate tables: combining marks deleted; plus word-breaking characters -> space.

    Scanned once from unicodedata so that normalising and splitting run in C (a Python loop, or a
    regex class of several hundred ranges, over an 800-word article costs milliseconds).
    """
    marks: dict[int, None] = {}
    breaks: dict[int, str | None] = {}
    for cp in range(0x20000):  # Unicode 14/15: no combining marks above U+1E94A
        ch = chr(cp)
        if unicodedata.combining(ch):
            marks[cp] = None
        elif unicodedata.category(ch) in _BREAKING:
            breaks[cp] = " "
    return marks, {**marks, **breaks}


_MARKS, _MARKS_AND_BREAKS = _tables()
_ASCII_BREAKS = {cp: " " for cp, v in _MARKS_AND_BREAKS.items() if cp < 128 and v}


def normalise(text: str) -> str:
    """NFKD, combining marks removed, casefolded: "Zürich" -> "zurich", "Straße" -> "strasse"."""
    if text.isascii():
        return text.lower()
    return unicodedata.normalize("NFKD", text).translate(_MARKS).casefold()


def words(text: str) -> list[str]:
    """The normalised words of `text`, in order."""
    if text.isascii():
        return text.lower().translate(_ASCII_BREAKS).split()
    return unicodedata.normalize("NFKD", text).translate(_MARKS_AND_BREAKS).casefold().split()


@dataclass(frozen=True)
class Document:
    """What a topic is matched against."""

    title: str = ""
    text: str = ""
    source: str = ""  # outlet / site name / feed title
    wire: str = ""  # wire_source, e.g. "Reuters"
    lang: str = ""  # ISO 639-1
    feed: str = ""  # feed title or URL


class DocView:
    """A document tokenised once: word sets, padded word strings and sorted words per field."""

    __slots__ = ("lists", "sets", "_joined", "_sorted")

    def __init__(self, doc: Document) -> None:
        self.lists = {f: words(getattr(doc, f) or "") for f in FIELDS}
        self.sets = {f: set(ws) for f, ws in self.lists.items()}
        self.sets[BODY] = self.sets["title"] | self.sets["text"]
        self._joined: dict[str, str] = {}
        self._sorted: dict[str, list[str]] = {}

    def has_phrase(self, field: str, words: tuple[str, ...], padded: str) -> bool:
        """`padded` is " w1 w2 ... " (the words joined by single spaces): consecutive words."""
        present = self.sets[field]
        for word in words:  # cheap rejection before the substring search
            if word not in present:
                return False
        for part in PARTS[field]:
            joined = self._joined.get(part)
            if joined is None:
                joined = self._joined[part] = " " + " ".join(self.lists[part]) + " "
            if padded in joined:
                return True
        return False

    def has_prefix(self, field: str, prefix: str) -> bool:
        ordered = self._sorted.get(field)
        if ordered is None:
            ordered = self._sorted[field] = sorted(self.sets[field])
        i = bisect_left(ordered, prefix)
        return i < len(ordered) and ordered[i].startswith(prefix)
