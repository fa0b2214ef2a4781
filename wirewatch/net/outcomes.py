"""Outcomes decided once: every HTTP result maps to success or a transient/permanent FetchError."""

from __future__ import annotations

import http.client
import re
import time
from collections.abc import Mapping
from datetime import UTC
from email.utils import parsedate_to_datetime

import httpx

from wirewatch.errors import FetchError
from wirewatch.net.decode import DecodeError

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_TRANSIENT_4XX = frozenset({408, 425, 429})
# Timeouts, refused or reset connections, TLS failures (all OSError), and answers that break
# HTTP/1.1 (http.client's BadStatusLine, LineTooLong, IncompleteRead; transport.ProtocolError).
_TRANSIENT_EXCEPTIONS = (http.client.HTTPException, DecodeError, OSError)


def outcome_error(
    url: str,
    *,
    status: int | None = None,
    headers: Mapping[str, str] | None = None,
    exc: BaseException | None = None,
    retry_after_cap: float | None = None,
    total_timeout: float | None = None,
    now: float | None = None,
) -> FetchError | None:
    """The error for one outcome (a status, or the exception raised), or None for success.

    Timeouts, connection and protocol errors, 408/425/429 and 5xx are transient; every other
    4xx, unexpected 1xx/3xx and anything unrecognised are permanent. `total_timeout` is given
    when the request's whole deadline had passed when `exc` was raised.
    """
    if exc is not None:
        if isinstance(exc, FetchError):
            return exc
        timed_out = isinstance(exc, TimeoutError)
        if timed_out and total_timeout is not None:
            return FetchError(f"{url}: request timed out: total timeout of {total_timeout:g}s "
                              "exceeded", permanent=False)
        kind = "timed out" if timed_out else "failed"
        detail = _detail(exc)
        if isinstance(exc, _TRANSIENT_EXCEPTIONS):
            return FetchError(f"{url}: request {kind}: {detail}", permanent=False)
        return FetchError(f"{url}: request failed: {detail}", permanent=True)
    assert status is not None
    if 200 <= status < 300 or status == 304:
        return None
    if status in _TRANSIENT_4XX or 500 <= status < 600:
        retry_after = None
        if status in (429, 503) and headers is not None:
            retry_after = parse_retry_after(headers.get("retry-after"), now=now)
            if retry_after is not None and retry_after_cap is not None:
                retry_after = min(retry_after, retry_after_cap)
        return FetchError(
            f"{url}: HTTP {status}", permanent=False, status=status, retry_after=retry_after
        )
    return FetchError(f"{url}: HTTP {status}", permanent=True, status=status)


def _detail(exc: BaseException) -> str:
    """What went wrong, in words: some of http.client's messages are a bare repr."""
    if isinstance(exc, http.client.BadStatusLine) and not isinstance(exc, ConnectionError):
        return f"not an HTTP response: status line {exc.line.strip()[:100]!r}"
    if isinstance(exc, http.client.IncompleteRead):  # raised for chunked bodies only
        return "chunked body malformed or cut short"
    return str(exc) or type(exc).__name__


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After value (delta-seconds or HTTP-date); None if unusable."""
    if value is None:
        return None
    value = value.strip()
    if re.fullmatch(r"\d+", value):
        return float(int(value))
    when = _http_date(value)
    if when is None:
        return None
    return max(0.0, when - (time.time() if now is None else now))


def cache_lifetime(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds the response stays fresh (s-maxage, max-age, Expires - Date, minus Age).

    None when the response says not to reuse it (no-store, no-cache) or gives no lifetime.
    """
    get = headers.get if isinstance(headers, httpx.Headers) else httpx.Headers(headers).get
    directives: dict[str, str | None] = {}
    for part in (get("cache-control") or "").split(","):
        name, _, arg = part.strip().partition("=")
        if name:
            directives.setdefault(name.strip().lower(), arg.strip().strip('"') or None)
    if "no-store" in directives or "no-cache" in directives:
        return None
    age = _seconds(get("age")) or 0.0
    for name in ("s-maxage", "max-age"):
        if name in directives:
            seconds = _seconds(directives[name])
            if seconds is not None:
                return max(0.0, seconds - age)
    expires = get("expires")
    if expires is None:
        return None
    expires_at = _http_date(expires)
    if expires_at is None:
        return 0.0  # an invalid Expires (e.g. "0") means already expired
    date = _http_date(get("date") or "")
    base = date if date is not None else (time.time() if now is None else now)
    return max(0.0, expires_at - base - (age if date is not None else 0.0))


def _seconds(value: str | None) -> float | None:
    if value is None or not re.fullmatch(r"\s*\d+\s*", value):
        return None
    return float(int(value))


def _http_date(value: str) -> float | None:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:  # HTTP dates are GMT
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()
