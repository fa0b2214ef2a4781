"""The gate against a real server on 127.0.0.1 (guard switched off explicitly for it)."""

from __future__ import annotations

import gzip
import threading
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import brotli
import pytest

from tests.net_helpers import SETTINGS, RawServer, chunked_forever, fails, get, reply, trickle
from wirewatch.errors import FetchError
from wirewatch.net import fetch

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def server() -> Iterator[RawServer]:
    server = RawServer("127.0.0.1")
    yield server
    server.close()


def test_200_with_user_agent_and_content_type(server: RawServer) -> None:
    server.routes["/feed"] = lambda r: reply(
        r, 200, b"<rss/>", {"Content-Type": "Application/RSS+XML; Charset=\"ISO-8859-1\""}
    )
    response = get(server, "/feed", accept="application/rss+xml")
    assert (response.status, response.content, response.not_modified) == (200, b"<rss/>", False)
    assert response.url == server.url("/feed")
    assert response.content_type == "application/rss+xml"
    assert response.charset == "ISO-8859-1"
    assert response.headers["content-length"] == "6"
    assert 0 <= response.elapsed < 5
    _, _, headers, _ = server.requests[-1]
    assert headers["user-agent"] == SETTINGS.user_agent
    assert headers["accept"] == "application/rss+xml"
    assert headers["accept-encoding"] == "gzip, deflate, br"


def test_conditional_get_returns_not_modified(server: RawServer) -> None:
    def handler(r: BaseHTTPRequestHandler) -> None:
        if r.headers.get("If-None-Match") == '"v1"' or r.headers.get("If-Modified-Since"):
            reply(r, 304, headers={"ETag": '"v1"'})
        else:
            reply(r, 200, b"<feed/>", {"ETag": '"v1"', "Content-Type": "application/atom+xml"})

    server.routes["/cond"] = handler
    first = get(server, "/cond")
    assert first.content == b"<feed/>" and first.headers["etag"] == '"v1"'
    again = get(server, "/cond", etag='"v1"')
    assert (again.status, again.not_modified, again.content) == (304, True, b"")
    dated = get(server, "/cond", last_modified="Sun, 06 Nov 1994 08:49:37 GMT")
    assert dated.not_modified
    assert server.requests[-1][2]["if-modified-since"] == "Sun, 06 Nov 1994 08:49:37 GMT"


def test_redirect_chain_is_followed(server: RawServer) -> None:
    server.routes["/a"] = lambda r: reply(r, 301, headers={"Location": "/b"})
    server.routes["/b"] = lambda r: reply(r, 308, headers={"Location": server.url("/c?x=1")})
    server.routes["/c"] = lambda r: reply(r, 200, b"final")
    response = get(server, "/a")
    assert (response.url, response.content) == (server.url("/c?x=1"), b"final")


def test_redirect_loop_is_a_clear_error(server: RawServer) -> None:
    server.routes["/loop1"] = lambda r: reply(r, 302, headers={"Location": "/loop2"})
    server.routes["/loop2"] = lambda r: reply(r, 302, headers={"Location": "/loop1"})
    error = fails(server, "/loop1")
    assert "redirect loop" in str(error) and error.permanent


def test_redirects_stop_at_max_redirects(server: RawServer) -> None:
    def endless(r: BaseHTTPRequestHandler) -> None:
        n = int(r.path.rsplit("/", 1)[1])
        reply(r, 302, headers={"Location": f"/hops/{n + 1}"})

    server.routes.update({f"/hops/{n}": endless for n in range(100)})
    before = len(server.requests)
    error = fails(server, "/hops/0")
    assert f"more than {SETTINGS.max_redirects} redirects" in str(error)
    assert len(server.requests) - before == SETTINGS.max_redirects + 1


def test_webhook_post_does_not_follow_redirects(server: RawServer) -> None:
    server.routes["/hook"] = lambda r: reply(r, 204)
    server.routes["/moved"] = lambda r: reply(r, 307, headers={"Location": "/hook"})
    response = get(server, "/hook", method="POST", body=b'{"a": 1}', follow_redirects=False,
                   headers={"Content-Type": "application/json"})
    assert response.status == 204
    method, _, headers, body = server.requests[-1]
    assert (method, body, headers["content-type"]) == ("POST", b'{"a": 1}', "application/json")
    error = fails(server, "/moved", method="POST", body=b"{}", follow_redirects=False)
    assert "redirect not followed" in str(error) and not error.permanent


@pytest.mark.parametrize(("status", "permanent"), [
    (400, True), (401, True), (403, True), (404, True), (410, True), (418, True),
    (408, False), (500, False), (502, False),
])
def test_error_statuses(server: RawServer, status: int, permanent: bool) -> None:
    server.routes["/status"] = lambda r: reply(r, status, b"no")
    error = fails(server, "/status")
    assert (error.status, error.permanent) == (status, permanent)


@pytest.mark.parametrize(("status", "retry_after", "expected"), [
    (503, "120", 120.0), (429, "7", 7.0), (503, "99999", 600.0), (429, "later", None),
])
def test_retry_after(server: RawServer, status: int, retry_after: str, expected: float) -> None:
    server.routes["/busy"] = lambda r: reply(r, status, b"", {"Retry-After": retry_after})
    error = fails(server, "/busy")
    assert (error.status, error.permanent, error.retry_after) == (status, False, expected)


def _bomb(encoding: str) -> bytes:
    zeros = b"\0" * (32 * MiB)
    if encoding == "br":
        return brotli.compress(zeros, quality=5)
    packer = zlib.compressobj(9, zlib.DEFLATED, 31 if encoding == "gzip" else 15)
    return packer.compress(zeros) + packer.flush()


@pytest.mark.parametrize("encoding", ["gzip", "br", "deflate"])
def test_compression_bombs_stop_at_the_cap(server: RawServer, encoding: str) -> None:
    bomb = _bomb(encoding)
    server.routes["/bomb"] = lambda r: reply(r, 200, bomb, {"Content-Encoding": encoding})
    tracemalloc.start()
    try:
        error = fails(server, "/bomb", max_bytes=MiB)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert f"response larger than {MiB} bytes" in str(error) and error.permanent
    assert peak < 8 * MiB, f"peak {peak / MiB:.1f} MiB while inflating a 32 MiB {encoding} bomb"


def test_compressed_bodies_are_decoded(server: RawServer) -> None:
    text = b"<rss>" + b"item " * 1000 + b"</rss>"
    gz, br = gzip.compress(text), brotli.compress(text)
    server.routes["/gz"] = lambda r: reply(r, 200, gz, {"Content-Encoding": "gzip"})
    server.routes["/br"] = lambda r: reply(r, 200, br, {"Content-Encoding": "br"})
    server.routes["/z"] = lambda r: reply(r, 200, b"\x00garbage", {"Content-Encoding": "gzip"})
    server.routes["/lzw"] = lambda r: reply(r, 200, b"x", {"Content-Encoding": "compress"})
    assert get(server, "/gz").content == text
    assert get(server, "/br").content == text
    assert not fails(server, "/z").permanent
    assert fails(server, "/lzw").permanent


def test_declared_length_over_the_cap_is_refused_before_reading(server: RawServer) -> None:
    server.routes["/big"] = lambda r: reply(r, 200, b"x" * (2 * MiB))
    error = fails(server, "/big", max_bytes=MiB)
    assert "larger than" in str(error) and error.permanent
    assert get(server, "/big", max_bytes=2 * MiB).content == b"x" * (2 * MiB)


def test_endless_chunked_body_stops_at_the_cap(server: RawServer) -> None:
    server.routes["/endless"] = chunked_forever
    started = time.monotonic()
    error = fails(server, "/endless", max_bytes=MiB)
    assert "larger than" in str(error) and error.permanent
    assert time.monotonic() - started < 3


def test_slow_loris_is_cut_off_at_total_timeout(server: RawServer) -> None:
    server.routes["/slow"] = trickle
    settings = SETTINGS.model_copy(update={"total_timeout": 1.0, "read_timeout": 0.5})
    started = time.monotonic()
    error = fails(server, "/slow", settings=settings)
    took = time.monotonic() - started
    assert not error.permanent and "total timeout of 1s exceeded" in str(error)
    assert 0.9 < took < 1.6, took


def test_silent_server_hits_the_read_timeout(server: RawServer) -> None:
    gate = threading.Event()

    def stall(r: BaseHTTPRequestHandler) -> None:
        r.send_response(200)
        r.send_header("Content-Length", "10")
        r.end_headers()
        r.wfile.flush()
        gate.wait(5)

    server.routes["/stall"] = stall
    settings = SETTINGS.model_copy(update={"read_timeout": 0.3})
    started = time.monotonic()
    error = fails(server, "/stall", settings=settings)
    gate.set()
    assert not error.permanent and "timed out" in str(error)
    assert time.monotonic() - started < 1.5


def test_ten_thousand_headers_do_not_hang(server: RawServer) -> None:
    def many(r: BaseHTTPRequestHandler) -> None:
        r.send_response(200)
        for n in range(10_000):
            r.send_header(f"X-H{n}", "v")
        r.send_header("Content-Length", "2")
        r.end_headers()
        r.wfile.write(b"ok")

    server.routes["/headers"] = many
    started = time.monotonic()
    try:
        response = get(server, "/headers")
    except FetchError as error:  # the gate may refuse an oversized header block: fine too
        assert not error.permanent
    else:
        assert response.content == b"ok" and len(response.headers) > 10_000
    assert time.monotonic() - started < 3


def test_refused_connection_is_transient() -> None:
    closed = RawServer("127.0.0.1")
    url = closed.url("/")
    closed.close()
    with pytest.raises(FetchError) as caught:
        fetch(url, settings=SETTINGS, max_bytes=MiB)
    assert not caught.value.permanent


def test_connections_are_reused(server: RawServer) -> None:
    server.routes["/one"] = lambda r: reply(r, 200, r.client_address[1].to_bytes(4, "big"))
    ports = {get(server, "/one").content for _ in range(3)}
    assert len(ports) == 1


def test_redirect_methods_and_origin_bound_headers(server: RawServer) -> None:
    other = RawServer("127.0.0.1")
    try:
        other.routes["/landing"] = lambda r: reply(r, 200, b"landed")
        server.routes["/see-other"] = lambda r: reply(r, 303, headers={"Location": "/landing"})
        server.routes["/landing"] = lambda r: reply(r, 200, b"here")
        server.routes["/keep"] = lambda r: reply(r, 307, headers={"Location": "/landing"})
        far = other.url("/landing")
        server.routes["/away"] = lambda r: reply(r, 302, headers={"Location": far})
        get(server, "/see-other", method="POST", body=b"payload")
        method, _, _, body = server.requests[-1]
        assert (method, body) == ("GET", b"")
        get(server, "/keep", method="POST", body=b"payload")
        method, _, _, body = server.requests[-1]
        assert (method, body) == ("POST", b"payload")
        auth = {"Authorization": "Bearer s3cret", "X-Trace": "1"}
        assert get(server, "/away", headers=auth).content == b"landed"
        _, _, headers, _ = other.requests[-1]
        assert "authorization" not in headers and headers["x-trace"] == "1"
    finally:
        other.close()


def test_threads_fetch_concurrently(server: RawServer) -> None:
    server.routes["/shared"] = lambda r: reply(r, 200, b"same for all")
    results: list[bytes] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            results.extend(get(server, "/shared").content for _ in range(5))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert not errors and results == [b"same for all"] * 40


def test_endless_header_block_is_cut_off(server: RawServer) -> None:
    def endless_headers(r: BaseHTTPRequestHandler) -> None:
        r.wfile.write(b"HTTP/1.1 200 OK\r\n")
        n = 0
        while True:
            n += 1
            r.wfile.write(b"X-Padding-%d: %s\r\n" % (n, b"p" * 100))

    server.routes["/endless-headers"] = endless_headers
    started = time.monotonic()
    error = fails(server, "/endless-headers")
    assert not error.permanent
    assert time.monotonic() - started < 3


def test_proxy_environment_is_ignored(server: RawServer, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9/")
    server.routes["/direct"] = lambda r: reply(r, 200, b"direct")
    fresh = threading.Thread(target=lambda: results.append(get(server, "/direct").content))
    results: list[bytes] = []
    fresh.start()  # a new thread opens a new connection while the variables are set
    fresh.join(10)
    assert results == [b"direct"]
