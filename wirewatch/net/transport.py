"""Guarded HTTP/1.1 connections: only to the addresses the guard checked, within one deadline.

A connection resolves its host once, checks every address, and connects to one of those very
addresses (no second lookup, no DNS-rebinding window); TLS still names and verifies the hostname
(SNI). Every socket read and write is bounded by the read timeout and by what is left of the
thread's total deadline, so a server trickling bytes cannot hold a request longer.

Bodies are read by the standard library's http.client (Content-Length, chunked, read to close):
httpx, httpcore and h11 took three times its CPU per request. The request head and the response's
status line and header fields are written and read here, with h11's rules: http.client parses
headers through the email package, slowly, and takes a header block cut short by EOF as whole.
"""

from __future__ import annotations

import functools
import http.client
import re
import socket
import ssl
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpx

from wirewatch.net.guard import AddressPolicy, resolve_checked

_local = threading.local()


@contextmanager
def total_deadline(seconds: float) -> Iterator[float]:
    """Bound every socket operation of this thread by one deadline `seconds` from now."""
    previous = getattr(_local, "deadline", None)
    deadline = time.monotonic() + seconds
    _local.deadline = deadline if previous is None else min(previous, deadline)
    try:
        yield _local.deadline
    finally:
        _local.deadline = previous


def _bounded(timeout: float | None) -> float | None:
    """`timeout` shortened to what is left of the deadline; raises once it has passed."""
    deadline = getattr(_local, "deadline", None)
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("total timeout exceeded")
    return left if timeout is None else min(timeout, left)


class _DeadlineIO:
    """Socket reads and writes, each bounded by `io_timeout` and the thread's deadline.

    `received` counts the bytes read, so that a failed request can tell whether any answer came.
    """

    io_timeout: float | None = None
    received = 0

    def _arm(self) -> None:
        timeout = _bounded(self.io_timeout)
        if timeout != self.gettimeout():  # type: ignore[attr-defined]
            self.settimeout(timeout)  # type: ignore[attr-defined]

    def recv_into(self, *args: Any) -> int:
        self._arm()
        count = super().recv_into(*args)  # type: ignore[misc]
        self.received += count
        return count

    def sendall(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            self._arm()
            view = view[self.send(view) :]  # type: ignore[attr-defined]


class _Socket(_DeadlineIO, socket.socket):
    pass


class _TLSSocket(_DeadlineIO, ssl.SSLSocket):
    pass


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One verifying TLS context (certifi roots) for all connections; loading it costs ~0.1 s."""
    context = httpx.create_ssl_context(trust_env=False)
    context.set_alpn_protocols(["http/1.1"])
    context.sslsocket_class = _TLSSocket
    return context


class GuardedConnection:
    """One keep-alive HTTP/1.1 connection to one origin, dialled through the address guard."""

    def __init__(self, policy: AddressPolicy, url: httpx.URL) -> None:
        self.policy = policy
        self.tls = url.scheme == "https"
        self.host = url.raw_host.decode("ascii")
        self.port = url.port or (443 if self.tls else 80)
        self.sock: _Socket | _TLSSocket | None = None
        self.connect_timeout: float | None = None
        self.io_timeout: float | None = None

    def set_timeouts(self, *, connect: float, io: float) -> None:
        self.connect_timeout, self.io_timeout = connect, io
        if self.sock is not None:
            self.sock.io_timeout = io

    def request(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes | None
    ) -> http.client.HTTPResponse:
        """Send one request (names and values already checked); the response, its status line
        and header fields read."""
        if self.sock is None:
            self.sock = self._connect()
        head = [f"{method} {target} HTTP/1.1"]
        head += [f"{name}: {value}" for name, value in headers.items()]
        if body is not None or method in ("POST", "PUT", "PATCH"):
            head.append(f"content-length: {len(body or b'')}")
        head.append("\r\n")
        data = "\r\n".join(head).encode("latin-1")
        self.sock.sendall(data + body if body else data)  # one write: no Nagle/delayed-ACK wait
        response = _Response(self.sock, method=method)
        try:
            response.begin()
        except BaseException:
            response.close()
            raise
        return response

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def _connect(self) -> _Socket | _TLSSocket:
        try:
            addresses = resolve_checked(
                self.host, self.port, policy=self.policy, timeout=_bounded(self.connect_timeout)
            )
        except socket.gaierror as exc:
            raise OSError(f"cannot resolve {self.host}: {exc.strerror or exc}") from None
        sock = self._dial(addresses)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.tls:
                sock.settimeout(_bounded(self.connect_timeout))  # bounds the whole handshake
                sock = _ssl_context().wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise
        sock.io_timeout = self.io_timeout
        return sock

    def _dial(self, addresses: list[tuple[int, str]]) -> _Socket:
        """A socket connected to the first checked address that answers."""
        last: OSError | None = None
        for family, ip in addresses:
            sock = _Socket(family, socket.SOCK_STREAM)
            try:
                sock.settimeout(_bounded(self.connect_timeout))
                sock.connect((ip, self.port))
            except OSError as exc:
                sock.close()
                last = exc
                continue
            return sock
        assert last is not None
        raise last


class ProtocolError(http.client.HTTPException):
    """The server's answer breaks HTTP/1.1: framing, header syntax or version."""


MAX_LINE = 64 * 1024
MAX_HEADERS_SIZE = 128 * 1024
# Possessive quantifiers throughout: a hostile line (64 KiB of spaces, then a control character)
# must fail in one pass, not by backtracking over every way to split its whitespace (seconds
# spent in the regex engine, holding the interpreter lock, beyond the reach of any deadline).
_STATUS_LINE = re.compile(rb"HTTP/1\.([0-9]) ([1-9][0-9]{2})(?: ([\t\x20-\x7e\x80-\xff]*+))?\r?\n")
_VALUE = rb"((?:[\x21-\x7e\x80-\xff]++(?:[ \t]++[\x21-\x7e\x80-\xff]++)*+)?+)[ \t]*+\r?\n"
_FIELD = re.compile(rb"([!#$%&'*+.^_`|~0-9A-Za-z-]++):[ \t]*+" + _VALUE)
_FOLDED = re.compile(rb"[ \t]++" + _VALUE)


class _Response(http.client.HTTPResponse):
    """http.client's response, its head read with h11's rules: informational (1xx) answers
    skipped; a cut or malformed status line or header block, conflicting Content-Length and
    transfer codings other than chunked refused. `headers` is an httpx.Headers."""

    def begin(self) -> None:
        minor, status, reason = self._status_line()
        while 100 <= status < 200 and status != 101:
            self._fields()
            minor, status, reason = self._status_line()
        self.code = self.status = status
        self.reason = reason
        self.version = 10 if minor == 0 else 11
        fields = self._fields()
        self.headers = self.msg = httpx.Headers(fields)
        self.chunked, self.length, keep_alive = _framing(fields)
        self.chunk_left = None
        if status in (101, 204, 304) or self._method == "HEAD":  # no body, whatever the headers
            self.chunked, self.length = False, 0
        self.will_close = not (keep_alive and minor == 1 and status != 101) or (
            not self.chunked and self.length is None
        )

    def _status_line(self) -> tuple[int, int, str]:
        line = self.fp.readline(MAX_LINE + 1)
        if not line:
            raise http.client.RemoteDisconnected(
                "the server closed the connection without answering"
            )
        if len(line) > MAX_LINE:
            raise http.client.LineTooLong("status line")
        match = _STATUS_LINE.fullmatch(line)
        if match is None:
            raise http.client.BadStatusLine(line.decode("latin-1"))
        minor, status, reason = match.groups()
        return int(minor), int(status), (reason or b"").decode("latin-1").strip()

    def _fields(self) -> list[tuple[bytes, bytes]]:
        """The header fields up to the blank line; obsolete line folding joined with a space."""
        fields: list[tuple[bytes, bytes]] = []
        size = 0
        while (line := self.fp.readline(MAX_LINE + 1)) not in (b"\r\n", b"\n"):
            if len(line) > MAX_LINE:
                raise http.client.LineTooLong("header line")
            if not line.endswith(b"\n"):
                raise ProtocolError("connection closed in the middle of the response headers")
            size += len(line)
            if size > MAX_HEADERS_SIZE:
                raise ProtocolError(f"response headers longer than {MAX_HEADERS_SIZE // 1024} KiB")
            folded = _FOLDED.fullmatch(line) if fields else None
            if folded is not None:
                name, value = fields[-1]
                fields[-1] = (name, b"%s %s" % (value, folded[1]))
                continue
            field = _FIELD.fullmatch(line)
            if field is None:
                raise ProtocolError(f"malformed response header line {line[:100]!r}")
            fields.append((field[1], field[2]))
        return fields


def _framing(fields: list[tuple[bytes, bytes]]) -> tuple[bool, int | None, bool]:
    """(chunked, Content-Length, keep-alive) as h11 reads them; ProtocolError where they cannot
    be trusted. HTTP/1.0 answers are never kept alive, as with h11."""
    values: dict[bytes, list[bytes]] = {}
    for name, value in fields:
        key = name.lower()
        if key in _FRAMING:
            values.setdefault(key, []).append(value)
    keep_alive = b"close" not in _tokens(values.get(b"connection"))
    codings = values.get(b"transfer-encoding")
    if codings:
        if [coding.lower() for coding in codings] != [b"chunked"]:
            raise ProtocolError(f"unsupported Transfer-Encoding {_text(codings)!r}")
        return True, None, keep_alive
    lengths = _tokens(values.get(b"content-length"))
    if not lengths:
        return False, None, keep_alive
    length = lengths.pop()
    if lengths or not length.isdigit():
        raise ProtocolError(f"invalid Content-Length {_text(values[b'content-length'])!r}")
    return False, int(length), keep_alive


_FRAMING = frozenset({b"transfer-encoding", b"content-length", b"connection"})


def _text(values: list[bytes]) -> str:
    return b", ".join(values).decode("latin-1")


def _tokens(values: list[bytes] | None) -> set[bytes]:
    """The comma-separated tokens of a header's values, lower-cased."""
    return {token.strip().lower() for value in values or () for token in value.split(b",")}


def body_chunks(response: http.client.HTTPResponse, size: int = 256 * 1024) -> Iterator[bytes]:
    """The raw body in chunks; a body cut short of its Content-Length is an error, not an end
    (http.client's `read(size)` returns short bodies silently)."""
    while chunk := response.read(size):
        yield chunk
    if response.length:
        raise ProtocolError(f"connection closed {response.length} bytes before the end of the body")
