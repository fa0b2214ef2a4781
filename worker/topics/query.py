"""The compiled topic query: an immutable boolean tree that matches a tokenised document exactly.

Nodes compare by structure (not by spelling), print as normalised query text, and report the
index keys a matching document must contain (`keys()`): a set of which at least one is present in
every document the node matches, or None when no such set exists (a NOT, or an OR with a branch
that only excludes). TopicIndex files each topic under its keys; parsing rejects key-less topics.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from worker.topics.rarity import key_cost, word_share
from worker.topics.text import BODY, DocView

# A key is (kind, field, value): ("w", "body", "iran") means the word "iran" in title or text,
# ("p", "wire", "reu") a word of the wire field starting with "reu". Title and text terms are
# keyed on "body": a title word is a body word, so the title key set is a superset.
Key = tuple[str, str, str]


def _key_field(name: str) -> str:
    return BODY if name in ("title", "text") else name


def _prefix(name: str) -> str:
    return "" if name == BODY else f"{name}:"


@dataclass(frozen=True, slots=True)
class Term:
    field: str
    word: str
    spelling: str = field(default="", compare=False)

    def match(self, view: DocView) -> bool:
        return self.word in view.sets[self.field]

    def keys(self) -> frozenset[Key] | None:
        return frozenset({("w", _key_field(self.field), self.word)})

    def __str__(self) -> str:
        return _prefix(self.field) + (self.spelling or self.word)


@dataclass(frozen=True, slots=True)
class Prefix:
    field: str
    prefix: str
    spelling: str = field(default="", compare=False)

    def match(self, view: DocView) -> bool:
        return view.has_prefix(self.field, self.prefix)

    def keys(self) -> frozenset[Key] | None:
        return frozenset({("p", _key_field(self.field), self.prefix)})

    def __str__(self) -> str:
        return _prefix(self.field) + (self.spelling or self.prefix + "*")


@dataclass(frozen=True, slots=True)
class Phrase:
    field: str
    words: tuple[str, ...]
    spelling: str = field(default="", compare=False)
    padded: str = field(default="", compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "padded", " " + " ".join(self.words) + " ")

    def match(self, view: DocView) -> bool:
        return view.has_phrase(self.field, self.words, self.padded)

    def keys(self) -> frozenset[Key] | None:
        return frozenset({("w", _key_field(self.field), min(self.words, key=word_share))})

    def __str__(self) -> str:
        return _prefix(self.field) + (self.spelling or '"' + " ".join(self.words) + '"')


@dataclass(frozen=True, slots=True)
class Not:
    child: Node

    def match(self, view: DocView) -> bool:
        return not self.child.match(view)

    def keys(self) -> frozenset[Key] | None:
        return None

    def __str__(self) -> str:
        return "NOT " + _wrap(self.child)


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]

    def match(self, view: DocView) -> bool:
        # A plain loop: all() over a generator costs a third more on the matching hot path.
        for child in self.children:  # noqa: SIM110
            if not child.match(view):
                return False
        return True

    def keys(self) -> frozenset[Key] | None:
        """The cheapest key set among the children that have one."""
        options = [ks for ks in (c.keys() for c in self.children) if ks is not None]
        if not options:
            return None
        return min(options, key=lambda ks: sum(key_cost(*k) for k in ks))

    def __str__(self) -> str:
        return " AND ".join(_wrap(c) for c in self.children)


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]

    def match(self, view: DocView) -> bool:
        for child in self.children:  # noqa: SIM110 (see And.match)
            if child.match(view):
                return True
        return False

    def keys(self) -> frozenset[Key] | None:
        out: set[Key] = set()
        for child in self.children:
            ks = child.keys()
            if ks is None:
                return None
            out |= ks
        return frozenset(out)

    def __str__(self) -> str:
        return " OR ".join(_wrap(c) for c in self.children)


Node = Term | Prefix | Phrase | Not | And | Or


def _wrap(node: Node) -> str:
    return f"({node})" if isinstance(node, (And, Or)) else str(node)


@dataclass(frozen=True)
class Query:
    """A parsed, validated topic query. `text` is its normalised spelling."""

    root: Node
    terms: int  # number of terms, phrases and prefixes
    keys: frozenset[Key] = field(compare=False)  # the index keys (never empty)

    @property
    def text(self) -> str:
        return str(self.root)

    def match(self, view: DocView) -> bool:
        return self.root.match(view)

    def __str__(self) -> str:
        return self.text
