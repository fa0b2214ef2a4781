"""`wirewatch stories`: the stories found, newest first, and one story with all its copies."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import typer
from rich.console import Console
from rich.table import Table

from storage import stories as story_store
from storage.db import session_scope
from storage.migrate import check_migrated
from wirewatch.cli import fail, settings_or_exit
from worker.compare import compare

app = typer.Typer(
    help="Stories: each news item with every republished copy of it.", invoke_without_command=True
)


def parse_since(value: str | None) -> datetime | None:
    """`2026-11-01`, an ISO timestamp, or a relative `30m`, `12h`, `7d`."""
    if not value:
        return None
    units = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
    if value[-1:] in units and value[:-1].isdigit():
        return datetime.now(UTC) - timedelta(**{units[value[-1]]: int(value[:-1])})
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date (2026-11-01, 2026-11-01T08:00) or a duration (30m, 12h, 7d)"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@app.callback()
def stories(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="JSON for scripts."),
    since: str = typer.Option(None, help="Only stories first seen since: 2026-11-01, 12h, 7d."),
    limit: int = typer.Option(20, min=1, max=1000, help="How many stories."),
) -> None:
    """List stories, newest first, with their number of copies and wire source."""
    if ctx.invoked_subcommand is not None:
        return
    settings = settings_or_exit()
    check_migrated(settings.database_url)
    with session_scope(settings.database_url) as session:
        rows = story_store.list_stories(session=session, since=parse_since(since), limit=limit)
        members = story_store.members_of(
            session=session, story_ids=[r.id for r in rows], with_text=False
        )
    if as_json:
        typer.echo(json.dumps([story_json(r, members[r.id]) for r in rows], indent=2))
        return
    table = Table(title=f"{len(rows)} stories", title_justify="left")
    for col in ("id", "first seen", "title", "copies", "wire", "outlets"):
        table.add_column(
            col, justify="right" if col in ("id", "copies") else "left", overflow="fold"
        )
    for r in rows:
        outlets = sorted({m.feed_title or m.feed_url for m in members[r.id]})
        table.add_row(
            str(r.id),
            r.first_seen_at.strftime("%Y-%m-%d %H:%M"),
            r.title or "",
            str(r.member_count),
            r.wire_source or "",
            ", ".join(outlets)[:80],
        )
    Console().print(table)


@app.command("show")
def show(story_id: int, as_json: bool = typer.Option(False, "--json")) -> None:
    """One story: every copy with its outlet, time, headline and what it changed."""
    settings = settings_or_exit()
    check_migrated(settings.database_url)
    with session_scope(settings.database_url) as session:
        story = story_store.get_story(session=session, story_id=story_id)
        if story is None:
            raise fail(f"no story with id {story_id}")
        members = story_store.members(session=session, story_id=story.id)
    if as_json:
        typer.echo(json.dumps(story_json(story, members, with_changes=True), indent=2))
        return
    console = Console()
    console.print(f"[bold]{story.title}[/bold]")
    console.print(
        f"story {story.id} · first seen {story.first_seen_at:%Y-%m-%d %H:%M} · "
        f"{story.member_count} copies · wire: {story.wire_source or 'none detected'}"
    )
    rep = next(
        (m.article for m in members if m.article.id == story.representative_article_id), None
    )
    table = Table()
    for col in ("article", "outlet", "published", "headline", "changes"):
        table.add_column(col, overflow="fold")
    for m in members:
        a = m.article
        changes = (
            "representative"
            if rep is None or a.id == rep.id
            else compare(
                rep_title=rep.title, rep_text=rep.text, title=a.title, text=a.text
            ).summary()
        )
        table.add_row(
            str(a.id),
            m.feed_title or m.feed_url,
            _when(a.published),
            a.title or a.feed_title or "",
            changes,
        )
    console.print(table)


def story_json(story, members, *, with_changes: bool = False) -> dict:  # noqa: ANN001
    rep = next(
        (m.article for m in members if m.article.id == story.representative_article_id), None
    )
    articles = []
    for m in members:
        a = m.article
        item = {
            "id": a.id,
            "url": a.canonical_url or a.url,
            "title": a.title or a.feed_title,
            "feed": m.feed_title or m.feed_url,
            "feed_id": a.feed_id,
            "published": _iso(a.published),
            "wire_source": a.wire_source,
            "word_count": a.word_count,
        }
        if with_changes and rep is not None:
            item["changes"] = compare(
                rep_title=rep.title, rep_text=rep.text, title=a.title, text=a.text
            ).as_dict()
        articles.append(item)
    return {
        "id": story.id,
        "title": story.title,
        "first_seen": _iso(story.first_seen_at),
        "updated": _iso(story.updated_at),
        "wire_source": story.wire_source,
        "member_count": story.member_count,
        "representative_article_id": story.representative_article_id,
        "origin_feed_id": story.origin_feed_id,
        "articles": articles,
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""
