"""Managing through the API: feeds (admins), topics, subscriptions and deliveries (each user's
own; another user's object is a 404), Atom feeds by token, and the users/keys commands."""

from __future__ import annotations

import json
from xml.etree.ElementTree import fromstring

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from storage import deliveries as delivery_store
from storage import subscriptions as subscription_store
from storage.db import session_scope
from storage.models import DeliveryState, Subscription, utcnow
from tests import test_api_data as data
from tests.conftest import make_settings
from tests.support.processes import wirewatch_env
from tests.test_api_data import Seeded, seed

# fixtures
client = data.client
seeded = data.seeded

OPML = b"""<?xml version="1.0"?><opml version="2.0"><head><title>t</title></head><body>
<outline text="News"><outline text="One" xmlUrl="https://one.test/rss"/>
<outline text="Dup" xmlUrl="https://wire-daily.test/feed.xml"/>
<outline text="Bad" xmlUrl="ftp://nope.test/x"/></outline></body></opml>"""
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def test_feeds_admins_write_everyone_reads(client: TestClient, seeded: Seeded) -> None:
    admin, user = seeded.auth(), seeded.auth(False)
    listed = client.get("/api/feeds", headers=user).json()
    assert {f["health"] for f in listed} == {"new"} and len(listed) == 3
    r = client.post("/api/feeds", json={"url": "https://new.test/rss"}, headers=user)
    assert r.status_code == 403 and "admin" in r.json()["error"]
    r = client.post("/api/feeds", json={"url": "https://new.test/rss", "title": "New"},
                    headers=admin)
    assert r.status_code == 201, r.text
    fid = r.json()["id"]
    assert client.post("/api/feeds", json={"url": "https://new.test/rss"},
                       headers=admin).status_code == 409
    r = client.post("/api/feeds", json={"url": "not a url"}, headers=admin)
    assert r.status_code == 422 and r.json()["error"].startswith("url: ")
    r = client.patch(f"/api/feeds/{fid}", json={"disabled": True, "title": "Renamed"},
                     headers=admin)
    assert r.json()["health"] == "disabled" and r.json()["title"] == "Renamed"
    assert client.patch(f"/api/feeds/{fid}", json={"disabled": False},
                        headers=user).status_code == 403
    assert client.get(f"/api/feeds/{fid}", headers=user).json()["disabled"] is True
    r = client.post("/api/feeds/import", files={"file": ("subs.opml", OPML, "text/x-opml")},
                    headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["added"] == 1 and r.json()["already_subscribed"] == 1
    assert len(r.json()["skipped"]) == 1
    r = client.post("/api/feeds/import", files={"file": ("x.opml", b"<html/>", "text/html")},
                    headers=admin)
    assert r.status_code == 422 and "not OPML" in r.json()["error"]
    exported = client.get("/api/feeds/export", headers=user)
    assert exported.headers["content-type"].startswith("text/x-opml")
    assert b"https://one.test/rss" in exported.content
    assert client.delete(f"/api/feeds/{fid}", headers=admin).status_code == 204
    assert client.get(f"/api/feeds/{fid}", headers=admin).status_code == 404


def test_topics_are_private_to_their_owner(client: TestClient, seeded: Seeded) -> None:
    alice, bob = seeded.auth(), seeded.auth(False)
    r = client.post("/api/topics", json={"name": "Treaties", "query": 'treaty "animal disease"'},
                    headers=bob)
    assert r.status_code == 201, r.text
    topic = r.json()
    assert topic["id"] and topic["query"] == 'treaty AND "animal disease"'
    tid = topic["id"]
    assert client.post("/api/topics", json={"name": "Treaties", "query": "x"},
                       headers=bob).status_code == 409
    r = client.post("/api/topics", json={"name": "Bad", "query": "Iran AND (strike"}, headers=bob)
    assert r.status_code == 422
    assert r.json()["position"] == 9 and "')'" in r.json()["hint"]
    for method, kwargs in (("get", {}), ("patch", {"json": {"name": "mine"}}), ("delete", {})):
        r = getattr(client, method)(f"/api/topics/{tid}", headers=alice, **kwargs)
        assert r.status_code == 404 and r.json()["error"] == f"no topic with id {tid}"
    assert tid not in [t["id"] for t in client.get("/api/topics", headers=alice).json()]
    assert [t["id"] for t in client.get("/api/topics", headers=bob).json()] == [
        seeded.user_topic_id, tid]
    r = client.patch(f"/api/topics/{tid}", json={"query": "livestock"}, headers=bob)
    assert r.json()["query"] == "livestock"
    assert client.get(f"/api/topics/{tid}", headers=bob).json()["name"] == "Treaties"
    assert client.delete(f"/api/topics/{tid}", headers=bob).status_code == 204
    assert client.get(f"/api/topics/{tid}", headers=bob).status_code == 404


def test_dry_run_of_a_topic_query(client: TestClient, seeded: Seeded) -> None:
    r = client.post("/api/topics/test", json={"query": "treaty OR rates", "limit": 50},
                    headers=seeded.auth(False))
    body = r.json()
    assert body["tried"] == 5
    assert {m["story_id"] for m in body["matched"]} == {seeded.wire_story,
                                                         seeded.other_stories[1]}
    wire = next(m for m in body["matched"] if m["story_id"] == seeded.wire_story)
    assert len(wire["matching_articles"]) == 3
    r = client.post("/api/topics/test", json={"query": "NOT x"}, headers=seeded.auth(False))
    assert r.status_code == 422 and r.json()["hint"]


def test_subscriptions_hide_secrets_and_other_users(client: TestClient, seeded: Seeded) -> None:
    alice, bob = seeded.auth(), seeded.auth(False)
    body = {"topic_id": seeded.topic_id, "channel": "webhook",
            "target": "http://127.0.0.1:9/hook", "secret": SECRET}
    assert client.post("/api/subscriptions", json=body, headers=bob).status_code == 404
    r = client.post("/api/subscriptions", json=body, headers=alice)
    assert r.status_code == 201, r.text
    sub = r.json()
    assert "secret" not in sub and sub["has_secret"] is True and SECRET not in r.text
    sid = sub["id"]
    r = client.post("/api/subscriptions", json={**body, "secret": "whsec_short"}, headers=alice)
    assert r.status_code == 422 and r.json()["error"].startswith("secret: ")
    r = client.post("/api/subscriptions", json={**body, "channel": "email", "target": "nobody",
                                                "secret": None}, headers=alice)
    assert r.status_code == 422 and r.json()["error"].startswith("target: ")
    r = client.post("/api/subscriptions", json={**body, "channel": "pigeon"}, headers=alice)
    assert r.status_code == 422 and "channel" in r.json()["error"]
    for method, kwargs in (("get", {}), ("patch", {"json": {"disabled": True}}), ("delete", {})):
        assert getattr(client, method)(f"/api/subscriptions/{sid}", headers=bob,
                                       **kwargs).status_code == 404
    assert client.get("/api/subscriptions", headers=bob).json() == []
    listed = client.get("/api/subscriptions", headers=alice)
    assert [s["id"] for s in listed.json()] == [sid] and SECRET not in listed.text
    with session_scope(seeded.url) as session:
        stored = session.get(Subscription, sid)
        assert stored.secret == SECRET and stored.disabled is False
        ((did, _, _),) = delivery_store.enqueue(
            session=session, new_topics={seeded.wire_story: [seeded.topic_id]},
            subscriptions=subscription_store.list_subscriptions(session=session), now=utcnow())
        delivery_store.finish(session=session, delivery_ids=[did], now=utcnow(),
                              state=DeliveryState.dead.value, error="410 Gone")
    log = client.get("/api/deliveries", headers=alice).json()["items"]
    assert [(d["id"], d["state"], d["last_error"]) for d in log] == [(did, "dead", "410 Gone")]
    assert client.get("/api/deliveries", params={"failed": True},
                      headers=alice).json()["items"][0]["id"] == did
    assert client.get("/api/deliveries", headers=bob).json()["items"] == []
    r = client.patch(f"/api/subscriptions/{sid}", json={"digest_seconds": 3600}, headers=alice)
    assert r.json()["digest_seconds"] == 3600
    assert client.delete(f"/api/subscriptions/{sid}", headers=alice).status_code == 204


def test_atom_feed_needs_the_topic_token(client: TestClient, seeded: Seeded) -> None:
    topic = client.get(f"/api/topics/{seeded.topic_id}", headers=seeded.auth()).json()
    path = topic["feed_url"].split("testserver", 1)[1]
    r = client.get(path)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/atom+xml")
    feed = fromstring(r.content)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    titles = [e.findtext("a:title", namespaces=ns) for e in feed.findall("a:entry", ns)]
    assert titles == ["Countries agree draft treaty on animal disease data"]
    base = f"/topics/{seeded.topic_id}/feed.atom"
    assert client.get(base).status_code == 404
    assert client.get(base + "?token=wrong").status_code == 404
    assert client.get(f"/topics/{seeded.user_topic_id}/feed.atom?token=" +
                      path.split("token=")[1]).status_code == 404
    client.patch(f"/api/topics/{seeded.topic_id}", json={"private": False}, headers=seeded.auth())
    assert client.get(base).status_code == 200


def test_users_and_keys_commands(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process (CliRunner) to keep the test fast; the commands are database-agnostic."""
    from typer.testing import CliRunner

    from wirewatch.cli import app
    from wirewatch.settings import get_settings

    seed(sqlite_url)
    for name, value in wirewatch_env(sqlite_url).items():
        if name.startswith("WIREWATCH_"):
            monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        r = runner.invoke(app, ["users", "add", "carol", "--admin"])
        assert r.exit_code == 0 and "carol" in r.output, r.output
        r = runner.invoke(app, ["users", "add", "carol"])
        assert r.exit_code == 1 and "already exists" in r.output
        r = runner.invoke(app, ["users", "list", "--json"])
        assert [u["name"] for u in json.loads(r.output)] == ["alice", "bob", "carol"]
        r = runner.invoke(app, ["keys", "create", "carol"])
        assert r.exit_code == 0, r.output
        key = r.output.split()[-1]
        assert runner.invoke(app, ["keys", "create", "nobody"]).exit_code == 1
    finally:
        get_settings.cache_clear()
    with TestClient(create_app(make_settings(sqlite_url))) as c:
        carol = {"Authorization": f"Bearer {key}"}
        assert c.get("/api/me", headers=carol).json()["admin"] is True
        r = c.post("/api/users", json={"name": "dave"}, headers=carol)
        assert r.status_code == 201
        r = c.post(f"/api/users/{r.json()['id']}/keys", headers=carol)
        dave = {"Authorization": f"Bearer {r.json()['key']}"}
        assert c.get("/api/me", headers=dave).json()["name"] == "dave"
        assert c.get("/api/users", headers=dave).status_code == 403
