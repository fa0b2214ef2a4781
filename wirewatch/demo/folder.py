"""The demo folder: its own SQLite database, migrated, with the newsroom's feeds, two topics and
their webhook subscriptions; a second run reuses it (feeds and hooks re-pointed) or resets it.

The folder holds `wirewatch.db`, `demo.json` (the edition counter and the ids of the demo's
feeds and subscriptions) and `demo.log` (the service's log lines of the last run).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from storage import articles as article_store
from storage import feeds as feed_store
from storage import subscriptions as subscription_store
from storage import topics as topic_store
from storage.db import session_scope
from storage.migrate import upgrade
from storage.models import Article, Feed, Subscription, utcnow
from storage.users import create_key, get_or_create_user
from wirewatch.demo.catalogue import SUBJECT_TOPIC, WIRE_TOPIC
from wirewatch.demo.plan import OUTLET_BY_SLUG
from worker.alerts import new_webhook_secret
from worker.topics import validate_query

DB_FILE, STATE_FILE, LOG_FILE = "wirewatch.db", "demo.json", "demo.log"
OWNER = "admin"  # the CLI's default user, so `wirewatch topics list` shows the demo's topics
# (topic, query, webhook endpoint in the newsroom): the first is counted, the second printed.
TOPICS = ((*WIRE_TOPIC, "counter"), (*SUBJECT_TOPIC, "console"))


@dataclass(frozen=True)
class Folder:
    path: Path
    database_url: str
    edition: int  # 1 for a new folder; each run publishes its own edition of the news
    reused: bool


@dataclass(frozen=True)
class DemoTopic:
    id: int
    name: str
    query: str
    hook: str
    subscription_id: int
    secret: str


def prepare_folder(path: Path, *, reset: bool = False) -> Folder:
    """Create (or with `reset`, empty) the folder and bring its database to the current schema."""
    path = path.expanduser().resolve()
    if reset:
        for name in (DB_FILE, f"{DB_FILE}-wal", f"{DB_FILE}-shm", STATE_FILE, LOG_FILE):
            (path / name).unlink(missing_ok=True)
    path.mkdir(parents=True, exist_ok=True)
    state = _read_state(path)
    reused = (path / DB_FILE).exists()
    if not reused:
        edition = 1
    elif "edition" in state:
        edition = int(state["edition"]) + 1
    else:  # a database without its state file: an edition no earlier run can have used
        edition = int(time.time())
    database_url = f"sqlite:///{path / DB_FILE}"
    upgrade(database_url)
    _write_state(path, {**state, "edition": edition})
    return Folder(path=path, database_url=database_url, edition=edition, reused=reused)


def subscribe_demo(
    folder: Folder, *, feed_urls: dict[str, str], hook_urls: dict[str, str], interval: int
) -> tuple[list[int], list[DemoTopic]]:
    """The newsroom's feeds (polled every `interval` s) and the two topics with a webhook
    subscription each, created or, in a reused folder, pointed at this run's newsroom."""
    state = _read_state(folder.path)
    known_feeds: dict[str, int] = state.get("feeds", {})
    known_subs: dict[str, int] = state.get("subscriptions", {})
    now = utcnow()
    feed_ids: dict[str, int] = {}
    topics: list[DemoTopic] = []
    with session_scope(folder.database_url) as session:
        for slug, url in feed_urls.items():
            feed = session.get(Feed, known_feeds[slug]) if slug in known_feeds else None
            if feed is None:
                feed = feed_store.add_feed(session=session, url=url)
            # Written here rather than through storage.feeds: only the demo moves a feed to
            # another address (its newsroom gets a new port each run) and forgets its cache.
            feed.url, feed.title = url, OUTLET_BY_SLUG[slug].name
            feed.interval_override, feed.next_poll_at = interval, now
            feed.etag = feed.last_modified = None
            feed.error_count, feed.last_error, feed.disabled = 0, None, False
            session.add(feed)
            session.flush()
            feed_ids[slug] = feed.id
        owner = get_or_create_user(session=session, name=OWNER, is_admin=True).id
        for name, query, hook in TOPICS:
            topic = topic_store.get_topic_by_name(
                session=session, owner_id=owner, name=name
            ) or topic_store.create_topic(
                session=session, owner_id=owner, name=name, query=validate_query(query)
            )
            sub = session.get(Subscription, known_subs[hook]) if hook in known_subs else None
            if sub is None or sub.topic_id != topic.id:
                sub = subscription_store.create_subscription(
                    session=session,
                    owner_id=owner,
                    topic_id=topic.id,
                    channel="webhook",
                    target=hook_urls[hook],
                    secret=new_webhook_secret(),
                )
            sub.target, sub.disabled, sub.disabled_reason = hook_urls[hook], False, None
            session.add(sub)
            session.flush()
            topics.append(DemoTopic(topic.id, topic.name, topic.query, hook, sub.id, sub.secret))
        _retire_unfinished(session, list(feed_ids.values()))
    _write_state(
        folder.path,
        {**state, "feeds": feed_ids, "subscriptions": {t.hook: t.subscription_id for t in topics}},
    )
    return list(feed_ids.values()), topics


def owner_key(folder: Folder) -> str:
    """A new API key of the demo's admin (keys are stored hashed: this is its only showing)."""
    with session_scope(folder.database_url) as session:
        owner = get_or_create_user(session=session, name=OWNER, is_admin=True)
        return create_key(session=session, user_id=owner.id)


def _retire_unfinished(session, feed_ids: list[int]) -> None:  # noqa: ANN001
    """Articles a previous run left unfinished link to a newsroom that is gone: fail them now,
    rather than let the workers retry dead addresses during this run."""
    ids = session.execute(
        select(Article.id).where(
            Article.feed_id.in_(feed_ids), Article.state.in_(("pending", "fetching"))
        )
    ).scalars()
    for article_id in ids:
        article_store.fail_article(
            session=session,
            article_id=article_id,
            now=utcnow(),
            error="the demo run that published it ended before it was processed",
        )


def _read_state(path: Path) -> dict:
    try:
        return json.loads((path / STATE_FILE).read_text())
    except (OSError, ValueError):
        return {}


def _write_state(path: Path, state: dict) -> None:
    (path / STATE_FILE).write_text(json.dumps(state, indent=2) + "\n")
