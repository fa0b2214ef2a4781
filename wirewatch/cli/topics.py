"""`wirewatch topics | subscribe | subscriptions | deliveries`: following topics, getting alerts."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from storage import deliveries as delivery_store
from storage import stories as story_store
from storage import subscriptions as subscription_store
from storage import topics as topic_store
from storage.db import session_scope
from storage.migrate import check_migrated
from storage.models import Story
from storage.users import get_or_create_user
from wirewatch.cli import fail, settings_or_exit

topics_app = typer.Typer(help="Topics: queries that tag stories.", no_args_is_help=True)
USER_OPTION = typer.Option("admin", "--user", help="Whose topics and subscriptions.")


def _ready():  # noqa: ANN202
    settings = settings_or_exit()
    check_migrated(settings.database_url)
    return settings


def _owner(session, name: str) -> int:  # noqa: ANN001
    return get_or_create_user(session=session, name=name, is_admin=name == "admin").id


def _query_or_exit(query: str) -> str:
    from worker.topics import QueryError, validate_query

    try:
        return validate_query(query)
    except QueryError as exc:
        pointer = ""
        if exc.position is not None:
            pointer = f"\n  {query}\n  {' ' * exc.position}^"
        raise fail(f"invalid query: {exc}{pointer}") from None


@topics_app.command("add")
def add(name: str, query: str, user: str = USER_OPTION) -> None:
    """Create a topic, e.g. wirewatch topics add syria 'wire:Reuters AND Syria'."""
    settings = _ready()
    normalised = _query_or_exit(query)
    with session_scope(settings.database_url) as session:
        try:
            topic = topic_store.create_topic(
                session=session, owner_id=_owner(session, user), name=name, query=normalised
            )
        except topic_store.DuplicateTopicError as exc:
            raise fail(str(exc)) from None
        typer.echo(f"added topic {topic.id}: {topic.name} = {topic.query}")


@topics_app.command("list")
def list_(user: str = USER_OPTION, as_json: bool = typer.Option(False, "--json")) -> None:
    """Your topics."""
    settings = _ready()
    with session_scope(settings.database_url) as session:
        topics = topic_store.list_topics(session=session, owner_id=_owner(session, user))
    if as_json:
        typer.echo(json.dumps([{"id": t.id, "name": t.name, "query": t.query} for t in topics]))
        return
    table = Table(title=f"{len(topics)} topics", title_justify="left")
    for col in ("id", "name", "query"):
        table.add_column(col, overflow="fold")
    for t in topics:
        table.add_row(str(t.id), t.name, t.query)
    Console().print(table)


@topics_app.command("remove")
def remove(topic_id: int, user: str = USER_OPTION) -> None:
    """Delete a topic and its subscriptions."""
    settings = _ready()
    with session_scope(settings.database_url) as session:
        if not topic_store.delete_topic(
            session=session, topic_id=topic_id, owner_id=_owner(session, user)
        ):
            raise fail(f"no topic with id {topic_id}")
    typer.echo(f"removed topic {topic_id}")


@topics_app.command("test")
def test(
    query: str,
    last: int = typer.Option(
        200, "--last", min=1, max=10000, help="How many recent stories to try."
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Dry run: which of the last N stored stories the query would match."""
    from worker.tagging import document_for
    from worker.topics import TopicIndex

    settings = _ready()
    normalised = _query_or_exit(query)
    index = TopicIndex([(1, normalised)])
    hits = []
    with session_scope(settings.database_url) as session:
        for story in story_store.list_stories(session=session, limit=last):
            for member in story_store.members(session=session, story_id=story.id):
                feed_name = member.feed_title or member.feed_url
                if index.match(document_for(member.article, feed_name)):
                    hits.append(story)
                    break
    if as_json:
        typer.echo(json.dumps([{"id": s.id, "title": s.title} for s in hits]))
        return
    typer.echo(f"{len(hits)} of the last {last} stories match {normalised}")
    for s in hits:
        typer.echo(f"  {s.id:>6}  {s.first_seen_at:%Y-%m-%d %H:%M}  {s.title}")


def subscribe(
    topic: str = typer.Argument(..., help="Topic name or id."),
    webhook: str = typer.Option(None, help="POST signed JSON (Standard Webhooks) to this URL."),
    secret: str = typer.Option(None, help="Webhook secret (whsec_…); generated when not given."),
    email: str = typer.Option(None, help="Send an email to this address."),
    apprise: str = typer.Option(None, help="Any Apprise URL: Slack, Telegram, Discord, ntfy…"),
    digest: str = typer.Option(None, help="Collect alerts and send every 30m, 1h, 1d …"),
    user: str = USER_OPTION,
) -> None:
    """Get an alert for every new story of a topic (once per story, not per copy)."""
    from worker.alerts import new_webhook_secret, validate_target

    settings = _ready()
    given = (("webhook", webhook), ("email", email), ("apprise", apprise))
    chosen = [(c, t) for c, t in given if t]
    if len(chosen) != 1:
        raise fail("give exactly one of --webhook URL, --email ADDRESS or --apprise URL", 2)
    channel, target = chosen[0]
    try:
        target = validate_target(channel, target, settings=settings)
    except ValueError as exc:
        raise fail(f"{channel}: {exc}") from None
    if channel == "webhook":
        secret = secret or new_webhook_secret()
        if not secret.startswith("whsec_"):
            raise fail("a webhook secret looks like whsec_<base64>; leave it out to get one")
    digest_seconds = _duration(digest) if digest else None
    with session_scope(settings.database_url) as session:
        owner = _owner(session, user)
        found = (
            topic_store.get_topic(session=session, topic_id=int(topic), owner_id=owner)
            if topic.isdigit()
            else topic_store.get_topic_by_name(session=session, owner_id=owner, name=topic)
        )
        if found is None:
            raise fail(f"no topic {topic!r} (see `wirewatch topics list`)")
        sub = subscription_store.create_subscription(
            session=session,
            owner_id=owner,
            topic_id=found.id,
            channel=channel,
            target=target,
            secret=secret if channel == "webhook" else None,
            digest_seconds=digest_seconds,
        )
        typer.echo(
            f"subscription {sub.id}: {found.name} → {channel} {target}"
            + (f" (digest every {digest})" if digest else "")
        )
    if channel == "webhook" and secret:
        typer.echo(f"webhook secret (shown once): {secret}")


def subscriptions(user: str = USER_OPTION, as_json: bool = typer.Option(False, "--json")) -> None:
    """Your subscriptions."""
    settings = _ready()
    with session_scope(settings.database_url) as session:
        subs = subscription_store.list_subscriptions(
            session=session, owner_id=_owner(session, user)
        )
    rows = [
        {
            "id": s.id,
            "topic_id": s.topic_id,
            "channel": s.channel,
            "target": s.target,
            "digest_seconds": s.digest_seconds,
            "disabled": s.disabled,
            "disabled_reason": s.disabled_reason,
        }
        for s in subs
    ]
    if as_json:
        typer.echo(json.dumps(rows))
        return
    table = Table(title=f"{len(rows)} subscriptions", title_justify="left")
    for col in ("id", "topic", "channel", "target", "mode", "state"):
        table.add_column(col, overflow="fold")
    for r in rows:
        mode = f"digest {r['digest_seconds']}s" if r["digest_seconds"] else "immediate"
        state = f"[red]disabled[/red] {r['disabled_reason'] or ''}" if r["disabled"] else "active"
        table.add_row(str(r["id"]), str(r["topic_id"]), r["channel"], r["target"], mode, state)
    Console().print(table)


def deliveries(
    failed: bool = typer.Option(False, "--failed", help="Only failed or dead ones."),
    limit: int = typer.Option(50, min=1, max=1000),
    user: str = USER_OPTION,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """The alert log: what was sent to whom, and what failed and why."""
    settings = _ready()
    with session_scope(settings.database_url) as session:
        rows = delivery_store.list_deliveries(
            session=session, owner_id=_owner(session, user), failed_only=failed, limit=limit
        )
        titles = dict(
            session.execute(
                select(Story.id, Story.title).where(Story.id.in_([r.story_id for r in rows]))
            ).all()
        )
    data = [
        {
            "id": r.id,
            "subscription_id": r.subscription_id,
            "story_id": r.story_id,
            "story": titles.get(r.story_id),
            "state": r.state,
            "attempts": r.attempts,
            "last_error": r.last_error,
            "created_at": r.created_at.isoformat(),
            "sent_at": r.sent_at.isoformat() if r.sent_at else None,
        }
        for r in rows
    ]
    if as_json:
        typer.echo(json.dumps(data))
        return
    table = Table(title=f"{len(data)} deliveries", title_justify="left")
    for col in ("id", "sub", "story", "state", "tries", "last error"):
        table.add_column(col, overflow="fold")
    colour = {"sent": "green", "dead": "red", "pending": "yellow", "sending": "cyan"}
    for d in data:
        table.add_row(
            str(d["id"]),
            str(d["subscription_id"]),
            (d["story"] or "")[:60],
            f"[{colour.get(d['state'], 'white')}]{d['state']}[/]",
            str(d["attempts"]),
            (d["last_error"] or "")[:80],
        )
    Console().print(table)


def _duration(text: str) -> int:
    units = {"m": 60, "h": 3600, "d": 86400}
    if text[-1:] in units and text[:-1].isdigit() and int(text[:-1]) > 0:
        return int(text[:-1]) * units[text[-1]]
    raise fail(f"--digest {text!r}: use a number with m, h or d, e.g. 30m, 1h, 1d", 2)


def register(app: typer.Typer) -> None:
    app.add_typer(topics_app, name="topics")
    app.command("subscribe")(subscribe)
    subs_app = typer.Typer(
        help="Your subscriptions (`wirewatch subscriptions list`).", invoke_without_command=True
    )

    @subs_app.callback()
    def _default(
        ctx: typer.Context, user: str = USER_OPTION, as_json: bool = typer.Option(False, "--json")
    ) -> None:
        if ctx.invoked_subcommand is None:
            subscriptions(user=user, as_json=as_json)

    subs_app.command("list")(subscriptions)
    app.add_typer(subs_app, name="subscriptions")
    app.command("deliveries")(deliveries)
