"""Robustness of parse_feed on whole corpora: a ParsedFeed or a FeedParseError, never anything else.

Corpora (read-only, never copied here): feedparser's own test documents (2,107 files: wellformed,
illformed, encoding, entities, json) and 200 real feeds. Skipped with a message when absent.
"""

from __future__ import annotations

import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import corpus
from wirewatch.errors import FeedParseError
from worker.feeds import ParsedFeed, parse_feed

pytestmark = pytest.mark.corpus

# A hang guard, not a benchmark: the largest real feed (2.5 MB) parses in well under a second.
SECONDS_PER_FILE = 20.0

# feedparser test documents we refuse or cannot read, on purpose.
EXPECTED_FAILURES = {
    "wellformed/rss/entity_in_doctype.xml": "refused:",  # declares an entity
    "wellformed/rdf/doctype_contains_entity_decl.xml": "refused:",  # declares entities
    "illformed/aaa_illformed.xml": "malformed feed",
    "illformed/rss_empty_document.xml": "not a feed",
    "illformed/undeclared_namespace.xml": "malformed feed",
    # CDF (a 1997 Microsoft format) documents with a channel and no items
    **{f"wellformed/cdf/{name}.xml": "not a feed" for name in (
        "channel_abstract_map_description", "channel_abstract_map_tagline", "channel_href_map_link",
        "channel_href_map_links", "channel_lastmod", "channel_lastmod_parsed", "channel_title",
    )},
}
# Real feeds that are genuinely broken: 7ef13a42fa7e177a puts `rss:` prefixes on every element
# without declaring the namespace, after a garbled `<?xml?xml … ??>` declaration.
BROKEN_REAL_FEEDS = {"7ef13a42fa7e177a"}


def _outcome(path: Path) -> tuple[str, str, float]:
    """('ok' | 'error' | 'crash', detail, seconds) for one file."""
    content = path.read_bytes()
    started = time.perf_counter()
    try:
        feed = parse_feed(content, url="https://corpus.example/feeds/feed.xml")
        outcome = ("ok", f"{feed.format}, {len(feed.entries)} entries")
        assert isinstance(feed, ParsedFeed)
    except FeedParseError as exc:
        outcome = ("error", str(exc))
    except Exception as exc:  # the property under test: nothing else escapes
        outcome = ("crash", f"{type(exc).__name__}: {exc}")
    return (*outcome, time.perf_counter() - started)


def _run_all(paths: list[Path], *, workers: int) -> dict[Path, tuple[str, str, float]]:
    if workers == 1:
        return {path: _outcome(path) for path in paths}
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return dict(zip(paths, pool.map(_outcome, paths, chunksize=4), strict=True))


def _check(results: dict[Path, tuple[str, str, float]]) -> None:
    crashes = {str(p): detail for p, (kind, detail, _) in results.items() if kind == "crash"}
    assert not crashes, f"exceptions other than FeedParseError: {crashes}"
    slow = {str(p): round(s, 1) for p, (_, _, s) in results.items() if s > SECONDS_PER_FILE}
    assert not slow, f"files over {SECONDS_PER_FILE}s: {slow}"


def test_feedparser_test_documents() -> None:
    root = corpus("feedparser-tests") / "tests"
    paths = sorted(p for p in root.rglob("*") if p.is_file())
    assert len(paths) > 2000, f"expected the 2,107 feedparser test documents under {root}"
    results = _run_all(paths, workers=1)
    _check(results)
    failures = {
        p.relative_to(root).as_posix(): detail
        for p, (kind, detail, _) in results.items() if kind == "error"
    }
    unexpected = {
        name: detail for name, detail in failures.items()
        if not detail.startswith(EXPECTED_FAILURES.get(name, "\0"))
    }
    assert not unexpected, f"documents that should parse but did not: {unexpected}"


def test_real_feeds() -> None:
    root = corpus("real-feeds") / "benchmark_data"
    paths = sorted(p for p in root.iterdir() if p.is_file())
    assert len(paths) == 200, f"expected 200 real feeds under {root}"
    results = _run_all(paths, workers=2)
    _check(results)
    failed = {p.name: detail for p, (kind, detail, _) in results.items() if kind != "ok"}
    assert set(failed) == BROKEN_REAL_FEEDS, f"unexpected outcome: {failed}"
    empty = [p.name for p, (kind, detail, _) in results.items() if detail.endswith(" 0 entries")]
    assert not empty, f"real feeds read with no entries: {empty}"
