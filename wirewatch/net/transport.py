"""Guarded transport: connects only to the address the guard checked, within one total deadline.

httpx resolves and connects inside httpcore's network backend, so the guard lives there: the
backend resolves the host once, checks every address, and connects to one of those very
addresses (no second lookup, no DNS-rebinding window). The Host header, TLS SNI and certificate
verification still use the hostname, because httpcore passes the URL's host to TLS as usual.
"""

from __future__ import annotations

import functools
import os
import socket
import ssl
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any

import httpcore
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


def _bounded(timeout: float | None, exc: type[Exception]) -> float | None:
    """`timeout` shortened to what is left of the deadline; raises `exc` once it has passed."""
    deadline = getattr(_local, "deadline", None)
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise exc("total timeout exceeded")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A network stream whose every read, write and handshake respects the thread's deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, bounded))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class GuardedBackend(httpcore.NetworkBackend):
    """httpcore network backend that resolves, checks, then connects to the checked address."""

    def __init__(self, policy: AddressPolicy) -> None:
        self._policy = policy
        self._plain = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = resolve_checked(
                host, port, policy=self._policy,
                timeout=_bounded(timeout, httpcore.ConnectTimeout),
            )
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(str(exc)) from None
        except socket.gaierror as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc.strerror or exc}") from None
        last: Exception | None = None
        for _family, ip in addresses:
            try:
                stream = self._plain.connect_tcp(
                    ip, port, _bounded(timeout, httpcore.ConnectTimeout),
                    local_address, socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
                continue
            return _DeadlineStream(stream)
        assert last is not None
        raise last

    def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are not reachable through the gate")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One verifying TLS context (certifi roots) for all clients; loading it costs ~0.1 s."""
    return httpx.create_ssl_context(trust_env=False)


class GuardedTransport(httpx.HTTPTransport):
    """httpx transport with the guarded backend, no proxies and no environment configuration."""

    def __init__(self, policy: AddressPolicy) -> None:
        super().__init__(verify=_ssl_context(), trust_env=False)
        # httpx has no public argument for a network backend; its transport keeps the httpcore
        # pool in `_pool`, so the pool is rebuilt here with the guarded backend (httpx 0.28).
        # Fail loudly if that ever changes: an unused pool would mean an unguarded client.
        if not isinstance(getattr(self, "_pool", None), httpcore.ConnectionPool):
            raise RuntimeError("httpx.HTTPTransport has no `_pool`: cannot install the guard")
        self._pool.close()
        self._pool = httpcore.ConnectionPool(
            ssl_context=_ssl_context(),
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=GuardedBackend(policy),
        )


class _NoCookies(DefaultCookiePolicy):
    def set_ok(self, cookie: Any, request: Any) -> bool:
        return False

    def return_ok(self, cookie: Any, request: Any) -> bool:
        return False


# Pooled clients kept per thread: one per (policy, origin), the most recently used first out.
# httpcore's pool walks all of its connections on every request and every response close, so
# one pool for every host cost as much as the request itself once a worker had talked to a few
# dozen hosts; a pool per origin holds the connections to that origin alone.
MAX_CLIENTS = 64


def client_for(policy: AddressPolicy, origin: tuple[str, str, int | None]) -> httpx.Client:
    """This thread's pooled client for `policy` and `origin` (scheme, host, port): pools never
    mix policies, and each holds the keep-alive connections of one origin."""
    clients: OrderedDict[tuple, httpx.Client] = _local.__dict__.setdefault(
        "clients", OrderedDict()
    )
    key = (os.getpid(), policy, origin)
    client = clients.get(key)
    if client is not None:
        clients.move_to_end(key)
        return client
    client = httpx.Client(
        transport=GuardedTransport(policy),
        trust_env=False,
        follow_redirects=False,
        cookies=CookieJar(policy=_NoCookies()),
    )
    clients[key] = client
    while len(clients) > MAX_CLIENTS:
        (pid, *_), evicted = clients.popitem(last=False)
        if pid == key[0]:  # a forked parent's connections are the parent's to close
            evicted.close()
    return client


def close_clients() -> None:
    """Close this thread's pooled clients (e.g. when a worker thread ends)."""
    clients = _local.__dict__.pop("clients", OrderedDict())
    for client in clients.values():
        client.close()
