"""The one outbound HTTP gate: every request is checked, capped, timed out and classified here."""

from __future__ import annotations

import http.client
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from wirewatch.errors import FetchError
from wirewatch.net.decode import ACCEPT_ENCODING, BodyDecoder, DecodeError
from wirewatch.net.guard import AddressPolicy, resolve_checked
from wirewatch.net.outcomes import REDIRECT_STATUSES, outcome_error
from wirewatch.net.pool import exchange
from wirewatch.net.transport import body_chunks, total_deadline
from wirewatch.net.urls import parse_url
from wirewatch.settings import Settings

# Headers the gate sets; a caller's value could misroute the request or break framing.
_GATE_OWNED = ("host", "content-length", "transfer-encoding", "connection", "te")
# Headers that must not follow a redirect to another origin.
_ORIGIN_BOUND = ("authorization", "cookie", "proxy-authorization")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9a-z-]+")
_METHOD = re.compile(r"[A-Z]+")
# Line breaks would end the header early (a caller's value could smuggle in another header).
_UNSENDABLE = re.compile(r"[^\t\x20-\x7e\x80-\xff]")


@dataclass(frozen=True)
class Response:
    """A successful (2xx) or not-modified (304) response with its whole, decoded body."""

    url: str
    status: int
    headers: httpx.Headers
    content: bytes
    not_modified: bool
    elapsed: float

    @property
    def content_type(self) -> str:
        """Lower-cased media type without parameters; "" if absent."""
        return (self.headers.get("content-type") or "").split(";", 1)[0].strip().lower()

    @property
    def charset(self) -> str | None:
        """The charset parameter of Content-Type, if any."""
        for param in (self.headers.get("content-type") or "").split(";")[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "charset" and value.strip().strip("\"'"):
                return value.strip().strip("\"'")
        return None


def fetch(
    url: str,
    *,
    settings: Settings,
    max_bytes: int,
    accept: str | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
    method: str = "GET",
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    follow_redirects: bool = True,
) -> Response:
    """Raises FetchError (or BlockedAddressError) on any failure; non-2xx/304 statuses raise."""
    return Gate(settings).fetch(
        url, max_bytes=max_bytes, accept=accept, etag=etag, last_modified=last_modified,
        method=method, body=body, headers=headers, follow_redirects=follow_redirects,
    )


def check_url(url: str, *, settings: Settings) -> str:
    """Validate scheme + address (resolving DNS); returns the normalised URL or raises."""
    return Gate(settings).check_url(url)


class Gate:
    """Fetching under one settings object and address policy.

    Production code uses the module functions; tests may pass a `policy` exempting one test
    address (see AddressPolicy) so that the guard stays on for everything else.
    """

    def __init__(self, settings: Settings, *, policy: AddressPolicy | None = None) -> None:
        self.settings = settings
        self.policy = policy or AddressPolicy(allow_private=settings.allow_private_networks)

    def check_url(self, url: str) -> str:
        parsed = parse_url(url)
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        try:
            resolve_checked(
                parsed.host, port, policy=self.policy, timeout=self.settings.connect_timeout
            )
        except OSError as exc:  # gaierror, TimeoutError
            raise FetchError(f"{url}: cannot resolve {parsed.host}: {exc}") from None
        return str(parsed)

    def fetch(
        self,
        url: str,
        *,
        max_bytes: int,
        accept: str | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        method: str = "GET",
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        follow_redirects: bool = True,
    ) -> Response:
        settings = self.settings
        started = time.monotonic()
        if max_bytes < 1:
            raise ValueError("max_bytes must be positive")
        if not _METHOD.fullmatch(method):
            raise ValueError(f"invalid HTTP method {method!r}")
        current = parse_url(url)
        request_headers = {name.lower(): value for name, value in (headers or {}).items()}
        for name in _GATE_OWNED:
            request_headers.pop(name, None)
        request_headers["user-agent"] = settings.user_agent
        request_headers["accept-encoding"] = ACCEPT_ENCODING
        request_headers["connection"] = "keep-alive"
        if accept:
            request_headers["accept"] = accept
        request_headers.setdefault("accept", "*/*")
        if etag:
            request_headers["if-none-match"] = etag
        if last_modified:
            request_headers["if-modified-since"] = last_modified
        _check_headers(url, request_headers)
        seen = {str(current)}
        with total_deadline(settings.total_timeout) as deadline:
            for _hop in range(settings.max_redirects + 1):
                where = str(current)
                sent = {"host": current.netloc.decode("ascii"), **request_headers}
                status, headers_in, content = self._exchange(
                    method, current, where, sent, body, max_bytes, deadline
                )
                if status not in REDIRECT_STATUSES:
                    error = outcome_error(
                        where, status=status, headers=headers_in,
                        retry_after_cap=settings.retry_after_cap,
                    )
                    if error is not None:
                        raise error
                    return Response(
                        url=where, status=status, headers=headers_in,
                        content=content, not_modified=status == 304,
                        elapsed=time.monotonic() - started,
                    )
                if not follow_redirects:
                    raise FetchError(f"{current}: redirect not followed (HTTP {status})",
                                     permanent=False, status=status)
                target = self._redirect_target(current, status, headers_in)
                if str(target) in seen:
                    raise FetchError(f"{url}: redirect loop at {target}", permanent=True,
                                     status=status)
                seen.add(str(target))
                if status == 303 or (status in (301, 302) and method == "POST"):
                    method, body = ("HEAD" if method == "HEAD" else "GET"), None
                    request_headers.pop("content-type", None)
                if (target.scheme, target.host, target.port) != (
                    current.scheme, current.host, current.port
                ):
                    for name in _ORIGIN_BOUND:
                        request_headers.pop(name, None)
                current = target
        raise FetchError(f"{url}: more than {settings.max_redirects} redirects", permanent=True)

    @staticmethod
    def _redirect_target(current: httpx.URL, status: int, headers: httpx.Headers) -> httpx.URL:
        location = headers.get("location")
        if not location:
            raise FetchError(f"{current}: HTTP {status} without Location", permanent=True,
                             status=status)
        if "\\" in location:
            raise FetchError(f"{current}: refused redirect to {location!r}: backslash",
                             permanent=True, status=status)
        try:
            joined = current.join(location.strip())
        except (httpx.InvalidURL, ValueError) as exc:
            raise FetchError(f"{current}: bad redirect Location {location!r}: {exc}",
                             permanent=True, status=status) from None
        return parse_url(str(joined))

    def _exchange(
        self,
        method: str,
        url: httpx.URL,
        where: str,
        headers: Mapping[str, str],
        body: bytes | None,
        max_bytes: int,
        deadline: float,
    ) -> tuple[int, httpx.Headers, bytes]:
        """One request/response; the body is read only for 2xx and capped after decoding."""
        settings = self.settings
        try:
            with exchange(
                self.policy, url, method, headers, body,
                connect_timeout=settings.connect_timeout, read_timeout=settings.read_timeout,
            ) as response:
                status, headers_in = response.status, response.headers
                if not 200 <= status < 300 or method == "HEAD":
                    _drain(response)
                    return status, headers_in, b""
                return status, headers_in, _read_capped(response, where, max_bytes)
        except FetchError:
            raise
        except (http.client.HTTPException, DecodeError, OSError) as exc:
            late = time.monotonic() >= deadline - 0.01
            error = outcome_error(
                where, exc=exc, total_timeout=settings.total_timeout if late else None
            )
            assert error is not None
            raise error from exc


def _check_headers(url: str, headers: Mapping[str, str]) -> None:
    """Refuse, for good, a header that cannot be sent as given."""
    for name, value in headers.items():
        if not _TOKEN.fullmatch(name):
            raise FetchError(f"{url}: invalid request header name {name!r}", permanent=True)
        if _UNSENDABLE.search(value):
            raise FetchError(
                f"{url}: request header {name} contains a line break, a control character or a "
                f"character beyond Latin-1: {value[:100]!r}", permanent=True,
            )


# A body we do not need (304, errors, HEAD) is still read when it is this small, so that the
# connection goes back to the pool: every conditional GET would otherwise open a new one.
DRAIN_MAX = 64 * 1024


def _drain(response: http.client.HTTPResponse) -> None:
    if response.length is None or response.length > DRAIN_MAX:
        return  # unknown or large: closing the connection is cheaper than reading it
    try:
        for _ in body_chunks(response):
            pass
    except (http.client.HTTPException, OSError):
        pass  # the status is what we came for; the connection is simply not reused


def _read_capped(response: http.client.HTTPResponse, url: str, max_bytes: int) -> bytes:
    """The decoded body, refusing it as soon as it passes `max_bytes`."""
    too_large = FetchError(f"{url}: response larger than {max_bytes} bytes", permanent=True,
                           status=response.status)
    encoding = response.headers.get("content-encoding")
    decoder = BodyDecoder(encoding)
    if not encoding and response.length is not None and response.length > max_bytes:
        raise too_large
    pieces: list[bytes] = []
    size = 0
    for raw in body_chunks(response):
        for piece in decoder.feed(raw):
            pieces.append(piece)
            size += len(piece)
            if size > max_bytes:
                raise too_large
    for piece in decoder.finish():
        pieces.append(piece)
        size += len(piece)
        if size > max_bytes:
            raise too_large
    return b"".join(pieces)
