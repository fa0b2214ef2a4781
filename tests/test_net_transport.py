"""The gate's connections against real local servers: keep-alive reuse, stale connections,
hostile answers, TLS and forked children."""

from __future__ import annotations

import os
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler

import pytest

from tests.net_helpers import SETTINGS, RawServer, fails, get, reply, self_signed, trickle
from wirewatch.errors import FetchError
from wirewatch.net import AddressPolicy, Gate, fetch, pool, transport


@pytest.fixture(scope="module")
def server() -> Iterator[RawServer]:
    server = RawServer("127.0.0.1")
    server.routes["/port"] = answer_port
    yield server
    server.close()


def answer_port(r: BaseHTTPRequestHandler) -> None:
    """The client's port as the body (and a header, for bodiless answers): which connection."""
    port = str(r.client_address[1])
    reply(r, 200, port.encode(), {"X-Port": port})


def port_of(server: RawServer) -> int:
    return int(get(server, "/port").content)


def eventually(check: Callable[[], bool], within: float = 2.0) -> bool:
    until = time.monotonic() + within
    while not check():
        if time.monotonic() > until:
            return False
        time.sleep(0.01)
    return True


def raw(data: bytes, *, then: Callable[[BaseHTTPRequestHandler], None] | None = None):
    """A handler writing `data` as the whole answer, then hanging up (or calling `then`)."""

    def handler(r: BaseHTTPRequestHandler) -> None:
        r.wfile.write(data)
        r.wfile.flush()
        if then is None:
            r.close_connection = True
        else:
            then(r)

    return handler


# --- keep-alive ---------------------------------------------------------------------------------


def test_idle_connections_are_one_per_origin_and_the_oldest_is_closed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pool, "MAX_ORIGINS", 2)
    servers = [RawServer("127.0.0.1") for _ in range(3)]
    out: dict[str, bool] = {}

    def run() -> None:  # a thread of its own: its own idle connections
        for each in servers:
            each.routes["/port"] = answer_port
        a, b, c = (port_of(each) for each in servers)  # c pushes a, the oldest, out
        out["a closed"] = eventually(lambda: a in servers[0].hangups)
        out["b kept"] = b not in servers[1].hangups
        out["c reused"] = port_of(servers[2]) == c
        pool.close_idle()
        out["b closed at the end"] = eventually(lambda: b in servers[1].hangups)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(10)
    for each in servers:
        each.close()
    assert out == {"a closed": True, "b kept": True, "c reused": True, "b closed at the end": True}


def test_connection_is_reused_after_a_drained_304_and_a_small_404(server: RawServer) -> None:
    def cached(r: BaseHTTPRequestHandler) -> None:
        reply(r, 304, headers={"ETag": '"v1"', "X-Port": str(r.client_address[1])})

    def cached_chunked(r: BaseHTTPRequestHandler) -> None:  # a 304 has no body, whatever it says
        r.send_response(304)
        r.send_header("Transfer-Encoding", "chunked")
        r.send_header("X-Port", str(r.client_address[1]))
        r.end_headers()

    server.routes["/cached"] = cached
    server.routes["/cached-chunked"] = cached_chunked
    server.routes["/gone"] = lambda r: reply(
        r, 404, b"no such page " * 100, {"X-Port": str(r.client_address[1])}
    )
    first = port_of(server)
    assert get(server, "/cached", etag='"v1"').headers["x-port"] == str(first)
    assert get(server, "/cached-chunked", etag='"v1"').headers["x-port"] == str(first)
    assert fails(server, "/gone").status == 404
    assert port_of(server) == first


@pytest.mark.parametrize(
    "head",
    [b"HTTP/1.1 200 OK\r\nConnection: close", b"HTTP/1.0 200 OK\r\nConnection: keep-alive"],
    ids=["connection close", "HTTP/1.0"],
)
def test_connection_is_not_reused_after_an_answer_closing_it(
    server: RawServer, head: bytes
) -> None:
    def answer(r: BaseHTTPRequestHandler) -> None:  # the server itself would keep it open
        port = str(r.client_address[1]).encode()
        r.wfile.write(b"%s\r\nContent-Length: %d\r\n\r\n%s" % (head, len(port), port))

    server.routes["/bye"] = answer
    first = int(get(server, "/bye").content)
    assert port_of(server) != first


def test_connection_is_not_reused_after_an_unread_body(server: RawServer) -> None:
    ports: list[int] = []

    def big_error(r: BaseHTTPRequestHandler) -> None:
        ports.append(r.client_address[1])
        reply(r, 500, b"x" * (256 * 1024))

    server.routes["/big-error"] = big_error
    assert fails(server, "/big-error").status == 500
    assert eventually(lambda: ports[0] in server.hangups)
    assert port_of(server) != ports[0]


def test_a_connection_the_server_closed_while_idle_is_not_used(server: RawServer) -> None:
    def answer_then_hang_up(r: BaseHTTPRequestHandler) -> None:
        answer_port(r)
        r.close_connection = True  # no "Connection: close": as a server's idle timeout does

    server.routes["/once"] = answer_then_hang_up
    first = int(get(server, "/once").content)
    assert eventually(lambda: first in server.hangups)
    assert int(get(server, "/once").content) != first


def test_a_request_the_server_dropped_unanswered_on_a_reused_connection_is_sent_again(
    server: RawServer,
) -> None:
    """The race of an idle timeout: the server closes just as the request arrives."""
    seen: list[int] = []

    def drops_reused(r: BaseHTTPRequestHandler) -> None:
        port = r.client_address[1]
        if port in seen:
            seen.append(port)
            r.close_connection = True  # not a byte of an answer
            return
        seen.append(port)
        reply(r, 200, b"answered")

    server.routes["/drop"] = drops_reused
    assert get(server, "/drop").content == b"answered"
    assert get(server, "/drop", method="POST", body=b"{}").content == b"answered"
    assert len(seen) == 3 and seen[0] == seen[1] != seen[2]


def test_a_request_is_never_sent_again_once_the_answer_began(server: RawServer) -> None:
    seen: list[int] = []

    def resets_mid_answer(r: BaseHTTPRequestHandler) -> None:
        seen.append(r.client_address[1])
        if len(seen) == 1:
            reply(r, 200, b"answered")
            return
        r.wfile.write(b"HTTP/1.1 200 OK\r\n")
        r.wfile.flush()
        time.sleep(0.2)
        r.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        r.connection.close()  # a reset, after the answer began
        r.close_connection = True

    server.routes["/reset"] = resets_mid_answer
    get(server, "/reset")
    error = fails(server, "/reset", method="POST", body=b"{}")
    assert not error.permanent and "reset" in str(error).lower()
    assert len(seen) == 2


# --- hostile servers ----------------------------------------------------------------------------

CHUNKED = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
HOSTILE = {
    "garbage status line": (b"GARBAGE\r\n\r\n", "not an HTTP response: status line 'GARBAGE'"),
    "status code of four digits": (
        b"HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n",
        "not an HTTP response",
    ),
    "status line over 64 KiB": (b"HTTP/1.1 200 " + b"a" * 70_000 + b"\r\n\r\n", "status line"),
    "header line over 64 KiB": (
        b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 70_000 + b"\r\nContent-Length: 2\r\n\r\nok",
        "header line",
    ),
    "header block cut short": (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n",
        "closed in the middle of the response headers",
    ),
    # each fails in one pass of the header regexes: by backtracking, seconds per line
    "header of blanks ending in a control character": (
        b"HTTP/1.1 200 OK\r\nX-A: v\r\n" + b" " * 60_000 + b"\x01\r\nContent-Length: 2\r\n\r\nok",
        "malformed response header line",
    ),
    "header value of blanks ending in a control character": (
        b"HTTP/1.1 200 OK\r\nX-A:" + b" \t" * 30_000 + b"\x00\r\nContent-Length: 2\r\n\r\nok",
        "malformed response header line",
    ),
    "control character in the reason phrase": (
        b"HTTP/1.1 200 O\x00K\r\nContent-Length: 2\r\n\r\nok",
        "not an HTTP response",
    ),
    "header line without a colon": (
        b"HTTP/1.1 200 OK\r\nnot a header\r\nContent-Length: 2\r\n\r\nok",
        "malformed response header line b'not a header",
    ),
    "conflicting lengths": (
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
        "invalid Content-Length",
    ),
    "length not a number": (
        b"HTTP/1.1 200 OK\r\nContent-Length: 1_0\r\n\r\n0123456789",
        "invalid Content-Length",
    ),
    "transfer coding other than chunked": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nhello",
        "unsupported Transfer-Encoding 'gzip'",
    ),
    "chunk size not a number": (CHUNKED + b"zz\r\nhello\r\n0\r\n\r\n", "chunked body malformed"),
    "chunk longer than declared": (
        CHUNKED + b"5\r\nhello world\r\n0\r\n\r\n",
        "chunked body malformed",
    ),
    "chunk shorter than declared": (
        CHUNKED + b"10\r\nshort\r\n0\r\n\r\n",
        "chunked body malformed",
    ),
    "body shorter than Content-Length": (
        b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nhello",
        "connection closed 45 bytes before the end of the body",
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_answers_end_in_a_clear_transient_error(server: RawServer, case: str) -> None:
    answer, says = HOSTILE[case]
    server.routes["/hostile"] = raw(answer)
    started = time.monotonic()
    error = fails(server, "/hostile")
    assert not error.permanent and error.status is None
    assert says in str(error), str(error)
    assert time.monotonic() - started < 2
    assert port_of(server)  # and the next request is fine


def test_more_header_bytes_than_allowed_are_cut_off(server: RawServer) -> None:
    lines = b"".join(b"X-H%d: %s\r\n" % (n, b"v" * 60) for n in range(3000))
    server.routes["/fat"] = raw(b"HTTP/1.1 200 OK\r\n" + lines + b"Content-Length: 0\r\n\r\n")
    assert "response headers longer than 128 KiB" in str(fails(server, "/fat"))


def test_headers_trickled_past_the_total_deadline_are_cut_off(server: RawServer) -> None:
    def slow_headers(r: BaseHTTPRequestHandler) -> None:
        r.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
        while True:
            r.wfile.write(b"z")
            r.wfile.flush()
            time.sleep(0.05)

    server.routes["/slow-headers"] = slow_headers
    settings = SETTINGS.model_copy(update={"total_timeout": 1.0, "read_timeout": 0.5})
    started = time.monotonic()
    error = fails(server, "/slow-headers", settings=settings)
    assert not error.permanent and "total timeout of 1s exceeded" in str(error)
    assert 0.9 < time.monotonic() - started < 1.6


def test_a_body_longer_than_its_content_length_is_cut_and_the_rest_never_read(
    server: RawServer,
) -> None:
    def overlong(r: BaseHTTPRequestHandler) -> None:
        r.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
        r.wfile.flush()
        time.sleep(0.1)
        r.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nforged")

    server.routes["/overlong"] = overlong
    server.routes["/after"] = lambda r: reply(r, 200, b"real answer")
    assert get(server, "/overlong").content == b"hello"
    time.sleep(0.3)  # the extra bytes are waiting on the idle connection: it is not reused
    assert get(server, "/after").content == b"real answer"


def test_informational_answers_are_skipped(server: RawServer) -> None:
    server.routes["/hints"] = raw(
        b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
        then=lambda r: None,
    )
    response = get(server, "/hints")
    assert (response.status, response.content) == (200, b"hello")


def test_folded_and_padded_header_values_come_back_as_one_clean_value(server: RawServer) -> None:
    server.routes["/folded"] = raw(
        b'HTTP/1.1 200 OK\r\nX-Folded: one\r\n  two\r\nETag: "v1"  \r\n'
        b"Location: /caf\xc3\xa9\r\nContent-Length: 2\r\n\r\nok",
        then=lambda r: None,
    )
    headers = get(server, "/folded").headers
    assert (headers["x-folded"], headers["etag"], headers["location"]) == (
        "one two",
        '"v1"',
        "/café",
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("X-Note", "a\r\nX-Injected: 1"),
        ("X-Note", "a\nb"),
        ("X-Note", "nul\0"),
        ("X-Note", "€uro"),
        ("X Note", "a"),
        ("X-Note:", "a"),
    ],
)
def test_unsendable_request_headers_are_refused_before_sending(
    server: RawServer, name: str, value: str
) -> None:
    before = len(server.requests)
    error = fails(server, "/port", headers={name: value})
    assert error.permanent and "request header" in str(error)
    assert len(server.requests) == before


# --- TLS ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RawServer, str]]:
    """An HTTPS server on 127.0.0.2 for the name feed.test, and its certificate file."""
    cert, key = self_signed(tmp_path_factory.mktemp("tls"), "feed.test")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = RawServer("127.0.0.2", tls=context)
    server.routes["/port"] = answer_port
    server.routes["/slow"] = trickle
    yield server, str(cert)
    server.close()


def test_tls_is_verified_on_the_name_kept_alive_and_bounded_by_the_deadline(
    tls_server: tuple[RawServer, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, cert = tls_server
    trusting = transport._ssl_context.__wrapped__()  # the gate's own context, plus the test root
    trusting.load_verify_locations(cert)
    monkeypatch.setattr(transport, "_ssl_context", lambda: trusting)

    def to_test_server(host: str, port: int, *args: object) -> list:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.2", port))]

    policy = AddressPolicy(exempt=("127.0.0.2/32",), resolver=to_test_server)
    base = f"https://feed.test:{server.port}"
    ports = {
        Gate(SETTINGS, policy=policy).fetch(base + "/port", max_bytes=64).content for _ in range(3)
    }
    assert len(ports) == 1
    settings = SETTINGS.model_copy(update={"total_timeout": 1.0, "read_timeout": 0.5})
    started = time.monotonic()
    with pytest.raises(FetchError) as caught:
        Gate(settings, policy=policy).fetch(base + "/slow", max_bytes=1024 * 1024)
    assert "total timeout of 1s exceeded" in str(caught.value)
    assert 0.9 < time.monotonic() - started < 1.6


def test_a_tls_handshake_left_unanswered_times_out() -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never speaks
        settings = SETTINGS.model_copy(update={"connect_timeout": 0.5})
        started = time.monotonic()
        with pytest.raises(FetchError) as caught:
            fetch(
                f"https://127.0.0.1:{silent.getsockname()[1]}/", settings=settings, max_bytes=1024
            )
    assert not caught.value.permanent and "timed out" in str(caught.value)
    assert time.monotonic() - started < 1.5


# --- fork ---------------------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_opens_its_own_connections(server: RawServer) -> None:
    parent = port_of(server)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its parent's idle connection is not its own
        try:
            pool.MAX_ORIGINS = 1  # and evicting the parent's connection must not close it
            os.write(write_end, get(server, "/port").content)
        finally:
            os._exit(0)
    os.close(write_end)
    os.waitpid(pid, 0)
    with os.fdopen(read_end, "rb") as pipe:
        child = int(pipe.read())
    assert child != parent
    assert port_of(server) == parent
