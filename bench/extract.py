"""Benchmark the extraction stage: text F1, speed and memory vs trafilatura and readability alone.

    python bench/extract.py             # article-extraction-benchmark: F1, ms/page, memory
    python bench/extract.py --metadata   # wcxb-dev-articles: title/author/date rates and text F1

Corpora: $WIREWATCH_CORPORA, else the shared/corpora folder beside the repository.
"""

from __future__ import annotations

import argparse
import gzip
import json
import multiprocessing
import os
import re
import resource
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import lxml.html  # noqa: E402
import trafilatura  # noqa: E402
from readability import Document  # noqa: E402

from wirewatch.errors import ExtractionError  # noqa: E402
from worker.extract import extract_article  # noqa: E402
from worker.extract.quality import mean_f1, page_f1  # noqa: E402

warnings.filterwarnings("ignore")


def corpora() -> Path:
    return Path(os.environ.get("WIREWATCH_CORPORA", REPO.parent / "shared" / "corpora"))


def load_benchmark(root: Path) -> list[tuple[str, bytes, str, str]]:
    """(id, html bytes, url, expected text) for the article-extraction-benchmark pages."""
    truth = json.loads((root / "ground-truth.json").read_text())
    return [
        (
            key,
            gzip.decompress((root / "html" / f"{key}.html.gz").read_bytes()),
            item.get("url") or "https://example.invalid/",
            item.get("articleBody") or "",
        )
        for key, item in sorted(truth.items())
    ]


def ours(page: bytes, url: str) -> str:
    try:
        return extract_article(page, url=url).text
    except ExtractionError:
        return ""


def trafilatura_alone(page: bytes, url: str) -> str:
    return trafilatura.extract(page, url=url, include_comments=False) or ""


def trafilatura_precision(page: bytes, url: str) -> str:
    return trafilatura.extract(page, url=url, include_comments=False, favor_precision=True) or ""


def readability_alone(page: bytes, url: str) -> str:
    try:
        summary = Document(page).summary(html_partial=True)
        return lxml.html.fromstring(summary).text_content()
    except Exception:  # readability fails on some markup; count it as an empty result
        return ""


EXTRACTORS: dict[str, Callable[[bytes, str], str]] = {
    "ours": ours,
    "trafilatura": trafilatura_alone,
    "trafilatura-precision": trafilatura_precision,
    "readability-lxml": readability_alone,
}


def _peak_rss(name: str, root: Path) -> tuple[float, float]:
    """(peak RSS, growth over loaded libraries) in MB of a fresh process running one extractor."""
    out = subprocess.run(
        [sys.executable, __file__, "--memory-of", name, "--corpus", str(root)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return float(out[-2]), float(out[-1])


def memory_of(name: str, root: Path) -> None:
    """Child side of _peak_rss: run one extractor over every page, print peak and growth (MB)."""
    truth = json.loads((root / "ground-truth.json").read_text())
    EXTRACTORS[name]("<html><body><p>warm up</p></body></html>", "https://example.invalid/")
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # interpreter + libraries
    for key, item in sorted(truth.items()):  # one page in memory at a time
        page = gzip.decompress((root / "html" / f"{key}.html.gz").read_bytes())
        EXTRACTORS[name](page, item.get("url") or "https://example.invalid/")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"{peak / 1024:.1f} {(peak - baseline) / 1024:.1f}")


def run_text(root: Path, *, memory: bool) -> None:
    pages = load_benchmark(root)
    for _, page, url, _ in pages[:3]:  # warm caches (suffix lists, compiled patterns) for all
        for fn in EXTRACTORS.values():
            fn(page, url)
    texts = {name: [] for name in EXTRACTORS}
    seconds = dict.fromkeys(EXTRACTORS, 0.0)
    cpu = dict.fromkeys(EXTRACTORS, 0.0)
    names = list(EXTRACTORS)
    # Interleaved per page so machine load hits all alike; the order rotates from page to page
    # so that none always goes first (cold page in the CPU caches, the others' garbage to collect).
    for i, (_, page, url, _) in enumerate(pages):
        for name in names[i % len(names) :] + names[: i % len(names)]:
            fn = EXTRACTORS[name]
            started, started_cpu = time.perf_counter(), time.process_time()
            texts[name].append(fn(page, url))
            seconds[name] += time.perf_counter() - started
            cpu[name] += time.process_time() - started_cpu
    peaks = {name: _peak_rss(name, root) for name in EXTRACTORS} if memory else {}
    print(f"article-extraction-benchmark: {len(pages)} pages")
    header = f"{'extractor':24} {'F1':>7} {'pages/s':>8} {'ms/page':>8} {'CPU ms':>7}"
    print(f"{header} {'peak RSS MB':>12} {'(+MB)':>7}")
    for name in EXTRACTORS:
        f1 = mean_f1(zip(texts[name], (p[3] for p in pages), strict=True))
        ms = 1000 * seconds[name] / len(pages)
        rss, grow = peaks.get(name, (float("nan"), float("nan")))
        cpu_ms = 1000 * cpu[name] / len(pages)
        row = f"{name:24} {f1:7.4f} {1000 / ms:8.1f} {ms:8.1f} {cpu_ms:7.1f}"
        print(f"{row} {rss:12.0f} {grow:7.0f}")
    print(
        f"ours / trafilatura: wall {seconds['ours'] / seconds['trafilatura']:.2f}x, "
        f"CPU {cpu['ours'] / cpu['trafilatura']:.2f}x"
    )


# ---- metadata on wcxb-dev-articles -------------------------------------------------------

_TOKENS = re.compile(r"\w+")
_AUTHOR_FILLER = {"by", "and"}


def norm_title(value: str | None) -> str:
    return " ".join((value or "").split())


def norm_authors(value: str | None) -> list[str]:
    return [t for t in _TOKENS.findall((value or "").lower()) if t not in _AUTHOR_FILLER]


def _metadata_one(path: str) -> dict:
    html_path = Path(path)
    truth_path = html_path.parents[1] / "ground-truth" / html_path.name.replace(".html.gz", ".json")
    truth = json.loads(truth_path.read_text())
    gt, url = truth["ground_truth"], truth.get("url") or "https://example.invalid/"
    page = gzip.decompress(html_path.read_bytes())
    row = {"gt_title": gt.get("title"), "gt_author": gt.get("author")}
    row["gt_date"] = gt.get("publish_date")
    try:
        art = extract_article(page, url=url)
        row["ours"] = (
            art.title,
            "; ".join(art.authors),
            art.published.date().isoformat() if art.published else None,
            art.text,
        )
    except ExtractionError:
        row["ours"] = (None, None, None, "")
    doc = trafilatura.bare_extraction(page, url=url, with_metadata=True, include_comments=False)
    row["trafilatura"] = (
        (doc.title, doc.author, doc.date, doc.text or "") if doc else (None, None, None, "")
    )
    expected = gt.get("main_content") or ""
    row["f1"] = {name: page_f1(row[name][3], expected) for name in ("ours", "trafilatura")}
    return row


def run_metadata(root: Path) -> None:
    paths = sorted(str(p) for p in (root / "html").glob("*.html.gz"))
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        rows = pool.map(_metadata_one, paths, chunksize=8)
    n = len(rows)
    print(f"wcxb-dev-articles: {n} pages")
    print(f"{'extractor':14} {'title exact':>12} {'author':>8} {'date (day)':>11} {'text F1':>8}")
    for name in ("ours", "trafilatura"):
        title = sum(norm_title(r[name][0]) == norm_title(r["gt_title"]) for r in rows) / n
        author = sum(norm_authors(r[name][1]) == norm_authors(r["gt_author"]) for r in rows) / n
        day = sum((r[name][2] or None) == (r["gt_date"] or None) for r in rows) / n
        f1 = sum(r["f1"][name] for r in rows) / n
        print(f"{name:14} {title:12.3f} {author:8.3f} {day:11.3f} {f1:8.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--metadata", action="store_true", help="metadata on wcxb-dev-articles")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory subprocesses")
    parser.add_argument("--memory-of", choices=sorted(EXTRACTORS), help=argparse.SUPPRESS)
    parser.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_of:
        memory_of(args.memory_of, args.corpus)
    elif args.metadata:
        root = corpora() / "wcxb-dev-articles"
        if not root.exists():
            sys.exit(f"corpus missing: {root}")
        run_metadata(root)
    else:
        root = corpora() / "article-extraction-benchmark"
        if not root.exists():
            sys.exit(f"corpus missing: {root}")
        run_text(root, memory=not args.no_memory)


if __name__ == "__main__":
    main()
