"""Shared fixtures: real databases (SQLite and PostgreSQL), a real local HTTP server, settings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.databases import fresh_database, postgres_available
from tests.support.faults import cluster, hook, redis_server  # noqa: F401  (fault fixtures)
from tests.support.httpserver import LocalServer
from wirewatch.settings import Settings

REPO = Path(__file__).resolve().parent.parent
CORPORA = Path(os.environ.get("WIREWATCH_CORPORA", REPO.parent / "shared" / "corpora"))
SHARED = CORPORA.parent


def corpus(name: str) -> Path:
    """A corpus folder, or skip the test with a message saying where it was looked for."""
    path = CORPORA / name
    if not path.exists():
        pytest.skip(f"corpus {name!r} not found at {path} (set WIREWATCH_CORPORA to its folder)")
    return path


@pytest.fixture(scope="session")
def _postgres() -> None:
    reason = postgres_available()
    if reason:
        pytest.fail(f"PostgreSQL is not reachable ({reason}); run `make test`, which starts it")


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, migrated database; every test using it runs on SQLite and on PostgreSQL."""
    if request.param == "postgres":
        request.getfixturevalue("_postgres")
    with fresh_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    with fresh_database("sqlite", tmp_path) as url:
        yield url


@pytest.fixture
def pg_url(tmp_path: Path, _postgres: None) -> str:
    with fresh_database("postgres", tmp_path) as url:
        yield url


def make_settings(database_url: str, **overrides: object) -> Settings:
    """Test settings: the private-network guard is switched off explicitly for 127.0.0.1."""
    values: dict = {
        "database_url": database_url,
        "broker_url": None,
        "allow_private_networks": True,
        "poll_min_interval": 60,
        "connect_timeout": 5,
        "read_timeout": 5,
        "total_timeout": 10,
        "respect_robots": False,
        "embedded_workers": 4,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings(db_url: str) -> Settings:
    return make_settings(db_url)


@pytest.fixture(scope="session")
def _server() -> LocalServer:
    server = LocalServer()
    yield server
    server.close()


@pytest.fixture
def server(_server: LocalServer) -> LocalServer:
    _server.reset()
    return _server


def pytest_collection_modifyitems(items) -> None:  # noqa: ANN001
    """The longest tests (marked slow) first, so the test processes finish together rather than
    one of them starting a six-minute run at the end."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
