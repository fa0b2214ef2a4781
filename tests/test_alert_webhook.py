"""Webhook channel against a real HTTP server on 127.0.0.1: signed delivery, every bad outcome."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest

from tests.net_helpers import RawServer, chunked_forever, reply
from tests.test_alert_signing import sample_alert
from wirewatch.settings import Settings
from worker.alerts import (
    TransportError,
    WebhookTransport,
    new_webhook_secret,
    transport_for,
    validate_target,
    verify_webhook,
)

OPEN = Settings(allow_private_networks=True, connect_timeout=2, read_timeout=2, total_timeout=3)
GUARDED = Settings(connect_timeout=2, read_timeout=2, total_timeout=3)
released = threading.Event()


@pytest.fixture(scope="module")
def server() -> Iterator[RawServer]:
    server = RawServer("127.0.0.1")
    yield server
    released.set()
    server.close()


@pytest.fixture
def hook(server: RawServer) -> RawServer:
    server.routes.clear()
    server.requests.clear()
    return server


def status(code: int, headers: dict[str, str] | None = None):  # noqa: ANN201
    body = b"" if code == 204 else b"{}"  # a 204 has no body
    return lambda request: reply(request, code, body, headers)


def send(url: str, *, settings: Settings = OPEN, secret: str | None = None) -> None:
    WebhookTransport(settings=settings).send(sample_alert(), url=url,
                                             secret=secret or new_webhook_secret())


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_delivers_a_signed_standard_webhook(hook: RawServer) -> None:
    hook.routes["/hook"] = status(204)
    secret = new_webhook_secret()
    transport = transport_for("webhook", settings=OPEN)
    transport.send(sample_alert(), url=hook.url("/hook"), secret=secret)
    [(method, _path, headers, body)] = hook.requests
    assert method == "POST"
    assert headers["content-type"] == "application/json"
    assert headers["webhook-id"] == "msg_42"
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 5
    assert headers["webhook-signature"].startswith("v1,")
    assert verify_webhook(secret=secret, headers=headers, body=body)
    assert not verify_webhook(secret=new_webhook_secret(), headers=headers, body=body)
    assert json.loads(body)["data"]["topic"]["name"] == "Interest rates"


def test_retry_keeps_id_and_body_but_signs_a_new_timestamp(hook: RawServer) -> None:
    hook.routes["/hook"] = status(200)
    secret = new_webhook_secret()
    send(hook.url("/hook"), secret=secret)
    time.sleep(1.05)
    send(hook.url("/hook"), secret=secret)
    first, second = hook.requests
    assert first[3] == second[3] and first[2]["webhook-id"] == second[2]["webhook-id"]
    assert first[2]["webhook-timestamp"] != second[2]["webhook-timestamp"]
    assert all(verify_webhook(secret=secret, headers=r[2], body=r[3]) for r in (first, second))


def test_410_gone_disables_the_subscription(hook: RawServer) -> None:
    hook.routes["/gone"] = status(410)
    with pytest.raises(TransportError) as caught:
        send(hook.url("/gone"))
    error = caught.value
    assert error.permanent and error.disable
    assert str(error) == "endpoint answered 410 Gone: subscription disabled"


@pytest.mark.parametrize("code", [400, 401, 403, 404, 500, 502, 503])
def test_other_failures_are_transient(hook: RawServer, code: int) -> None:
    hook.routes["/fail"] = status(code)
    with pytest.raises(TransportError, match=f"HTTP {code}") as caught:
        send(hook.url("/fail"))
    assert not caught.value.permanent and not caught.value.disable


def test_retry_after_is_passed_on(hook: RawServer) -> None:
    hook.routes["/busy"] = status(429, {"Retry-After": "120"})
    with pytest.raises(TransportError) as caught:
        send(hook.url("/busy"))
    assert not caught.value.permanent and caught.value.retry_after == 120


def test_redirects_are_not_followed(hook: RawServer) -> None:
    hook.routes["/moved"] = status(301, {"Location": "/hook"})
    hook.routes["/hook"] = status(200)
    with pytest.raises(TransportError, match="do not follow redirects") as caught:
        send(hook.url("/moved"))
    assert not caught.value.permanent
    assert [path for _m, path, _h, _b in hook.requests] == ["/moved"]


def test_connection_refused_is_transient() -> None:
    started = time.monotonic()
    with pytest.raises(TransportError, match="request failed") as caught:
        send(f"http://127.0.0.1:{closed_port()}/hook")
    assert not caught.value.permanent
    assert time.monotonic() - started < 2


def test_slow_endpoint_is_cut_at_the_deadline(hook: RawServer) -> None:
    def hang(request: BaseHTTPRequestHandler) -> None:
        released.wait(30)
        reply(request, 200)

    hook.routes["/slow"] = hang
    quick = Settings(allow_private_networks=True, connect_timeout=2, read_timeout=10,
                     total_timeout=1)
    started = time.monotonic()
    with pytest.raises(TransportError, match="timed out") as caught:
        send(hook.url("/slow"), settings=quick)
    assert not caught.value.permanent
    assert time.monotonic() - started < 2.5


def test_huge_2xx_response_is_capped_and_counts_as_delivered(hook: RawServer) -> None:
    hook.routes["/huge"] = chunked_forever
    started = time.monotonic()
    send(hook.url("/huge"))  # no error: the endpoint answered 200; its body is not wanted
    assert time.monotonic() - started < 2
    assert len(hook.requests) == 1


def test_huge_error_response_is_not_read(hook: RawServer) -> None:
    hook.routes["/huge-error"] = lambda request: reply(request, 500, b"x" * (8 * 1024 * 1024))
    with pytest.raises(TransportError, match="HTTP 500"):
        send(hook.url("/huge-error"))


def test_tls_less_target_is_refused_when_the_guard_is_on(hook: RawServer) -> None:
    url = "http://hooks.example.com/wirewatch"
    with pytest.raises(ValueError, match="must use https://"):
        validate_target("webhook", url, settings=GUARDED)
    with pytest.raises(TransportError, match="must use https://") as caught:
        send(url, settings=GUARDED)
    assert caught.value.permanent
    insecure_ok = Settings(connect_timeout=2, allow_insecure_webhooks=True)
    with pytest.raises(ValueError) as caught_dns:  # the https rule passes; the name does not exist
        validate_target("webhook", "http://hooks.wirewatch.invalid/x", settings=insecure_ok)
    assert "https" not in str(caught_dns.value)


@pytest.mark.parametrize("host", ["127.0.0.1", "10.0.0.7", "169.254.169.254", "[::1]", "localhost"])
def test_private_address_target_is_refused_when_the_guard_is_on(hook: RawServer,
                                                                host: str) -> None:
    url = f"https://{host}:{hook.port}/hook"
    with pytest.raises(ValueError, match="refused") as caught:
        validate_target("webhook", url, settings=GUARDED)
    assert "WIREWATCH_ALLOW_PRIVATE_NETWORKS" in str(caught.value)
    with pytest.raises(TransportError, match="refused") as sent:
        send(url, settings=GUARDED)
    assert sent.value.permanent
    assert hook.requests == []


@pytest.mark.parametrize("url", ["ftp://example.com/x", "not a url", "https://user:pw@a.b/x",
                                 "https://0x7f.1/x"])
def test_invalid_urls_are_refused_at_creation(url: str) -> None:
    with pytest.raises(ValueError):
        validate_target("webhook", url, settings=OPEN)
    with pytest.raises(TransportError) as caught:
        send(url)
    assert caught.value.permanent


def test_bad_secret_is_a_permanent_error(hook: RawServer) -> None:
    hook.routes["/hook"] = status(200)
    with pytest.raises(TransportError, match="webhook secret") as caught:
        send(hook.url("/hook"), secret="whsec_c2hvcnQ=")
    assert caught.value.permanent
    assert hook.requests == []


def test_validate_target_accepts_and_normalises_a_local_url_when_allowed(hook: RawServer) -> None:
    assert validate_target("webhook", f"  http://127.0.0.1:{hook.port}/hook ", settings=OPEN) == (
        f"http://127.0.0.1:{hook.port}/hook"
    )


def test_unknown_channel() -> None:
    with pytest.raises(ValueError, match="unknown channel"):
        transport_for("pigeon", settings=OPEN)
    with pytest.raises(ValueError, match="unknown channel"):
        validate_target("pigeon", "x", settings=OPEN)
