"""Republished copies as outlets on 127.0.0.1: each outlet one RSS feed listing its copies, each
copy one page rendered on its outlet's template; every page URL maps back to exactly one copy.

The files are written to a folder and served by a static HTTP server in its own process, so the
server never competes with the pipeline for this interpreter's lock.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC
from email.utils import format_datetime
from html import escape
from pathlib import Path

from bench.republish import TEMPLATES, Copy, render_page

SUMMARY_WORDS = 30


@dataclass
class Site:
    feeds: list[str]  # one RSS URL per outlet
    copy_of: dict[str, int]  # page URL -> index of the copy in the generated list
    pages: list[str]  # page HTML, by copy index


def slug(text: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in text.lower()).split()[:8]) or "x"


def template_for(outlet: str) -> str:
    """An outlet publishes every copy on one template, chosen by its name."""
    return TEMPLATES[zlib.crc32(outlet.encode()) % len(TEMPLATES)]


def write_site(copies: list[Copy], *, root: Path, origin: str, summaries: bool = True) -> Site:
    """Pages and feeds under `root`; links are absolute URLs under `origin`."""
    by_outlet: dict[str, list[int]] = {}
    for i, c in enumerate(copies):
        by_outlet.setdefault(c.outlet, []).append(i)
    site = Site(feeds=[], copy_of={}, pages=[""] * len(copies))
    for outlet, members in by_outlet.items():
        folder = root / slug(outlet)
        folder.mkdir(parents=True, exist_ok=True)
        template = template_for(outlet)
        items = []
        for i in members:
            c = copies[i]
            name = f"{i}-{slug(c.title)}.html"
            page = render_page(c, template=template)
            (folder / name).write_text(page, encoding="utf-8")
            url = f"{origin}/{slug(outlet)}/{name}"
            site.copy_of[url] = i
            site.pages[i] = page
            summary = " ".join(c.paragraphs[0].split()[:SUMMARY_WORDS]) + "…" if summaries else ""
            items.append(
                f"<item><title>{escape(c.title)}</title><link>{escape(url)}</link>"
                f'<guid isPermaLink="true">{escape(url)}</guid>'
                f"<description>{escape(summary)}</description>"
                f"<pubDate>{format_datetime(c.published.replace(tzinfo=UTC))}</pubDate></item>"
            )
        rss = (
            '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
            f"<title>{escape(outlet)}</title><link>{origin}/{slug(outlet)}/</link>"
            f"<description>Latest news from {escape(outlet)}</description>"
            + "".join(items)
            + "</channel></rss>"
        )
        (folder / "feed.xml").write_text(rss, encoding="utf-8")
        site.feeds.append(f"{origin}/{slug(outlet)}/feed.xml")
    return site


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve_folder(root: Path, *, port: int) -> Iterator[str]:
    """Serve `root` on http://127.0.0.1:port from a child process; yields the origin."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "http.server",
            str(port),
            "--bind",
            "127.0.0.1",
            "--directory",
            str(root),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("the static page server did not start") from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
