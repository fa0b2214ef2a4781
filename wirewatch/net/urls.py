"""URL rules for outbound requests: http(s) only, no credentials, one unambiguous host spelling."""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from urllib.parse import urlsplit

import httpx

from wirewatch.errors import FetchError

MAX_URL_LENGTH = 8192
_DEFAULT_PORTS = {"http": 80, "https": 443}
_LABEL = re.compile(r"[a-z0-9_-]{1,63}")
_HEX_NUMBER = re.compile(r"0x[0-9a-f]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def parse_url(url: str) -> httpx.URL:
    """The URL as the gate will send it, or a permanent FetchError saying what is wrong with it.
    Valid URLs are remembered (the 4,096 most recent): every request and every webhook check
    parses its URL, and httpx.URL is immutable.

    Rejected before any DNS lookup: other schemes, credentials (`http://evil@127.0.0.1`), a
    backslash or whitespace in the authority (parsers disagree on where such a host ends), IPv6
    zone ids, and numeric hosts in any spelling but dotted decimal (`2130706433`, `0x7f.1`,
    `0177.0.0.1`, `127.1`), which resolvers read differently. Default ports are dropped.
    """
    if not isinstance(url, str):
        raise _invalid(f"a URL must be a string, not {type(url).__name__}")
    return _parse(url)


@lru_cache(maxsize=4096)
def _parse(url: str) -> httpx.URL:
    text = url.strip()
    if len(text) > MAX_URL_LENGTH:
        raise _invalid(f"URL longer than {MAX_URL_LENGTH} characters")
    if _CONTROL.search(text):
        raise _invalid(f"URL contains control characters: {text[:200]!r}")
    scheme, sep, rest = text.partition("://")
    if not sep or scheme.lower() not in _DEFAULT_PORTS:
        raise _invalid(f"not an http(s) URL: {text[:200]!r}")
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    if "@" in authority:
        raise _invalid(
            "credentials in URLs are not supported (send them as a header instead): "
            f"{scheme}://…@{authority.rpartition('@')[2]}"
        )
    if "\\" in authority or any(c.isspace() for c in authority):
        raise _invalid(f"URL host contains a backslash or whitespace: {text[:200]!r}")
    try:
        parsed = httpx.URL(text)
    except httpx.InvalidURL as exc:
        raise _invalid(f"invalid URL {text[:200]!r}: {exc}") from None
    _check_host(parsed.raw_host.decode("ascii").lower(), text)
    port = parsed.port
    if port is not None and not 0 < port < 65536:
        raise _invalid(f"invalid port {port} in {text[:200]!r}")
    if port == _DEFAULT_PORTS[parsed.scheme]:
        parsed = parsed.copy_with(port=None)
    if not parsed.raw_path.startswith(b"/"):
        parsed = parsed.copy_with(path="/" + parsed.path)
    return parsed


def normalise_url(url: str) -> str:
    """`url` as Wirewatch stores and requests it (see `parse_url`)."""
    return str(parse_url(url))


def host_key(url: str) -> str:
    """Lower-case `host[:port]` (port only if not the default), for per-host politeness.

    Never raises: a URL the gate would refuse still gets a key (its raw authority, lower-cased),
    so callers can take a politeness slot before `fetch` reports what is wrong with the URL.
    """
    try:
        parsed = parse_url(url)
    except FetchError:
        try:
            authority = urlsplit(str(url)).netloc if "://" in str(url) else ""
        except ValueError:  # e.g. an unclosed IPv6 bracket
            authority = ""
        return authority.rpartition("@")[2].lower() or "invalid-url"
    host = parsed.raw_host.decode("ascii").lower()
    if ":" in host:
        host = f"[{host}]"
    return host if parsed.port is None else f"{host}:{parsed.port}"


def _check_host(host: str, text: str) -> None:
    if not host:
        raise _invalid(f"URL has no host: {text[:200]!r}")
    if ":" in host:
        if "%" in host:
            raise _invalid(f"IPv6 zone ids are not allowed: {text[:200]!r}")
        return  # httpx has already parsed the literal as an IPv6 address
    labels = host.removesuffix(".").split(".")
    if len(host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise _invalid(f"invalid host {host!r}")
    last = labels[-1]
    # The WHATWG URL standard reads a host whose last label is a number as an IPv4 address in
    # decimal, octal or hex parts; resolvers differ. Only the canonical dotted quad is accepted.
    if last.isdigit() or _HEX_NUMBER.fullmatch(last):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            raise _invalid(
                f"ambiguous numeric host {host!r}: write an IPv4 address as four decimal numbers"
            ) from None


def _invalid(message: str) -> FetchError:
    return FetchError(message, permanent=True)
