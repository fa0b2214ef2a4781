"""The byline search names the author trafilatura's own search names, leaving the page intact."""

from __future__ import annotations

import gzip

import lxml.html
import pytest
from trafilatura.htmlprocessing import prune_unwanted_nodes
from trafilatura.metadata import extract_metainfo, normalize_authors
from trafilatura.utils import load_html
from trafilatura.xpaths import AUTHOR_DISCARD_XPATHS, AUTHOR_XPATHS

from tests.conftest import corpus
from worker.extract.byline import byline_author

PROSE = (
    "<p>" + "The council voted on Tuesday to extend the programme for another year. " * 3 + "</p>"
)


def trafilatura_search(html: str | bytes) -> str | None:
    """trafilatura's own byline search (metadata.extract_author's fallback), on a fresh parse."""
    tree = load_html(html)
    pruned = prune_unwanted_nodes(tree, AUTHOR_DISCARD_XPATHS)
    author = extract_metainfo(pruned, AUTHOR_XPATHS, len_limit=120)
    return normalize_authors(None, author) if author else None


def page(body: str) -> str:
    return f"<html><head><title>Council vote</title></head><body>{body}</body></html>"


CASES = {
    "byline class": (page(f"<div class='byline'>By Jane Doe</div>{PROSE}"), "Jane Doe"),
    "rel author link": (
        page(f"<p>By <a rel='author' href='/jd'>Jane Doe</a></p>{PROSE}"),
        "Jane Doe",
    ),
    "author element": (page(f"<author>Jane Doe</author>{PROSE}"), "Jane Doe"),
    "comment authors do not count": (
        page(
            f"{PROSE}<div id='comments'><span class='author-name'>troll42 x</span></div>"
            "<span class='article-author'>Jane Doe</span>"
        ),
        "Jane Doe",
    ),
    "dates inside the byline are dropped": (
        page(f"<div class='byline'>Jane Doe <time>4 March 2024</time></div>{PROSE}"),
        "Jane Doe",
    ),
    "first expression wins over a later one": (
        page(
            f"<div class='writer'>Site Desk Team</div><span class='author-name'>Jane Doe</span>"
            f"{PROSE}"
        ),
        "Jane Doe",
    ),
    "too long to be a byline": (page(f"<div class='byline'>{'Jane Doe ' * 20}</div>{PROSE}"), None),
    "no byline at all": (page(f"<div class='story'>{PROSE}</div>"), None),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_byline_cases(case: str) -> None:
    html, expected = CASES[case]
    assert byline_author(load_html(html)) == expected
    assert trafilatura_search(html) == expected


def test_page_tree_is_left_unchanged() -> None:
    html = CASES["comment authors do not count"][0]
    tree = load_html(html)
    before = lxml.html.tostring(tree)
    assert byline_author(tree) == "Jane Doe"
    assert lxml.html.tostring(tree) == before


@pytest.mark.corpus
def test_same_author_as_trafilatura_on_real_pages() -> None:
    paths = sorted((corpus("article-extraction-benchmark") / "html").glob("*.html.gz"))
    paths += sorted((corpus("wcxb-dev-articles") / "html").glob("*.html.gz"))[:100]
    found = 0
    for path in paths:
        html = gzip.decompress(path.read_bytes())
        tree = load_html(html)
        if tree is None:
            continue
        expected = trafilatura_search(html)
        assert byline_author(tree) == expected, path.name
        found += expected is not None
    assert found > len(paths) // 4  # the comparison covers pages that have a byline
