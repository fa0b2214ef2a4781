"""Distributed mode: the compose file's commands run here as real processes on PostgreSQL, Redis
and Celery workers, and the compose file itself is checked (there is no Docker engine here)."""

from __future__ import annotations

import uuid
from pathlib import Path

import psycopg
import pytest
import redis
import yaml
from sqlalchemy import func, select

from storage import feeds as feed_store
from storage.db import session_scope
from storage.models import Article, Story
from tests.support.databases import PG_ADMIN
from tests.support.feeds import PARAGRAPHS, article_page, rss
from tests.support.processes import TEST_REDIS, Processes, run_cli, wait_for, wirewatch_env
from tests.support.wire import republications

REPO = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def test_compose_has_every_service_with_health_checks_and_required_secrets() -> None:
    assert {"redis", "postgres", "migrate", "api", "scheduler", "worker"} <= set(SERVICES)
    redis_cmd = " ".join(SERVICES["redis"]["command"])
    assert "--appendonly yes" in redis_cmd and "--maxmemory-policy noeviction" in redis_cmd
    for name in ("redis", "postgres", "api", "scheduler", "worker"):
        assert SERVICES[name]["healthcheck"]["test"], f"{name} has no health check"
    text = (REPO / "docker-compose.yml").read_text()
    assert "${POSTGRES_PASSWORD:?" in text
    assert SERVICES["migrate"]["restart"] == "no"
    for name in ("api", "scheduler", "worker"):
        deps = SERVICES[name]["depends_on"]
        assert deps["migrate"]["condition"] == "service_completed_successfully"
        assert deps["redis"]["condition"] == "service_healthy"
        assert "ports" not in SERVICES[name] or name == "api", "only the API is published"
    assert "container_name" not in SERVICES["worker"], "workers must scale with --scale"
    env = SERVICES["worker"]["environment"]
    assert env["WIREWATCH_BROKER_URL"].startswith("redis://")
    assert env["WIREWATCH_DATABASE_URL"].startswith("postgresql://")


@pytest.mark.parametrize("service", ["migrate", "api", "scheduler", "worker"])
def test_compose_commands_exist_in_the_cli(service: str) -> None:
    command = SERVICES[service]["command"]
    words = [w for w in command if not w.startswith("-")][:2]
    result = run_cli(
        [*words[: 2 if words[0] == "db" else 1], "--help"], wirewatch_env("sqlite:///x.db")
    )
    assert result.returncode == 0, result.stderr


@pytest.fixture
def fresh_pg() -> str:
    """An empty (un-migrated) PostgreSQL database, as compose's postgres service starts."""
    name = f"ww_dist_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_compose_processes_poll_and_process_with_two_celery_workers(
    fresh_pg, server, tmp_path
) -> None:
    redis.Redis.from_url(TEST_REDIS).flushdb()
    env = wirewatch_env(fresh_pg, WIREWATCH_BROKER_URL=TEST_REDIS)
    procs = Processes(tmp_path)
    try:
        # The service refuses to start on an un-migrated database and names the fix.
        refused = run_cli(SERVICES["scheduler"]["command"], env, timeout=60)
        assert refused.returncode != 0 and "wirewatch db upgrade" in refused.stderr

        migrate = run_cli(SERVICES["migrate"]["command"], env, timeout=120)
        assert migrate.returncode == 0, migrate.stderr

        urls = []
        for f in range(4):
            items = []
            for i in range(5):
                link = server.route(
                    f"/d/{f}/{i}.html",
                    article_page(f"Feed {f} story {i}", PARAGRAPHS),
                    headers={"Content-Type": "text/html"},
                )
                items.append({"title": f"Feed {f} story {i}", "link": link})
            urls.append(
                server.route(
                    f"/d/{f}.xml", rss(items), headers={"Content-Type": "application/rss+xml"}
                )
            )
        added = run_cli(["feeds", "add", *urls], env)
        assert added.returncode == 0, added.stderr

        worker_cmd = SERVICES["worker"]["command"]
        workers = [
            procs.start(f"worker{i}", [*worker_cmd, "-n", f"w{i}@%h"], env) for i in range(2)
        ]
        procs.start("scheduler", SERVICES["scheduler"]["command"], env)
        db = fresh_pg.replace("postgresql://", "postgresql+psycopg://", 1)

        def processed() -> bool:
            with session_scope(db) as s:
                return (
                    s.execute(
                        select(func.count())
                        .select_from(Article)
                        .where(Article.state == "processed")
                    ).scalar_one()
                    == 20
                )

        wait_for(processed, timeout=90, message="20 processed articles")
        # A second scheduler started by mistake changes nothing: each feed polled once per interval.
        procs.start("scheduler2", SERVICES["scheduler"]["command"], env)
        import time

        time.sleep(3)
        with session_scope(db) as s:
            assert s.execute(select(func.count()).select_from(Article)).scalar_one() == 20
            feeds = feed_store.list_feeds(session=s)
        assert all(f.entries == 5 and f.feed.error_count == 0 for f in feeds)
        for i in range(4):
            assert len(server.hits_for(f"/d/{i}.xml")) == 1, "a feed was polled twice"
        assert all(w.poll() is None for w in workers), procs.log("worker0")
        both = procs.log("worker0") + procs.log("worker1")
        assert "wirewatch.process_article" in both
    finally:
        procs.stop_all()


@pytest.fixture
def cluster(fresh_pg, tmp_path):
    """A migrated database, a clean Redis database and a way to start real processes."""
    redis.Redis.from_url(TEST_REDIS).flushdb()
    env = wirewatch_env(fresh_pg, WIREWATCH_BROKER_URL=TEST_REDIS)
    assert run_cli(SERVICES["migrate"]["command"], env, timeout=120).returncode == 0
    procs = Processes(tmp_path)
    yield env, procs, fresh_pg.replace("postgresql://", "postgresql+psycopg://", 1)
    procs.stop_all()


def test_copies_processed_at_once_by_several_workers_make_one_story(cluster, server) -> None:
    env, procs, db = cluster
    headline, paragraphs = republications()["wire-daily"]
    urls = []
    for i in range(12):
        # each outlet edits the copy a little differently, as republishers do
        copy = [p.replace("Negotiators", "Diplomats") if i % 2 else p for p in paragraphs]
        copy = copy[: 6 - i % 3]
        link = server.route(f"/o{i}/a.html", article_page(f"{headline} ({i})", copy, site=f"o{i}"),
                            headers={"Content-Type": "text/html"})
        urls.append(server.route(f"/o{i}/feed.xml", rss([{"title": headline, "link": link}]),
                                 headers={"Content-Type": "application/rss+xml"}))
    assert run_cli(["feeds", "add", *urls], env).returncode == 0
    for i in range(2):
        procs.start(f"worker{i}", ["worker", "--concurrency", "3", "-n", f"w{i}@%h"], env)
    procs.start("scheduler", ["scheduler"], env)

    def all_processed() -> bool:
        with session_scope(db) as s:
            return s.execute(select(func.count()).select_from(Article)
                             .where(Article.state == "processed")).scalar_one() == 12

    wait_for(all_processed, timeout=90, message="12 processed copies")
    with session_scope(db) as s:
        stories = s.execute(select(Story).where(Story.merged_into_id.is_(None))).scalars().all()
        story_ids = set(s.execute(select(Article.story_id)).scalars())
    assert len(stories) == 1, [(st.id, st.member_count) for st in stories]
    assert stories[0].member_count == 12 and story_ids == {stories[0].id}
