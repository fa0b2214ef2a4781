"""The REST API on SQLite and PostgreSQL: keys, search, filters, pages, articles and stories."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import select

from api.app import create_app
from storage import stories as story_store
from storage.db import session_scope
from storage.models import Article
from tests import test_api_data as data
from tests.conftest import make_settings
from tests.test_api_data import Seeded

# fixtures
shared = data.shared
api = data.api


def test_every_api_call_needs_a_key(api: TestClient, shared: Seeded) -> None:
    r = api.get("/api/stories")
    assert r.status_code == 401
    assert "Authorization: Bearer" in r.json()["error"]
    assert r.headers["www-authenticate"] == "Bearer"
    r = api.get("/api/stories", headers={"Authorization": "Bearer ww_not-a-real-key"})
    assert r.status_code == 401 and r.json()["error"] == "unknown or revoked API key"
    assert api.get("/healthz").status_code == 200
    assert api.get("/readyz").json()["ready"] is True
    assert api.get("/api/me", headers=shared.auth(False)).json()["name"] == "bob"


def _ids(r) -> list[int]:  # noqa: ANN001
    assert r.status_code == 200, r.text
    return [item["id"] for item in r.json()["items"]]


def test_search_speaks_the_topic_language(api: TestClient, shared: Seeded) -> None:
    h = shared.auth()

    def titles(q: str) -> set[str]:
        r = api.get("/api/articles", params={"q": q}, headers=h)
        assert r.status_code == 200, r.text
        return {item["title"] for item in r.json()["items"]}

    treaty = titles("treaty")
    assert "Countries agree draft treaty on animal disease data" in treaty
    assert "Central bank raises rates again" not in treaty
    assert titles('"interest rate"') == {"Central bank raises rates again"}
    assert "Forty nations back livestock disease pact" in titles("livest*")
    assert titles("livestock AND NOT Reuters") == titles("livestock -Reuters")
    assert "Forty nations back livestock disease pact" in titles("livestock -Reuters")
    assert all("Reuters" not in t for t in titles("livestock -Reuters"))
    assert titles("title:pact") == {"Forty nations back livestock disease pact"}
    assert titles("zurich") == {"Zürich café prices soar"}  # accents are ignored
    assert titles("cafe AND prices") == {"Zürich café prices soar"}
    assert titles("treaty OR rates") >= {"Central bank raises rates again"}
    assert titles("Iranian") == set()


def test_search_ranks_title_matches_first(api: TestClient, shared: Seeded) -> None:
    r = api.get("/api/articles", params={"q": "livestock"}, headers=shared.auth())
    items = r.json()["items"]
    assert items[0]["title"] == "Forty nations back livestock disease pact"
    assert items[0]["score"] >= items[-1]["score"]


def test_hostile_search_text_is_refused_or_harmless(api: TestClient, shared: Seeded) -> None:
    h = shared.auth()
    for q in ("'; DROP TABLE article; --", '" OR 1=1 --', "NEAR(a b)", "a:*", "title : x)",
              "*", "NOT treaty", "(", "x OR NOT y", "wire:Reuters", "\x00"):
        r = api.get("/api/articles", params={"q": q}, headers=h)
        assert r.status_code in (200, 400), (q, r.status_code, r.text)
        assert "error" in r.json() or "items" in r.json()
        if r.status_code == 400:
            assert r.json()["error"].startswith("q: ")
    with session_scope(shared.url) as session:
        assert len(session.exec(select(Article)).all()) == 7


def test_filters(api: TestClient, shared: Seeded) -> None:
    h = shared.auth()
    wire = set(_ids(api.get("/api/articles", params={"story": shared.wire_story}, headers=h)))
    assert len(wire) == 3
    assert set(_ids(api.get("/api/articles", params={"wire": "reuters"}, headers=h))) == wire
    courier = _ids(api.get("/api/articles", params={"feed": shared.feeds["the-courier"]},
                              headers=h))
    assert len(courier) == 2
    assert len(_ids(api.get("/api/articles", params={"lang": "de"}, headers=h))) == 1
    topic = _ids(api.get("/api/articles", params={"topic": shared.topic_id}, headers=h))
    assert set(topic) == wire
    late = _ids(api.get("/api/articles", params={"since": "2026-11-01T10:30:00Z"}, headers=h))
    assert len(late) == 2
    early = _ids(api.get("/api/articles", params={"until": "2026-11-01T08:15:00"}, headers=h))
    assert len(early) == 2
    stories = _ids(api.get("/api/stories", params={"topic": shared.topic_id}, headers=h))
    assert stories == [shared.wire_story]
    stories = _ids(api.get("/api/stories", params={"q": "rates"}, headers=h))
    assert stories == [shared.other_stories[1]]
    # another user's topic is not a filter you may use
    r = api.get("/api/articles", params={"topic": shared.user_topic_id}, headers=h)
    assert r.status_code == 404 and r.json()["error"] == f"no topic with id {shared.user_topic_id}"


def test_cursor_pages_cover_everything_once(api: TestClient, shared: Seeded) -> None:
    h = shared.auth()
    for path, params in (("/api/articles", {}), ("/api/articles", {"q": "the"}),
                         ("/api/articles", {"q": "the", "sort": "newest"}), ("/api/stories", {})):
        seen, cursor = [], None
        while True:
            r = api.get(path, params={**params, "limit": 2, **({"cursor": cursor} if cursor
                                                                   else {})}, headers=h)
            seen += _ids(r)
            cursor = r.json()["next_cursor"]
            if cursor is None:
                break
        full = _ids(api.get(path, params={**params, "limit": 100}, headers=h))
        assert seen == full and len(set(seen)) == len(seen) and seen, path


def test_bad_cursors_and_limits(api: TestClient, shared: Seeded) -> None:
    h = shared.auth()
    for cursor in ("garbage", "eyJrIjoicyJ9", "e30", "!!!", "eyJrIjoiYW4iLCJiIjoieCJ9"):
        r = api.get("/api/articles", params={"cursor": cursor}, headers=h)
        assert r.status_code == 400 and "invalid cursor" in r.json()["error"], cursor
        r = api.get("/api/stories", params={"cursor": cursor}, headers=h)
        assert r.status_code == 400, cursor
    r = api.get("/api/articles", params={"limit": 10**9}, headers=h)
    assert r.status_code == 200 and len(r.json()["items"]) == 7  # clamped to 100
    r = api.get("/api/articles", params={"limit": 0}, headers=h)
    assert r.status_code == 422 and "limit (query)" in r.json()["error"]
    r = api.get("/api/articles", params={"limit": "many"}, headers=h)
    assert r.status_code == 422 and "limit" in r.json()["error"]
    r = api.get("/api/articles", params={"since": "yesterday-ish"}, headers=h)
    assert r.status_code == 422 and "since" in r.json()["error"]


def test_article_html_is_sanitised(api: TestClient, shared: Seeded) -> None:
    r = api.get(f"/api/articles/{shared.hostile_article}", headers=shared.auth())
    body = r.json()
    assert body["html"].startswith("<p>Body</p>")
    for bad in ("<script", "onerror", "javascript:"):
        assert bad not in body["html"]
    assert body["story"]["id"] == shared.hostile_story
    assert r.headers["content-security-policy"].startswith("default-src 'self'")
    assert api.get("/api/articles/999999", headers=shared.auth()).status_code == 404


def test_stories_newest_first_with_copies(api: TestClient, shared: Seeded) -> None:
    r = api.get("/api/stories", headers=shared.auth())
    items = r.json()["items"]
    assert [i["id"] for i in items][-1] == shared.wire_story
    firsts = [i["first_seen"] for i in items]
    assert firsts == sorted(firsts, reverse=True)
    wire = items[-1]
    assert set(wire) >= {"id", "title", "first_seen", "wire_source", "articles"}
    assert wire["wire_source"] == "Reuters" and len(wire["articles"]) == 3
    assert set(wire["articles"][0]) >= {"id", "url", "feed", "published"}


def test_one_story_shows_what_each_copy_changed(api: TestClient, shared: Seeded) -> None:
    body = api.get(f"/api/stories/{shared.wire_story}", headers=shared.auth()).json()
    by_feed = {a["feed"]: a for a in body["articles"]}
    assert set(by_feed) == {"Wire Daily", "The Courier", "Metro News"}
    courier = by_feed["The Courier"]
    assert courier["changes"]["headline_changed"] is True
    assert courier["changes"]["paragraphs_removed"] >= 2
    assert "representative" in {a["summary"] for a in body["articles"]}
    assert body["topics"] == [{"id": shared.topic_id, "name": "Treaty"}]
    # bob sees the story but not alice's topics on it
    other = api.get(f"/api/stories/{shared.wire_story}", headers=shared.auth(False)).json()
    assert other["topics"] == []
    assert api.get("/api/stories/0", headers=shared.auth()).status_code == 404


def test_a_merged_story_resolves_to_the_survivor(api: TestClient, shared: Seeded) -> None:
    from storage.models import Story, utcnow

    with session_scope(shared.url) as session:
        gone = Story(title="absorbed", merged_into_id=shared.wire_story, member_count=0)
        session.add(gone)
        session.flush()
        gone_id = gone.id
        story_store.refresh_story(session=session, story_id=shared.wire_story, now=utcnow())
    body = api.get(f"/api/stories/{gone_id}", headers=shared.auth()).json()
    assert body["id"] == shared.wire_story


def test_rate_limit_answers_429_with_retry_after(shared: Seeded) -> None:
    app = create_app(make_settings(shared.url), rate=0.5, burst=3)
    with TestClient(app) as c:
        codes = [c.get("/api/me", headers=shared.auth()).status_code for _ in range(5)]
        assert codes[:3] == [200, 200, 200] and codes[-1] == 429
        r = c.get("/api/me", headers=shared.auth())
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        assert "too many requests" in r.json()["error"]
        assert c.get("/api/me", headers=shared.auth(False)).status_code == 200  # per key


def test_big_bodies_are_refused_before_parsing(api: TestClient, shared: Seeded) -> None:
    big = b"x" * (10 * 1024 * 1024)
    r = api.post("/api/topics", content=big, headers={**shared.auth(),
                                                           "Content-Type": "application/json"})
    assert r.status_code == 413 and "larger than" in r.json()["error"]

    def chunks():  # no Content-Length: counted while streaming
        for _ in range(10):
            yield b"x" * (1024 * 1024)

    r = api.post("/api/topics", content=chunks(), headers={**shared.auth(),
                                                                "Content-Type": "application/json"})
    assert r.status_code == 413


def test_a_websub_push_over_the_cap_is_refused_and_an_unsigned_one_ignored(
    api: TestClient, shared: Seeded
) -> None:
    def chunks():  # no Content-Length: the callback counts while streaming
        for _ in range(16):
            yield b"x" * (1024 * 1024)

    def articles() -> int:
        with session_scope(shared.url) as session:
            return len(session.execute(select(Article.id)).all())

    before = articles()
    assert api.post("/websub/1", content=chunks()).status_code == 413
    r = api.post("/websub/1", content=b"<rss/>", headers={"Content-Type": "application/rss+xml"})
    assert r.status_code == 202  # acknowledged as the spec asks, and nothing stored
    assert articles() == before


def test_unknown_fields_and_wrong_types_are_named(api: TestClient, shared: Seeded) -> None:
    r = api.post("/api/topics", json={"name": "x", "query": "a", "colour": "red"},
                    headers=shared.auth())
    assert r.status_code == 422 and "colour" in r.json()["error"]
    r = api.post("/api/topics", json={"name": "x", "query": "a", "private": "perhaps"},
                    headers=shared.auth())
    assert r.status_code == 422 and "private" in r.json()["error"]
    r = api.post("/api/topics", content=b"{not json", headers={
        **shared.auth(), "Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["error"]


def test_metrics_are_read_from_the_database(api: TestClient, shared: Seeded) -> None:
    text = api.get("/metrics").text
    assert 'wirewatch_articles{state="processed"} 7.0' in text
    assert "wirewatch_stories 5.0" in text
    assert "wirewatch_duplicates 2.0" in text
    assert 'wirewatch_feeds{health="ok"} 3.0' in text
    assert "wirewatch_polls_total" in text or "wirewatch_task_seconds" in text
    assert api.get("/docs").status_code == 200
    assert "/api/articles" in api.get("/openapi.json").json()["paths"]
