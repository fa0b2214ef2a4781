"""End-to-end story benchmark: republished copies served as outlets, `run --once`, pairwise P/R/F1.

    .venv/bin/python -m bench.dedup_e2e [--limit 300] [--postgres] [--workers 3] [--details f.json]

Every copy of bench/republish.generate is rendered on its outlet's template and served from
127.0.0.1 (bench/dedup_site.py); each outlet's feed is subscribed in a fresh database and
`wirewatch.service.run_once` runs embedded. Each article's story is read back and mapped to its
copy by URL; articles without a story (failed) count as stories of their own. Side by side:
datasketch MinHashLSH (bench/dedup.py's reference: num_perm 128, word 5-gram shingles) over
trafilatura.extract(page) of the same pages, thresholds 0.3 and 0.5, union-find clusters.
Diagnostic rows: our stage (bench.dedup.run_ours, offline union-find) over the copies' own text
and over the text the pipeline stored, which separates cleaning losses from online joining.
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from dataclasses import dataclass, field
from math import comb
from pathlib import Path

import trafilatura
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from bench.benchdb import temp_database
from bench.dedup import corpora_path, pairwise, run_ours, run_reference
from bench.dedup_diagnose import diagnose
from bench.dedup_site import Site, free_port, serve_folder, write_site
from bench.republish import Copy, generate, labelled_pairs
from storage import feeds as feed_store
from storage.db import session_scope
from storage.models import Article
from wirewatch.service import run_once
from wirewatch.settings import Settings


@dataclass
class Stored:
    """What the pipeline made of one copy's page."""

    state: str
    story_id: int | None
    title: str | None
    text: str
    canonical_url: str | None
    site_name: str | None
    method: str | None
    error: str | None


@dataclass
class EndToEnd:
    database: str
    seconds: float
    stored: dict[int, Stored]  # by copy index
    by_state: dict[str, int] = field(default_factory=dict)

    def clusters(self, n: int) -> list[list[int]]:
        """Copies grouped by story; copies with no story (or no article) stand alone."""
        groups: dict[int, list[int]] = {}
        alone = []
        for i in range(n):
            s = self.stored.get(i)
            if s is None or s.story_id is None:
                alone.append([i])
            else:
                groups.setdefault(s.story_id, []).append(i)
        return list(groups.values()) + alone


def run_pipeline(kind: str, site: Site, *, workers: int, timeout: float) -> EndToEnd:
    """Subscribe every outlet in a fresh database, run once, read each article's story back."""
    with temp_database(kind) as url:
        with session_scope(url) as session:
            feed_store.add_feeds(session=session, feeds=[(f, None) for f in site.feeds])
        settings = Settings(
            database_url=url,
            broker_url=None,
            allow_private_networks=True,
            respect_robots=False,
            host_concurrency=64,
            embedded_workers=workers,
            connect_timeout=10,
            read_timeout=30,
            total_timeout=60,
            log_level="WARNING",
        )
        summary = run_once(settings, timeout=timeout)
        if not summary.finished:
            raise RuntimeError(f"run --once did not finish within {timeout} s: {summary.as_dict()}")
        stored: dict[int, Stored] = {}
        with session_scope(url) as session:
            for a in session.execute(select(Article)).scalars():
                i = site.copy_of.get(a.url or "")
                if i is None:
                    continue
                stored[i] = Stored(
                    state=a.state,
                    story_id=a.story_id,
                    title=a.title,
                    text=a.text or "",
                    canonical_url=a.canonical_url,
                    site_name=a.site_name,
                    method=a.extraction_method,
                    error=a.error,
                )
    return EndToEnd(kind, summary.seconds, stored, summary.by_state)


def run_trafilatura_reference(copies: list[Copy], site: Site) -> list[tuple[str, dict, float]]:
    """datasketch MinHashLSH over trafilatura text of the served pages: (name, metrics, pages/s)."""
    t0 = time.perf_counter()
    texts = [trafilatura.extract(page, include_comments=False) or "" for page in site.pages]
    extract_s = time.perf_counter() - t0
    rows = []
    for threshold in (0.3, 0.5):
        t0 = time.perf_counter()
        m = run_reference(copies, texts, thresholds=(threshold,))[threshold]
        seconds = extract_s + time.perf_counter() - t0
        rows.append((f"trafilatura + MinHashLSH t={threshold}", m, len(copies) / seconds))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, help="about this many copies (default: the full set)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--copies", type=int, default=4, help="republished copies per original")
    ap.add_argument("--postgres", action="store_true", help="also run on PostgreSQL")
    ap.add_argument("--workers", type=int, default=3, help="embedded worker threads")
    ap.add_argument("--timeout", type=float, default=3600)
    ap.add_argument("--details", type=Path, help="write every wrongly joined/split pair here")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    console = Console(width=130)

    originals = None if args.limit is None else max(2, round(args.limit / (args.copies + 1)))
    copies = generate(
        corpora=corpora_path(), seed=args.seed, copies_per_story=args.copies, limit=originals
    )
    truth = labelled_pairs(copies)
    console.print(
        f"{len(copies)} copies, {len(truth)} stories, "
        f"{sum(comb(len(c), 2) for c in truth)} positive pairs"
    )
    rows: list[tuple[str, dict, float | None]] = []
    runs: list[EndToEnd] = []
    with tempfile.TemporaryDirectory(prefix="ww-site-") as tmp:
        port = free_port()
        site = write_site(copies, root=Path(tmp), origin=f"http://127.0.0.1:{port}")
        console.print(f"{len(site.feeds)} outlet feeds")
        with serve_folder(Path(tmp), port=port):
            for kind in ("sqlite", "postgres") if args.postgres else ("sqlite",):
                run = run_pipeline(kind, site, workers=args.workers, timeout=args.timeout)
                runs.append(run)
                m = pairwise(run.clusters(len(copies)), truth)
                rows.append((f"wirewatch run --once ({kind})", m, len(copies) / run.seconds))
                console.print(f"{kind}: {run.by_state} in {run.seconds:.1f} s")
        rows += run_trafilatura_reference(copies, site)
    stage_clean = run_ours(copies, [c.text() for c in copies])
    rows.append(("stage only, copies' own text", stage_clean, None))
    stored_text = [
        runs[0].stored[i].text if i in runs[0].stored else "" for i in range(len(copies))
    ]
    stage_stored = run_ours(copies, stored_text)
    rows.append(("stage only, text the pipeline stored", stage_stored, None))

    table = Table(title=f"Stories end to end ({len(copies)} pages)")
    for col in ("system", "P", "R", "F1", "pages/s", "predicted pairs"):
        table.add_column(col, justify="left" if col == "system" else "right")
    for name, m, rate in rows:
        table.add_row(
            name,
            f"{m['P']:.4f}",
            f"{m['R']:.4f}",
            f"{m['F1']:.4f}",
            "-" if rate is None else f"{rate:.1f}",
            str(m["pairs"]),
        )
    console.print(table)
    for run in runs:
        report = diagnose(copies, run.clusters(len(copies)), run.stored)
        console.print(f"[bold]{run.database}[/bold]: " + report.summary())
        for line in report.cleaning_lines():
            console.print(f"  cleaning, {line}")
        if args.details:
            path = args.details.with_suffix(f".{run.database}.json")
            path.write_text(json.dumps(report.as_json(), indent=1, ensure_ascii=False))
            console.print(f"details written to {path}")


if __name__ == "__main__":
    main()
