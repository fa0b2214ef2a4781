"""`wirewatch feeds …`: add, import, export, list, remove, enable and disable feeds."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from storage import feeds as feed_store
from storage.db import session_scope
from storage.migrate import check_migrated
from wirewatch.cli import fail, settings_or_exit
from wirewatch.opml import OPMLError, Outline, parse_opml, write_opml
from wirewatch.urls import InvalidFeedURL, normalise_feed_url

app = typer.Typer(help="Manage the feeds Wirewatch polls.", no_args_is_help=True)
err = Console(stderr=True)


def _ready():  # noqa: ANN202
    settings = settings_or_exit()
    check_migrated(settings.database_url)
    return settings


@app.command("add")
def add(
    urls: list[str] = typer.Argument(..., help="Feed URLs (RSS, Atom or JSON Feed)."),
    title: str = typer.Option(None, help="Title to show instead of the feed's own."),
    interval: str = typer.Option(
        None,
        help="Poll at this fixed interval (90s, 10m, 2h) "
        "instead of adapting to the feed's publishing rate.",
    ),
) -> None:
    """Subscribe to one or more feeds; they are polled on the next scheduler pass."""
    settings = _ready()
    seconds = parse_interval(interval) if interval else None
    problems = 0
    for raw in urls:
        try:
            url = normalise_feed_url(raw)
            with session_scope(settings.database_url) as session:
                feed = feed_store.add_feed(session=session, url=url, title=title)
                feed.interval_override = seconds
                typer.echo(f"added feed {feed.id}: {url}")
        except (InvalidFeedURL, feed_store.DuplicateFeedError) as exc:
            err.print(f"[red]error[/red]: {raw}: {exc}")
            problems += 1
    if problems:
        raise typer.Exit(1)


@app.command("import")
def import_opml(
    path: Path = typer.Argument(..., help="An OPML file (folders are flattened)."),
) -> None:
    """Subscribe to every feed of an OPML file; feeds already there are skipped."""
    settings = _ready()
    try:
        parsed = parse_opml(path.read_bytes())
    except OSError as exc:
        raise fail(f"cannot read {path}: {exc.strerror}") from None
    except OPMLError as exc:
        raise fail(f"{path}: {exc}") from None
    for reason in parsed.skipped:
        err.print(f"[yellow]skipped[/yellow] {reason}")
    added = duplicates = 0
    batch = 500
    with session_scope(settings.database_url) as session:
        known = feed_store.existing_urls(session=session)
    with Progress(
        TextColumn("importing"), BarColumn(), MofNCompleteColumn(), console=err, transient=True
    ) as progress:
        task = progress.add_task("import", total=len(parsed.feeds))
        for start in range(0, len(parsed.feeds), batch):
            chunk = parsed.feeds[start : start + batch]
            fresh = [o for o in chunk if o.url not in known]
            duplicates += len(chunk) - len(fresh)
            with session_scope(settings.database_url) as session:
                added += feed_store.add_feeds(
                    session=session, feeds=[(o.url, o.title) for o in fresh]
                )
            known.update(o.url for o in fresh)
            progress.advance(task, len(chunk))
    typer.echo(
        f"imported {added} feeds ({duplicates} already subscribed, "
        f"{len(parsed.skipped)} skipped) from {path}"
    )


@app.command("export")
def export() -> None:
    """Write every feed as OPML to standard output."""
    settings = _ready()
    with session_scope(settings.database_url) as session:
        feeds = [
            Outline(url=s.feed.url, title=s.feed.title)
            for s in feed_store.list_feeds(session=session)
        ]
    typer.echo(write_opml(feeds), nl=False)


@app.command("list")
def list_(as_json: bool = typer.Option(False, "--json", help="A JSON list, for scripts.")) -> None:
    """Every feed with its polling state: last and next poll, entries, errors."""
    settings = _ready()
    with session_scope(settings.database_url) as session:
        rows = feed_store.list_feeds(session=session)
    if as_json:
        typer.echo(json.dumps([_feed_json(r) for r in rows], indent=2))
        return
    table = Table(title=f"{len(rows)} feeds", title_justify="left")
    for column in ("id", "feed", "last poll", "next poll", "entries", "errors", "last error"):
        table.add_column(
            column,
            overflow="fold",
            justify="right" if column in ("id", "entries", "errors") else "left",
        )
    for r in rows:
        f = r.feed
        name = f"{f.title}\n[dim]{f.url}[/dim]" if f.title else f.url
        next_poll = "[red]disabled[/red]" if f.disabled else _when(f.next_poll_at)
        table.add_row(
            str(f.id),
            name,
            _when(f.last_polled_at),
            next_poll,
            str(r.entries),
            str(f.error_count) if f.error_count else "",
            (f.last_error or "")[:120],
        )
    Console().print(table)


@app.command("remove")
def remove(feed_id: int) -> None:
    """Unsubscribe from a feed and delete its stored entries."""
    settings = _ready()
    with session_scope(settings.database_url) as session:
        if not feed_store.remove_feed(session=session, feed_id=feed_id):
            raise fail(f"no feed with id {feed_id}")
    typer.echo(f"removed feed {feed_id}")


@app.command("interval")
def interval(
    feed_id: int,
    every: str = typer.Argument(
        ..., help="A fixed interval (90s, 10m, 2h), or 'auto' to adapt to the feed again."
    ),
) -> None:
    """Set a feed's polling interval by hand, or give it back to the adaptive schedule."""
    settings = _ready()
    seconds = None if every == "auto" else parse_interval(every)
    with session_scope(settings.database_url) as session:
        feed = feed_store.get_feed(session=session, feed_id=feed_id)
        if feed is None:
            raise fail(f"no feed with id {feed_id}")
        feed.interval_override = seconds
        session.add(feed)
    typer.echo(
        f"feed {feed_id}: "
        + ("adaptive interval" if seconds is None else f"polled every {seconds}s")
    )


def parse_interval(text: str) -> int:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    value = text.strip().lower()
    if value[-1:] in units and value[:-1].isdigit() and int(value[:-1]) > 0:
        return int(value[:-1]) * units[value[-1]]
    raise fail(f"{text!r} is not an interval: use a number with s, m, h or d, e.g. 10m", 2)


@app.command("enable")
def enable(feed_id: int) -> None:
    """Poll a disabled feed again (its error count starts over)."""
    _set_enabled(feed_id, True)


@app.command("disable")
def disable(feed_id: int) -> None:
    """Stop polling a feed, keeping its entries."""
    _set_enabled(feed_id, False)


def _set_enabled(feed_id: int, enabled: bool) -> None:
    settings = _ready()
    with session_scope(settings.database_url) as session:
        if feed_store.set_feed_enabled(session=session, feed_id=feed_id, enabled=enabled) is None:
            raise fail(f"no feed with id {feed_id}")
    typer.echo(f"feed {feed_id} {'enabled' if enabled else 'disabled'}")


def _feed_json(r: feed_store.FeedStatus) -> dict:
    f = r.feed
    return {
        "id": f.id,
        "url": f.url,
        "title": f.title,
        "site_url": f.site_url,
        "entries": r.entries,
        "last_polled_at": _iso(f.last_polled_at),
        "next_poll_at": None if f.disabled else _iso(f.next_poll_at),
        "poll_interval": f.poll_interval,
        "interval_override": f.interval_override,
        "error_count": f.error_count,
        "last_error": f.last_error,
        "disabled": f.disabled,
        "disabled_reason": f.disabled_reason,
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "never"
