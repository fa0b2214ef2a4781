"""`wirewatch demo`: the fast run publishes, cleans, joins and alerts as planned, once per story;
a second run in the same folder works; a stopped run stops everything it started."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from storage.db import session_scope
from storage.models import Article, Delivery
from wirewatch.demo import DemoOptions, expected_figures, publishing_plan, run_demo
from wirewatch.demo.catalogue import WIRE_STORIES
from wirewatch.demo.folder import prepare_folder
from wirewatch.demo.pages import render_page
from wirewatch.demo.plan import OUTLET_BY_SLUG, OUTLETS
from worker.extract import extract_article

# The built-in news: 5 Reuters stories, 6 about extreme weather (one of them from Reuters).
EXPECTED_ALERTS = {"Reuters wire": 5, "Extreme weather": 6}
CHROME = (
    "Advertisement",
    "Connect with us",
    "Sign up for our newsletter",
    "Related stories",
    "Ferry timetable",
    "Share",
    "All rights reserved",
)
COMMENTS = ("Click to comment", "Leave a Reply")


def run_cli(*args: str, timeout: float = 120) -> tuple[int, dict]:
    done = subprocess.run(
        [sys.executable, "-c", "from wirewatch.cli import main; main()", "demo", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.returncode, json.loads(done.stdout)


def by_topic(summary: dict) -> dict[str, dict]:
    return {t["name"]: t for t in summary["topics"]}


@pytest.fixture(scope="module")
def first_run(tmp_path_factory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("demo")
    _, summary = run_cli("--fast", "--json", "--dir", str(folder))
    return folder, summary


def test_the_fast_demo_cleans_joins_and_alerts_once_per_story(first_run) -> None:
    folder, s = first_run
    expected = expected_figures()
    assert s["finished"] and not s["interrupted"]
    assert s["edition"] == 1 and not s["reused"]
    assert s["published"] == s["planned"] == expected["articles"] == 33
    assert s["articles"] == s["articles_by_state"]["processed"] == 33
    assert s["not_modified"] > 0, "feeds are polled with conditional GETs"
    assert s["stories"] == s["new_stories"] == expected["stories"] == 14
    assert s["joined_stories"] == expected["joined_stories"] == 10
    assert s["copies_joined"] == 33 - 14
    assert s["api_url"] and s["api_url"].startswith("http://127.0.0.1:")
    topics = by_topic(s)
    for name, n in EXPECTED_ALERTS.items():
        t = topics[name]
        assert t["matching_stories"] == t["new_matches"] == n
        assert t["alerts_sent"] == t["received"] == n, t
    assert s["alerts_sent"] == s["alerts_received"] == sum(EXPECTED_ALERTS.values())

    with session_scope(s["database_url"]) as session:
        rows = session.execute(select(Delivery.subscription_id, Delivery.story_id)).all()
        assert len(rows) == len(set(rows)) == 11
        alerted = {story for _, story in rows}
        copies = session.execute(
            select(func.count()).select_from(Article).where(Article.story_id.in_(alerted))
        ).scalar_one()
    assert copies > len(alerted), "alerted stories have several copies, and one alert each"
    assert (folder / "demo.log").read_text().count("processed") >= 33


def test_a_second_run_reuses_the_folder_and_a_stopped_run_stops_cleanly(first_run) -> None:
    folder, first = first_run
    # A run stopped early (Ctrl-C) stops its threads and leaves articles unfinished...
    event = threading.Event()
    stop = threading.Timer(2.0, event.set)
    stop.start()
    state = run_demo(DemoOptions(directory=folder, duration=60, api=False), stop=event)
    assert state.interrupted and not state.finished and state.folder.edition == 2
    assert state.elapsed < 10
    left = {t.name for t in threading.enumerate()}
    assert not {"demo-scheduler", "demo-newsroom", "wirewatch-api"} & left
    assert not any(n.startswith("wirewatch_") for n in left), left

    # ...and the next run in the folder retires them, publishes a new edition whose copies join
    # the stories already known, and sends no alert twice.
    _, s = run_cli("--fast", "--json", "--no-api", "--dir", str(folder))
    assert s["finished"] and s["reused"] and s["edition"] == 3 and s["api_url"] is None
    assert s["articles"] == s["articles_by_state"]["processed"] == 33
    assert s["stories"] == first["stories"] and s["new_stories"] == 0
    assert s["copies_joined"] == 33
    for name, n in EXPECTED_ALERTS.items():
        t = by_topic(s)[name]
        assert t["matching_stories"] == n and t["new_matches"] == 0 and t["alerts_sent"] == 0
    with session_scope(s["database_url"]) as session:
        states = dict(
            session.execute(select(Article.state, func.count()).group_by(Article.state)).all()
        )
        assert set(states) <= {"processed", "failed"}
        assert session.execute(select(func.count()).select_from(Delivery)).scalar_one() == 11


def test_reset_empties_the_folder(tmp_path) -> None:
    first = prepare_folder(tmp_path)
    (tmp_path / "demo.log").write_text("old")
    again = prepare_folder(tmp_path)
    assert (first.edition, first.reused, again.edition, again.reused) == (1, False, 2, True)
    fresh = prepare_folder(tmp_path, reset=True)
    assert (fresh.edition, fresh.reused) == (1, False)
    assert not (tmp_path / "demo.log").exists()


def test_the_plan_spreads_wire_copies_with_their_credits() -> None:
    plan = publishing_plan()
    assert 6 <= len(OUTLETS) <= 8 and {i.outlet for i in plan} == set(OUTLET_BY_SLUG)
    assert all(0 <= i.at <= 1 for i in plan) and plan == sorted(plan, key=lambda i: i.at)
    for story in WIRE_STORIES:
        copies = [i for i in plan if i.key == story.key]
        assert len(copies) >= 2 and len({c.outlet for c in copies}) == len(copies)
        assert len({c.headline for c in copies}) >= 2, "republishers write new headlines"
        assert copies[0].paragraphs[0].startswith(f"{story.dateline} ({story.agency}) - ")
        later = copies[1:]
        words = len(" ".join(story.paragraphs).split())
        assert all(len(" ".join(c.paragraphs).split()) < words for c in later), "trimmed copies"
        for c in later:
            credited = c.paragraphs[-1] == f"Source: {story.agency}"
            assert credited or c.paragraphs[0].startswith(f"({story.agency}) - ")


@pytest.mark.parametrize("slug", sorted({o.template: o.slug for o in OUTLETS}.values()))
def test_every_template_cleans_to_the_article_alone(slug: str) -> None:
    item = next(i for i in publishing_plan() if i.outlet == slug)
    url = f"http://127.0.0.1:1/{slug}/e1/{item.key}.html"
    html = render_page(item, outlet=OUTLET_BY_SLUG[slug], published=datetime.now(UTC), url=url)
    assert all(chrome in html for chrome in CHROME if chrome != "Share" or "share" in html)
    assert any(label in html for label in COMMENTS)
    result = extract_article(html.encode(), url=url)
    assert result.title == item.headline
    # The cleaner keeps the story's paragraphs, and turns a credit line into the wire source.
    text = [p for p in item.paragraphs if not p.startswith("Source: ")]
    assert [p for p in result.text.split("\n") if p.strip()] == text
    assert result.wire_source == item.wire
    assert not any(chrome in result.text for chrome in CHROME + COMMENTS)
