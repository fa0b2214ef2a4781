"""What a copy changed against its story's representative: cheap, paragraph-level, on read."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

_WORDS = re.compile(r"\w+")


@dataclass(frozen=True)
class Changes:
    headline_changed: bool
    paragraphs_added: int  # paragraphs of the copy that the representative does not have
    paragraphs_removed: int  # paragraphs of the representative the copy left out
    paragraphs_edited: int  # paragraphs present in both but reworded (most words shared)
    length_delta: int  # words, copy minus representative

    def as_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        parts = []
        if self.headline_changed:
            parts.append("new headline")
        for n, what in (
            (self.paragraphs_removed, "removed"),
            (self.paragraphs_added, "added"),
            (self.paragraphs_edited, "edited"),
        ):
            if n:
                parts.append(f"{n} paragraph{'s' if n > 1 else ''} {what}")
        if self.length_delta:
            parts.append(f"{self.length_delta:+d} words")
        return ", ".join(parts) or "identical"


def compare(
    *, rep_title: str | None, rep_text: str | None, title: str | None, text: str | None
) -> Changes:
    ours = _paragraphs(rep_text)
    theirs = _paragraphs(text)
    only_rep = [p for p in ours if p not in set(theirs)]
    only_copy = [p for p in theirs if p not in set(ours)]
    edited = 0
    for p in only_copy:
        words = set(p)
        best = max(
            (len(words & set(q)) / max(len(words | set(q)), 1) for q in only_rep), default=0.0
        )
        if best >= 0.5:
            edited += 1
    return Changes(
        headline_changed=_norm(rep_title) != _norm(title),
        paragraphs_added=len(only_copy) - edited,
        paragraphs_removed=len(only_rep) - edited,
        paragraphs_edited=edited,
        length_delta=len(_WORDS.findall(text or "")) - len(_WORDS.findall(rep_text or "")),
    )


def _paragraphs(text: str | None) -> list[tuple[str, ...]]:
    return [tuple(_WORDS.findall(p.lower())) for p in (text or "").split("\n\n") if p.strip()]


def _norm(title: str | None) -> tuple[str, ...]:
    return tuple(_WORDS.findall((title or "").lower()))
