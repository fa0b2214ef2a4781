"""Author from bylines in the page body: trafilatura's author search, on candidate elements only.

trafilatura finds a byline by pruning the page (comments, sidebars, dates, figures) and then
running three XPaths over every element; their regular-expression tests run as Python callbacks,
which makes the search cost a fifth of a page's extraction. The same XPaths are evaluated here
as tests on the few elements whose attributes can match at all, and an element counts only when
neither it nor an ancestor would have been pruned: same answer, without touching the page.
tests/test_extract_byline.py checks the answer against trafilatura's own search.
"""

from __future__ import annotations

import re
from copy import copy

from lxml.etree import XPath, _Element
from trafilatura.htmlprocessing import prune_unwanted_nodes
from trafilatura.metadata import normalize_authors
from trafilatura.utils import trim
from trafilatura.xpaths import AUTHOR_DISCARD_XPATHS

_RE = {"re": "http://exslt.org/regular-expressions"}
# Longest byline kept (trafilatura's len_limit for this search).
MAX_BYLINE_CHARS = 120

# Attribute values that any of the author XPaths below can match contain one of these.
_CANDIDATE_ATTRIBUTES = XPath(
    "//@class|//@id|//@itemprop|//@rel|//@data-testid|//@data-component|//author|//rel/.."
)
_MAYBE_AUTHOR = re.compile(
    "uthor|[Bb]yl|BBL|username|screenname|writer|channel-name|zuozhe|bianji|xiaobian"
    "|submitted-by|posted-by|journalist-name"
)
# trafilatura.xpaths.AUTHOR_XPATHS, with `//*` turned into `self::*`: tests on one element.
_AUTHOR_TESTS = (
    XPath(
        """
        self::*[self::a or self::address or self::div or self::link or self::p or self::span
        or self::strong][
        @rel='author' or @id='author' or @class='author' or @itemprop='author name' or rel='me' or
        @data-testid='AuthorCard' or @data-testid='AuthorURL' or
        re:test(@class, 'author-?name|AuthorName|authorName')]|self::author
        """,
        namespaces=_RE,
    ),
    XPath(
        """
        self::*[self::a or self::div or self::h3 or self::h4 or self::p or self::span][
        @class='byline' or @class='username' or @class='byl' or @class='BBL' or
        contains(@itemprop, 'author') or
        re:test(@id, 'author|zuozhe|bianji|xiaobian') or
        re:test(@class, 'author|channel-name|zuozhe|bianji|xiaobian|submitted-by|posted-by|journalist-name')]
        """,  # noqa: E501 -- kept identical to trafilatura's expression
        namespaces=_RE,
    ),
    XPath(
        """
        self::*[
        contains(@data-component, 'Byline') or contains(@itemprop, 'author') or
        re:test(@id, '[Aa]uthor') or
        re:test(@class, '[Aa]uthor|screenname|writer|[Bb]yline')]
        """,
        namespaces=_RE,
    ),
)
# trafilatura.xpaths.AUTHOR_DISCARD_XPATHS as a test: the element sits in a pruned section.
_DISCARDED = XPath(
    """
    boolean(ancestor-or-self::*[self::a or self::div or self::section or self::span][
    @id='comments' or @class='comments' or @class='title' or @class='date' or
    re:test(@id, '^comments|comment-?list|ProductReviews') or
    re:test(@class, '^[Cc]omments|commentlist|comments-list|sidebar|is-hidden|quote|embedly-instagram|article-(?:share|support)|print|category|meta-date|meta-reviewer') or
    contains(@data-component, 'Figure')] or ancestor-or-self::time
    or ancestor-or-self::figure)
    """,  # noqa: E501 -- kept identical to trafilatura's expression
    namespaces=_RE,
)


def _candidates(tree: _Element) -> list[_Element]:
    """Elements that may match an author XPath, in document order."""
    found: dict[_Element, None] = {}
    for item in _CANDIDATE_ATTRIBUTES(tree):
        if isinstance(item, str):
            if _MAYBE_AUTHOR.search(item):
                found[item.getparent()] = None
        else:
            found[item] = None
    return list(found)


def _byline_text(el: _Element) -> str:
    """The element's text once the pruned sections inside it are gone (tails kept)."""
    return trim(" ".join(prune_unwanted_nodes(copy(el), AUTHOR_DISCARD_XPATHS).itertext()))


def byline_author(tree: _Element) -> str | None:
    """Author named in a byline of the page body, or None. Leaves `tree` unchanged."""
    candidates = _candidates(tree)
    kept: dict[_Element, bool] = {}
    for test in _AUTHOR_TESTS:
        for el in candidates:
            if not test(el):
                continue
            if el not in kept:
                kept[el] = not _DISCARDED(el)
            if kept[el] and 2 < len(text := _byline_text(el)) < MAX_BYLINE_CHARS:
                return normalize_authors(None, text)
    return None
