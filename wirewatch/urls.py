"""Feed URLs as users type them: checked for shape (http/https, a host) before they are stored."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


class InvalidFeedURL(ValueError):
    """The text is not an http(s) URL we can poll."""


def normalise_feed_url(raw: str) -> str:
    """Trim, require http/https and a host, lower-case scheme and host, drop the fragment.

    Whether the host resolves, or to what, is the outbound gate's business at poll time.
    """
    text = (raw or "").strip()
    if not text:
        raise InvalidFeedURL("empty URL")
    if any(c.isspace() for c in text) or any(ord(c) < 32 for c in text):
        raise InvalidFeedURL("URL contains spaces or control characters")
    if "://" not in text:
        raise InvalidFeedURL("not a URL (expected http://… or https://…)")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise InvalidFeedURL(f"not a URL: {exc}") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise InvalidFeedURL(f"unsupported scheme {parts.scheme!r} (only http and https)")
    if not parts.hostname:
        raise InvalidFeedURL("URL has no host")
    if "\\" in parts.netloc or parts.username or parts.password:
        raise InvalidFeedURL("URL with credentials or backslashes in the host part is refused")
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None else f"{host}:{port}"
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", parts.query, ""))
