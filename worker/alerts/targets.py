"""Subscription targets checked once, at creation: a readable ValueError or the normalised target.

The same rules run again at send time (a rule can change with the settings), where breaking one
is a permanent TransportError, except a host that does not resolve (UnresolvedHost): transient.
"""

from __future__ import annotations

import apprise
from email_validator import EmailNotValidError, validate_email

from wirewatch.errors import BlockedAddressError, FetchError
from wirewatch.net import AddressPolicy, check_url
from wirewatch.net.guard import resolve_checked
from wirewatch.net.urls import parse_url
from wirewatch.settings import Settings, get_settings

CHANNELS = ("webhook", "email", "apprise")
_GUARD_HINT = (" (private, loopback and link-local addresses are refused unless "
               "WIREWATCH_ALLOW_PRIVATE_NETWORKS is on)")
# Apprise schemas whose URL host is the server Apprise will POST to (self-hosted services and
# the generic json/xml/form ones): these hosts go through the private-network guard. Other
# schemas talk to a fixed public service (tgram://, discord://, slack://…) or derive the host
# in ways we cannot see (ntfy://topic, matrix://, mailto://): they are not guarded.
GUARDED_APPRISE_SCHEMAS = frozenset(
    scheme + suffix
    for scheme in ("json", "xml", "form", "apprise", "gotify", "mmost", "rocket", "ncloud",
                   "nctalk")
    for suffix in ("", "s")
)


class UnresolvedHost(ValueError):
    """The host of a target does not resolve now: refused at creation, transient at send time."""


def validate_target(channel: str, target: str, *, settings: Settings | None = None) -> str:
    """The normalised target of a new subscription, or ValueError saying what is wrong.

    webhook: an https:// URL (http:// only with allow_private_networks or
    allow_insecure_webhooks), whose host resolves to public addresses unless private networks
    are allowed. email: a syntactically valid address (no DNS lookup). apprise: exactly one URL
    Apprise can parse; for host-bearing schemas the host passes the same guard.
    """
    settings = settings or get_settings()
    if not isinstance(target, str) or not target.strip():
        raise ValueError(f"a {channel} subscription needs a target")
    target = target.strip()
    if channel == "webhook":
        return _webhook(target, settings)
    if channel == "email":
        return email_address(target)
    if channel == "apprise":
        url, _plugin = apprise_plugin(target, settings=settings)
        return url
    raise ValueError(f"unknown channel {channel!r}: expected one of {', '.join(CHANNELS)}")


def webhook_url_problem(url: str, *, settings: Settings) -> str | None:
    """Why `url` may not receive webhooks under `settings` (without DNS), or None."""
    try:
        parsed = parse_url(url)
    except FetchError as exc:
        return str(exc)
    insecure_ok = settings.allow_private_networks or settings.allow_insecure_webhooks
    if parsed.scheme != "https" and not insecure_ok:
        return (f"webhook URL must use https:// (http:// would carry alerts and signatures in "
                f"clear text); got {url[:200]!r}. Set WIREWATCH_ALLOW_INSECURE_WEBHOOKS=true "
                "to allow it")
    return None


def _webhook(url: str, settings: Settings) -> str:
    problem = webhook_url_problem(url, settings=settings)
    if problem:
        raise ValueError(problem)
    try:
        return check_url(url, settings=settings)  # resolves DNS and applies the guard
    except BlockedAddressError as exc:
        raise ValueError(f"{exc}{_GUARD_HINT}") from None
    except FetchError as exc:
        raise UnresolvedHost(str(exc)) from None


def email_address(address: str) -> str:
    """The normalised address, or ValueError with the reason (syntax only, no DNS lookup)."""
    try:
        return validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(f"invalid email address {address[:200]!r}: {exc}") from None


def apprise_plugin(
    url: str, *, settings: Settings, asset: apprise.AppriseAsset | None = None
) -> tuple[str, apprise.NotifyBase]:
    """(url, the parsed Apprise service) or ValueError; the host guard is applied here."""
    scheme = url.partition("://")[0].lower() if "://" in url else ""
    bundle = apprise.Apprise(asset=asset)
    if not bundle.add(url) or len(bundle) == 0:
        shown = f"{scheme}://…" if scheme else "(no scheme://)"
        raise ValueError(f"cannot parse Apprise URL {shown}: not a URL form Apprise supports, "
                         "or a required part (token, host, channel) is missing")
    if len(bundle) != 1:
        raise ValueError(f"one Apprise URL per subscription, got {len(bundle)}")
    plugin = bundle[0]
    if scheme in GUARDED_APPRISE_SCHEMAS and not settings.allow_private_networks:
        _guard_host(str(plugin.host or ""), plugin.port, secure=plugin.secure, settings=settings)
    return url, plugin


def _guard_host(host: str, port: int | None, *, secure: bool, settings: Settings) -> None:
    """ValueError if `host` is missing, unresolvable or resolves to a refused address."""
    if not host:
        raise ValueError("Apprise URL has no host")
    try:
        resolve_checked(host, port or (443 if secure else 80),
                        policy=AddressPolicy(allow_private=False),
                        timeout=settings.connect_timeout)
    except BlockedAddressError as exc:
        raise ValueError(f"{exc}{_GUARD_HINT}") from None
    except (OSError, TimeoutError) as exc:
        raise UnresolvedHost(f"cannot resolve Apprise host {host}: {exc}") from None
