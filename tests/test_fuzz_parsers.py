"""Hostile input: mutated, truncated and spliced feeds and pages, with entity and DTD tricks.

`parse_feed` raises nothing but FeedParseError and `extract_article` nothing but ExtractionError,
and each call returns within DEADLINE seconds. Seeds come from the feedparser test suite and the
article-extraction benchmark (skipped with a message when the corpora are absent) plus our own
golden files. CI runs a bounded, derandomised pass; `WIREWATCH_FUZZ_SECONDS=600` (`make fuzz`)
keeps drawing fresh random examples for that long.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as CallTimeout
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.conftest import corpus
from wirewatch.errors import ExtractionError, FeedParseError
from worker.extract import extract_article
from worker.feeds import parse_feed

DEADLINE = 5.0
FUZZ_SECONDS = float(os.environ.get("WIREWATCH_FUZZ_SECONDS") or 0)
DATA = Path(__file__).parent / "data"
FEED_SEEDS = 150  # corpus files taken (evenly spread over the sorted list)
PAGE_SEEDS = 12

settings.register_profile(
    "wirewatch-fuzz",
    max_examples=200,
    deadline=None,  # the per-call deadline below is ours; hypothesis' own would flake on CI
    database=None,
    derandomize=FUZZ_SECONDS == 0,
    # no explain phase: its tracer slows every call of the parsers tenfold
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)

TRICKS = [
    b'<!DOCTYPE r [<!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">'
    b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">'
    b'<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"><!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">]>',
    b"&e;&d;&c;",
    b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>&x;',
    b'<!DOCTYPE r [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd"> %p;]>',
    b'<!DOCTYPE r SYSTEM "http://127.0.0.1:9/x.dtd">',
    b'<!DOCTYPE r [<!ENTITY q "' + b"x" * 50_000 + b'">]>' + b"&q;" * 200,
    b"<![CDATA[" + b"]]" * 100,
    b"<div>" * 3000,
    b"<a><b>" * 2000 + b"</b></a>" * 10,
    b"\x00\x00\x00",
    b"\xff\xfe\xfd",
    b"\xef\xbb\xbf",
    b"\xfe\xff\x00<",
    b'<?xml version="1.0" encoding="utf-16"?>',
    b'<?xml version="1.0" encoding="x-no-such-charset"?>',
    b'<meta charset="utf-7">+ADw-script+AD4-',
    b"&#x110000;&#0;&#xD800;&#99999999999;&;&#;",
    b"<script>for(;;){}</script><style>*{}</style>",
    b'<img src="javascript:alert(1)" onerror="x">',
    b'{"version":"https://jsonfeed.org/version/1.1","items":' + b"[" * 5000,
    b'{"items":[{"id":' + b"9" * 5000 + b',"date_published":"99999-99-99"}]}',
    b"<item><pubDate>Mon, 99 Foo 99999 99:99:99 +9999</pubDate><link>javascript:x</link></item>",
    b'<entry><updated>0000-00-00T00:00:00Z</updated><link href="//[::1"/></entry>',
    "<title>\u202e\ufeff\U0001f600</title>".encode(),
]

_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="fuzz")


def _sample(paths: list[Path], n: int) -> list[Path]:
    paths = sorted(paths)
    step = max(1, len(paths) // n)
    return paths[::step][:n]


def feed_seeds() -> list[bytes]:
    local = [p.read_bytes() for p in sorted(DATA.glob("feeds/*")) if ".expected." not in p.name]
    folder = corpus("feedparser-tests")
    files = [p for p in folder.rglob("*") if p.is_file() and p.suffix in (".xml", ".json")]
    return local + [p.read_bytes() for p in _sample(files, FEED_SEEDS)]


def page_seeds() -> list[bytes]:
    folder = corpus("article-extraction-benchmark") / "html"
    return [gzip.decompress(p.read_bytes()) for p in _sample(list(folder.glob("*.gz")), PAGE_SEEDS)]


def mutations() -> st.SearchStrategy:
    at = st.floats(0, 1)
    op = st.one_of(
        st.tuples(st.just("flip"), at, st.integers(0, 255)),
        st.tuples(st.just("truncate"), at),
        st.tuples(st.just("splice"), st.integers(0, 10_000), at, at),
        st.tuples(st.just("insert"), at, st.sampled_from(TRICKS)),
        st.tuples(st.just("raw"), at, st.binary(max_size=64)),
        st.tuples(st.just("repeat"), at, at, st.integers(2, 50)),
    )
    return st.lists(op, max_size=6)


def mutate(data: bytes, ops: list[tuple], seeds: list[bytes]) -> bytes:
    for op in ops:
        pos = int(op[1] * len(data)) if op[0] != "splice" else 0
        if op[0] == "flip" and data:
            pos = min(pos, len(data) - 1)
            data = data[:pos] + bytes([op[2]]) + data[pos + 1 :]
        elif op[0] == "truncate":
            data = data[:pos]
        elif op[0] == "splice":
            other = seeds[op[1] % len(seeds)]
            data = data[: int(op[2] * len(data))] + other[int(op[3] * len(other)) :]
        elif op[0] in ("insert", "raw"):
            data = data[:pos] + op[2] + data[pos:]
        elif op[0] == "repeat":
            end = min(len(data), pos + 1 + int(op[2] * 200))
            data = data[:pos] + data[pos:end] * op[3] + data[end:]
    return data[: 4 * 1024 * 1024]


def within_deadline(fn, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN201
    """Run one call in a thread; fail if it takes longer than DEADLINE (it may hang forever)."""
    future = _pool.submit(fn, *args, **kwargs)
    try:
        return future.result(timeout=DEADLINE)
    except CallTimeout:
        pytest.fail(f"{getattr(fn, '__name__', fn)} took longer than {DEADLINE}s")


def run_fuzz(check) -> int:  # noqa: ANN001
    """One bounded pass in CI; with WIREWATCH_FUZZ_SECONDS, fresh passes until the time is up."""
    passes, end = 0, time.monotonic() + FUZZ_SECONDS
    while True:
        check()
        passes += 1
        if time.monotonic() >= end:
            return passes


CONTENT_TYPES = [
    None,
    "application/rss+xml",
    "application/atom+xml; charset=utf-8",
    "application/feed+json",
    "text/html",
    "text/xml; charset=x-bogus",
    "application/json; charset=utf-16",
]


def test_parse_feed_raises_only_feed_parse_error_in_time() -> None:
    seeds = feed_seeds()

    @settings(settings.get_profile("wirewatch-fuzz"), max_examples=300)
    @given(
        seed=st.integers(0, len(seeds) - 1),
        ops=mutations(),
        content_type=st.sampled_from(CONTENT_TYPES),
        charset=st.sampled_from([None, "utf-8", "latin-1", "utf-16", "bogus"]),
    )
    def check(seed: int, ops: list, content_type: str | None, charset: str | None) -> None:
        data = mutate(seeds[seed], ops, seeds)
        with contextlib.suppress(FeedParseError):
            within_deadline(
                parse_feed,
                data,
                url="http://outlet.test/feed.xml",
                content_type=content_type,
                charset=charset,
            )

    run_fuzz(check)


def test_extract_article_raises_only_extraction_error_in_time() -> None:
    seeds = page_seeds()

    @settings(settings.get_profile("wirewatch-fuzz"), max_examples=60)
    @given(
        seed=st.integers(0, len(seeds) - 1),
        ops=mutations(),
        charset=st.sampled_from([None, "utf-8", "windows-1252", "utf-16", "bogus"]),
        feed_content=st.sampled_from(
            [None, "", "<p>Short summary from the feed.</p>", "<p>" + "word " * 300 + "</p>"]
        ),
    )
    def check(seed: int, ops: list, charset: str | None, feed_content: str | None) -> None:
        data = mutate(seeds[seed], ops, seeds)
        with contextlib.suppress(ExtractionError):
            within_deadline(
                extract_article,
                data,
                url="https://outlet.test/news/a.html",
                charset=charset,
                feed_title="A headline",
                feed_content=feed_content,
            )

    run_fuzz(check)
