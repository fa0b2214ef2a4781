"""Feeds/s of plain feedparser.parse against parse_feed over the 200 real feeds, and our overhead.

Usage: .venv/bin/python bench/feeds.py [--corpus DIR] [--repeat 3]

All feeds are read into memory first; every round parses the same bytes. Three timings per round:
feedparser.parse(bytes) with its defaults (what the overhead budget is measured against),
feedparser.parse with the switches parse_feed uses (its own sanitiser off), and parse_feed.
The median round of each is reported.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import feedparser  # noqa: E402

from wirewatch.errors import FeedParseError  # noqa: E402
from worker.feeds import parse_feed  # noqa: E402

DEFAULT_CORPUS = Path(os.environ.get("WIREWATCH_CORPORA", REPO.parent / "shared" / "corpora"))


def plain(content: bytes) -> None:
    feedparser.parse(content)


def same_switches(content: bytes) -> None:
    feedparser.parse(io.BytesIO(content), sanitize_html=False, resolve_relative_uris=False)


def ours(content: bytes) -> None:
    with contextlib.suppress(FeedParseError):
        parse_feed(content, url="https://bench.example/feed.xml")


def one_round(func: Callable[[bytes], None], feeds: list[bytes]) -> float:
    started = time.perf_counter()
    for content in feeds:
        func(content)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--corpus", type=Path, default=DEFAULT_CORPUS / "real-feeds" / "benchmark_data"
    )
    parser.add_argument("--repeat", type=int, default=3, help="rounds per contender (median kept)")
    args = parser.parse_args()
    paths = sorted(p for p in args.corpus.iterdir() if p.is_file()) if args.corpus.is_dir() else []
    if not paths:
        sys.exit(f"no feeds found in {args.corpus}")
    feeds = [p.read_bytes() for p in paths]
    megabytes = sum(map(len, feeds)) / 1e6
    print(f"{len(feeds)} feeds, {megabytes:.1f} MB, {args.repeat} rounds each (median)")
    warnings.simplefilter("ignore")  # feedparser's DeprecationWarnings would flood the output

    contenders = {
        "feedparser.parse (defaults)": plain,
        "feedparser.parse (sanitiser off)": same_switches,
        "parse_feed": ours,
    }
    rounds: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(args.repeat):  # interleaved, so that machine noise hits all three alike
        for name, func in contenders.items():
            rounds[name].append(one_round(func, feeds))
    medians = {name: statistics.median(times) for name, times in rounds.items()}
    for name, seconds in medians.items():
        print(f"  {name:34s} {len(feeds) / seconds:8.1f} feeds/s  ({seconds:6.2f} s per round)")
    ours_s = medians["parse_feed"]
    for name in ("feedparser.parse (defaults)", "feedparser.parse (sanitiser off)"):
        overhead = (ours_s / medians[name] - 1) * 100
        print(f"overhead of parse_feed over {name}: {overhead:+.1f}%")


if __name__ == "__main__":
    main()
