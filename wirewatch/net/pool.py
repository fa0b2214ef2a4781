"""Keep-alive connections kept per thread and origin, reused only when known to be clean.

A thread sends one request at a time, so one idle connection per (pid, policy, origin) is all it
keeps; past MAX_ORIGINS the least recently used is closed. The pid is in the key: a forked child
never uses, nor closes, its parent's connections. A connection goes back only after its response
was read to the end and the server did not ask to close it; an idle one that expired, or that
has anything to read (the server closed it, or sent bytes nobody asked for), is dropped.
"""

from __future__ import annotations

import http.client
import os
import select
import socket
import ssl
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

import httpx

from wirewatch.net.guard import AddressPolicy
from wirewatch.net.transport import GuardedConnection

MAX_ORIGINS = 64
KEEPALIVE_EXPIRY = 5.0

_local = threading.local()
Key = tuple[int, AddressPolicy, tuple[str, str, int | None]]
Attempt = Callable[[GuardedConnection], http.client.HTTPResponse]


@contextmanager
def exchange(
    policy: AddressPolicy,
    url: httpx.URL,
    method: str,
    headers: Mapping[str, str],
    body: bytes | None,
    *,
    connect_timeout: float,
    read_timeout: float,
) -> Iterator[http.client.HTTPResponse]:
    """Send one request; yields the response with its status and headers read, not its body.

    The connection is pooled again only if the caller read the body to its end without error.
    """
    target = url.raw_path.decode("ascii")

    def attempt(conn: GuardedConnection) -> http.client.HTTPResponse:
        conn.set_timeouts(connect=connect_timeout, io=read_timeout)
        return conn.request(method, target, headers, body)

    key: Key = (os.getpid(), policy, (url.scheme, url.host, url.port))
    conn, response = _respond(key, url, attempt)
    clean = False
    try:
        yield response
        clean = not response.will_close and response.isclosed() and not response.length
    finally:
        response.close()
        if clean:
            _keep(key, conn)
        else:
            conn.close()


def _respond(
    key: Key, url: httpx.URL, attempt: Attempt
) -> tuple[GuardedConnection, http.client.HTTPResponse]:
    """The response on this thread's idle connection to the origin, or else on a new one.

    A server may close an idle connection just as a request goes out on it, so a reused one that
    fails before a single byte of an answer is replaced once by a new one; never after the answer
    has begun, since the server has then seen the request.
    """
    conn = _idle(key)
    if conn is not None:
        sock = conn.sock
        before = sock.received
        try:
            return conn, attempt(conn)
        except (ConnectionError, ssl.SSLEOFError):
            conn.close()
            if sock.received != before:
                raise
        except BaseException:
            conn.close()
            raise
    conn = GuardedConnection(key[1], url)
    try:
        return conn, attempt(conn)
    except BaseException:
        conn.close()
        raise


def _idle(key: Key) -> GuardedConnection | None:
    idle = _local.__dict__.get("idle")
    entry = idle.pop(key, None) if idle else None
    if entry is None:
        return None
    conn, since = entry
    if time.monotonic() - since < KEEPALIVE_EXPIRY and not _has_input(conn.sock):
        return conn
    conn.close()
    return None


def _keep(key: Key, conn: GuardedConnection) -> None:
    idle: OrderedDict = _local.__dict__.setdefault("idle", OrderedDict())
    idle[key] = (conn, time.monotonic())
    while len(idle) > MAX_ORIGINS:
        (pid, *_), (evicted, _) = idle.popitem(last=False)
        if pid == key[0]:  # a forked parent's connections are the parent's to close
            evicted.close()


def _has_input(sock: socket.socket) -> bool:
    """True if an idle socket is readable: closed by the server, or holding unasked-for bytes."""
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return True
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))


def close_idle() -> None:
    """Close this thread's idle connections (e.g. when a worker thread ends)."""
    for conn, _ in _local.__dict__.pop("idle", OrderedDict()).values():
        conn.close()
