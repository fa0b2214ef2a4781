"""Strip surviving chrome from an extracted body: link teasers, prompts, title repeats, credits."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from lxml.etree import _Element

from worker.extract.boilerplate import is_chrome, is_credit_line, strip_suffixes, word_count


@dataclass(frozen=True)
class Dialect:
    """Tag names of one tree flavour: trafilatura's XML body or plain HTML."""

    leaves: tuple[str, ...]
    lists: tuple[str, ...]
    link: str


XML = Dialect(leaves=("p", "head", "item", "quote", "code"), lists=("list",), link="ref")
HTML = Dialect(
    leaves=(
        "p",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "li",
        "blockquote",
        "pre",
        "dd",
        "dt",
        "figcaption",
        "td",
    ),
    lists=("ul", "ol", "dl"),
    link="a",
)
# A block whose text is mostly link text is navigation or a "related" teaser, unless long.
LINK_DENSITY_LIMIT = 0.7
LINK_BLOCK_MAX_WORDS = 40
_LABEL = re.compile(r"^[^:]{1,30}:\s*")
_SENTENCE_END = frozenset('.!?…:;"”»)')


def _text(el: _Element) -> str:
    return " ".join("".join(el.itertext()).split())


# Punctuation and symbols become spaces: "U.S. News —" and "u s news" compare equal.
_PUNCTUATION = dict.fromkeys(
    i for i in range(0x2070) if not chr(i).isalnum() and not chr(i).isspace()
)
_PUNCTUATION = {i: " " for i in _PUNCTUATION}


def _norm(text: str | None) -> str:
    return " ".join((text or "").lower().translate(_PUNCTUATION).split())


def _drop(el: _Element) -> None:
    parent = el.getparent()
    if parent is None:
        return
    if el.tail and el.tail.strip():
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


def _is_leaf(el: _Element, dialect: Dialect) -> bool:
    blocks = set(dialect.leaves) | set(dialect.lists)
    return not any(child.tag in blocks for child in el.iterdescendants())


def _internal(href: str | None, host: str | None) -> bool:
    """A link to the page's own site (or relative): navigation rather than a citation."""
    if not href or not host:
        return True
    href = href.strip()
    if not href.startswith(("http:", "https:", "//")):
        return True  # relative
    try:
        target = urlsplit(href).hostname
    except ValueError:  # a malformed link (e.g. "http://[x/") says nothing about the page
        return False
    if not target:
        return True
    target, host = target.removeprefix("www."), host.removeprefix("www.")
    return target == host or target.endswith("." + host) or host.endswith("." + target)


class InternalLinks:
    """Normalised texts of a page's links to its own site (teaser headlines, menu entries).

    Computed on first use: most pages have no block that needs the check.
    """

    def __init__(self, tree: _Element | None = None, *, url: str | None = None) -> None:
        self._tree, self._host = tree, (urlsplit(url).hostname if url else None)
        self._texts: frozenset[str] | None = None if tree is not None else frozenset()

    def __contains__(self, key: str) -> bool:
        if self._texts is None:
            texts = set()
            for anchor in self._tree.iterfind(".//a[@href]"):
                text = _norm(anchor.text_content())  # cheaper than the URL test: first
                if " " in text and text not in texts and _internal(anchor.get("href"), self._host):
                    texts.add(text)
            self._texts, self._tree = frozenset(texts), None
        return key in self._texts


def _link_dense(el: _Element, text: str, link: str, links: InternalLinks) -> bool:
    """Short, not a sentence, and (after a "Label:") the text of a link to the own site."""
    if not text or len(text) > 600 or text.rstrip()[-1:] in _SENTENCE_END:  # ends a sentence
        return False
    if word_count(text) > LINK_BLOCK_MAX_WORDS:
        return False
    in_block = sum(len(_text(ref)) for ref in el.iter(link))
    if in_block >= LINK_DENSITY_LIMIT * len(text):
        return True
    return _norm(text) in links or _norm(_LABEL.sub("", text)) in links


def clean_body(
    body: _Element,
    *,
    title: str | None = None,
    links: InternalLinks | None = None,
    dialect: Dialect = XML,
) -> list[str]:
    """Clean `body` in place; return the credit lines removed from it (for wire detection)."""
    credits: list[str] = []
    title_key = _norm(title)
    links = links if links is not None else InternalLinks()
    blocks = [el for el in body.iter(*dialect.leaves) if _is_leaf(el, dialect)]
    for position, el in enumerate(blocks):
        text = _text(el)
        if position < 3 and title_key and _norm(text) == title_key:
            _drop(el)
        elif is_credit_line(text):
            credits.append(text)
            _drop(el)
        elif is_chrome(text) or _link_dense(el, text, dialect.link, links):
            _drop(el)
        elif el.tag == "p" and el.text and not len(el):
            el.text = strip_suffixes(el.text)
    for lst in list(body.iter(*dialect.lists)):
        if not _text(lst):
            _drop(lst)
    return credits
