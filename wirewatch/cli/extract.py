"""`wirewatch extract`: the cleaning stage alone, on files or URLs, to see why a site extracts
the way it does."""

from __future__ import annotations

import dataclasses
import gzip
import json
from datetime import datetime
from pathlib import Path

import typer

from wirewatch.cli import settings_or_exit
from wirewatch.errors import WirewatchError


def extract(
    inputs: list[str] = typer.Argument(..., help="Files (.html, .html.gz) or http(s) URLs."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per input per line."),
) -> None:
    """Clean pages to their main text: plain text for one input, JSON lines with --json."""
    from wirewatch.net import fetch
    from worker.extract import extract_article

    settings = settings_or_exit()
    failed = 0
    for item in inputs:
        try:
            if item.startswith(("http://", "https://")):
                response = fetch(item, settings=settings, max_bytes=settings.page_max_bytes,
                                 accept="text/html")
                data, url, charset = response.content, response.url, response.charset
            else:
                data, url, charset = _read(Path(item)), Path(item).resolve().as_uri(), None
            article = extract_article(data, url=url, charset=charset)
        except (OSError, WirewatchError) as exc:
            failed += 1
            message = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            if as_json:
                typer.echo(json.dumps({"input": item, "error": message}))
            typer.echo(f"error: {item}: {message}", err=True)
            continue
        if as_json:
            record = {"input": item, **dataclasses.asdict(article)}
            typer.echo(json.dumps(record, default=_plain, ensure_ascii=False))
        else:
            if len(inputs) > 1:
                typer.echo(f"==> {item} <==")
            typer.echo(article.text)
    if failed:
        raise typer.Exit(1)


def _read(path: Path) -> bytes:
    data = path.read_bytes()
    if path.suffix == ".gz" or data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data


def _plain(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)
