"""Seed data and fixtures for the API and web UI tests: two users with keys, three outlets, a
wire story republished three times, other stories, and one hostile article.

Rows are written with the storage functions the pipeline uses (insert, claim, complete, attach),
so the API reads exactly what the service would have stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from storage import articles as article_store
from storage import feeds as feed_store
from storage import stories as story_store
from storage import topics as topic_store
from storage import users as user_store
from storage.db import session_scope
from tests.conftest import make_settings
from tests.support.databases import fresh_database
from tests.support.feeds import PARAGRAPHS
from tests.support.wire import INDEPENDENT, republications

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
HOSTILE_TITLE = 'Breaking <script>document.title="pwned"</script> news'
HOSTILE_HTML = (
    '<p>Body</p><script>document.title="pwned"</script><img src="x" onerror="document.title=1">'
    '<a href="javascript:alert(1)">click</a>'
)


@dataclass
class Seeded:
    url: str
    admin_key: str = ""
    user_key: str = ""
    admin_id: int = 0
    user_id: int = 0
    feeds: dict[str, int] = field(default_factory=dict)
    wire_story: int = 0
    other_stories: list[int] = field(default_factory=list)
    hostile_article: int = 0
    hostile_story: int = 0
    topic_id: int = 0  # the admin's topic, matched by the wire story
    user_topic_id: int = 0

    def auth(self, admin: bool = True) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_key if admin else self.user_key}"}


def add_article(session, *, feed_id: int, key: str, title: str, paragraphs: list[str],
                when: datetime, story_ids: set[int] | None = None, html: str | None = None,
                language: str = "en", wire: str | None = None) -> tuple[int, int]:
    """Store one processed article and put it in a story; returns (article id, story id)."""
    (aid,) = article_store.insert_entries(
        session=session, feed_id=feed_id, now=when,
        entries=[article_store.NewEntry(key=key, url=f"https://{key}.test/a", title=title,
                                        content=None, author=None, published=when)],
    )
    assert article_store.claim_article(session=session, article_id=aid, now=when, lease=60)
    text = "\n\n".join(paragraphs)
    article_store.complete_article(
        session=session, article_id=aid, now=when, title=title, text=text,
        html=html or "".join(f"<p>{p}</p>" for p in paragraphs), published=when,
        language=language, word_count=len(text.split()), wire_source=wire,
        canonical_url=f"https://{key}.test/a",
    )
    article = article_store.get_article(session=session, article_id=aid)
    session.refresh(article)
    sid, _ = story_store.attach(session=session, article=article, story_ids=story_ids or set(),
                                now=when)
    return aid, sid


def seed(url: str) -> Seeded:
    s = Seeded(url=url)
    with session_scope(url) as session:
        admin = user_store.create_user(session=session, name="alice", is_admin=True)
        user = user_store.create_user(session=session, name="bob")
        s.admin_id, s.user_id = admin.id, user.id
        s.admin_key = user_store.create_key(session=session, user_id=admin.id)
        s.user_key = user_store.create_key(session=session, user_id=user.id)
        for name in ("wire-daily", "the-courier", "metro-news"):
            feed = feed_store.add_feed(session=session, url=f"https://{name}.test/feed.xml",
                                       title=name.replace("-", " ").title())
            s.feeds[name] = feed.id
        copies = []
        for i, (outlet, (headline, paragraphs)) in enumerate(republications().items()):
            aid, sid = add_article(
                session, feed_id=s.feeds[outlet], key=f"{outlet}-treaty", title=headline,
                paragraphs=paragraphs, when=T0 + timedelta(minutes=10 * i),
                story_ids={s.wire_story} if s.wire_story else None, wire="Reuters",
            )
            s.wire_story = sid
            copies.append(aid)
        _, sid = add_article(session, feed_id=s.feeds["the-courier"], key="courier-own",
                             title="Forty nations back livestock disease pact",
                             paragraphs=INDEPENDENT, when=T0 + timedelta(hours=1))
        s.other_stories.append(sid)
        _, sid = add_article(session, feed_id=s.feeds["metro-news"], key="metro-rates",
                             title="Central bank raises rates again", paragraphs=PARAGRAPHS,
                             when=T0 + timedelta(hours=2))
        s.other_stories.append(sid)
        _, sid = add_article(session, feed_id=s.feeds["metro-news"], key="metro-zurich",
                             title="Zürich café prices soar", language="de",
                             paragraphs=["Prices in Zürich cafés rose by a fifth this year, "
                                         "according to the city's statistics office."],
                             when=T0 + timedelta(hours=3))
        s.other_stories.append(sid)
        s.hostile_article, s.hostile_story = add_article(
            session, feed_id=s.feeds["wire-daily"], key="hostile", title=HOSTILE_TITLE,
            paragraphs=['<script>document.title="pwned"</script> plain text'],
            html=HOSTILE_HTML, when=T0 + timedelta(hours=4),
        )
        topic = topic_store.create_topic(session=session, owner_id=admin.id, name="Treaty",
                                         query="treaty OR livestock", private=True)
        s.topic_id = topic.id
        for aid in copies:
            topic_store.record_matches(session=session, article_id=aid, story_id=s.wire_story,
                                       topic_ids={topic.id}, now=T0)
        s.user_topic_id = topic_store.create_topic(
            session=session, owner_id=user.id, name="Rates", query="rates", private=True).id
    return s


@pytest.fixture
def seeded(db_url: str) -> Seeded:
    return seed(db_url)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def shared(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    """One seeded database per module and backend, for tests that only read (fast)."""
    if request.param == "postgres":
        request.getfixturevalue("_postgres")
    with fresh_database(request.param, tmp_path_factory.mktemp("api")) as url:
        yield seed(url)


@pytest.fixture(scope="module")
def api(shared: Seeded) -> TestClient:
    with TestClient(create_app(make_settings(shared.url))) as c:
        yield c


@pytest.fixture
def client(seeded: Seeded) -> TestClient:
    with TestClient(create_app(make_settings(seeded.url))) as c:
        yield c


def test_seed_joins_the_wire_copies(seeded: Seeded) -> None:
    with session_scope(seeded.url) as session:
        members = story_store.members(session=session, story_id=seeded.wire_story)
    assert len(members) == 3
