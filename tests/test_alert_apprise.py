"""Apprise channel: a json:// URL against a real HTTP server on 127.0.0.1, and URLs it refuses."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from tests.net_helpers import RawServer, reply
from tests.test_alert_signing import sample_alert
from wirewatch.settings import Settings
from worker.alerts import AppriseTransport, TransportError, transport_for, validate_target

OPEN = Settings(allow_private_networks=True, connect_timeout=2, read_timeout=2, total_timeout=5)
GUARDED = Settings(connect_timeout=2, read_timeout=2, total_timeout=5)


@pytest.fixture(scope="module")
def _server() -> Iterator[RawServer]:
    server = RawServer("127.0.0.1")
    yield server
    server.close()


@pytest.fixture
def server(_server: RawServer) -> RawServer:
    _server.routes.clear()
    _server.requests.clear()
    return _server


def apprise_url(server: RawServer, path: str) -> str:
    return f"json://127.0.0.1:{server.port}{path}"


def test_notifies_through_a_json_url(server: RawServer) -> None:
    server.routes["/notify"] = lambda request: reply(request, 200, b"{}")
    url = validate_target("apprise", apprise_url(server, "/notify"), settings=OPEN)
    transport_for("apprise", settings=OPEN).send(sample_alert(), url=url)
    [(method, _path, _headers, body)] = server.requests
    assert method == "POST"
    sent = json.loads(body)
    assert sent["title"] == "Interest rates: Central bank raises rates by half a point"
    assert "https://news.example.org/rates" in sent["message"]


def test_service_failure_is_transient_with_a_reason(server: RawServer) -> None:
    server.routes["/notify"] = lambda request: reply(request, 503, b"down")
    with pytest.raises(TransportError, match="Apprise could not notify json://") as caught:
        AppriseTransport(settings=OPEN).send(sample_alert(), url=apprise_url(server, "/notify"))
    assert not caught.value.permanent
    assert "503" in str(caught.value)


def test_unreachable_service_is_transient() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(TransportError, match="Apprise could not notify") as caught:
        AppriseTransport(settings=OPEN).send(sample_alert(), url=f"json://127.0.0.1:{port}/x")
    assert not caught.value.permanent


def test_slow_service_is_cut_and_transient(server: RawServer) -> None:
    released = threading.Event()
    server.routes["/slow"] = lambda request: (released.wait(30), reply(request, 200, b"{}"))
    quick = Settings(allow_private_networks=True, connect_timeout=1, read_timeout=1,
                     total_timeout=2)
    started = time.monotonic()
    try:
        with pytest.raises(TransportError, match="Apprise could not notify") as caught:
            AppriseTransport(settings=quick).send(sample_alert(), url=apprise_url(server, "/slow"))
    finally:
        released.set()
    assert not caught.value.permanent
    assert time.monotonic() - started < 3


@pytest.mark.parametrize("url", ["nope://whatever", "not a url", "tgram://", "json://",
                                 "slack://only-one-part"])
def test_unparseable_url_is_refused_at_creation_and_permanent_at_send(url: str) -> None:
    with pytest.raises(ValueError, match="cannot parse Apprise URL"):
        validate_target("apprise", url, settings=OPEN)
    with pytest.raises(TransportError, match="cannot parse Apprise URL") as caught:
        AppriseTransport(settings=OPEN).send(sample_alert(), url=url)
    assert caught.value.permanent


def test_secrets_of_an_unparseable_url_are_not_echoed() -> None:
    with pytest.raises(ValueError) as caught:
        validate_target("apprise", "nope://token-abc123secret@host", settings=OPEN)
    assert "abc123secret" not in str(caught.value)


def test_private_host_is_refused_when_the_guard_is_on(server: RawServer) -> None:
    server.routes["/notify"] = lambda request: reply(request, 200, b"{}")
    url = apprise_url(server, "/notify")
    with pytest.raises(ValueError, match="loopback"):
        validate_target("apprise", url, settings=GUARDED)
    with pytest.raises(TransportError, match="loopback") as caught:
        AppriseTransport(settings=GUARDED).send(sample_alert(), url=url)
    assert caught.value.permanent
    assert server.requests == []


def test_one_url_per_subscription(server: RawServer) -> None:
    both = f"{apprise_url(server, '/a')},{apprise_url(server, '/b')}"
    with pytest.raises(ValueError, match="one Apprise URL"):
        validate_target("apprise", both, settings=OPEN)


def test_fixed_service_url_is_accepted_without_network() -> None:
    url = "tgram://123456789:abcdefg_hijklmnop/12315544/"
    assert validate_target("apprise", url, settings=GUARDED) == url
