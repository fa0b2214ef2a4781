"""Apprise channel (chat and push services): one notification to one Apprise URL.

Outcomes: a URL Apprise cannot parse, or a host the guard refuses: permanent. Apprise reporting
failure or a timeout: transient (Apprise does not tell a dead token from a busy service).

Guard gap: Apprise makes its own HTTP requests (with `requests`), outside the project's gate.
While private networks are not allowed we (1) check the host of host-bearing schemas (see
targets.GUARDED_APPRISE_SCHEMAS) before every send, and (2) turn off redirects; but Apprise
resolves the name again when it connects (a DNS-rebinding window), honours proxy environment
variables, and other schemas are not checked at all. Time is bounded by the connect/read
timeouts and Apprise's per-service timeout (settings.total_timeout), not by the gate's deadline.
"""

from __future__ import annotations

import apprise

from wirewatch.settings import Settings
from worker.alerts.errors import TransportError
from worker.alerts.model import Alert
from worker.alerts.render import text_of, title_of
from worker.alerts.targets import UnresolvedHost, apprise_plugin


class AppriseTransport:
    def __init__(self, *, settings: Settings) -> None:
        self.settings = settings
        self.asset = apprise.AppriseAsset(
            service_timeout=settings.total_timeout,
            http_redirects=settings.allow_private_networks,
        )

    def send(self, alert: Alert, *, url: str) -> None:
        try:
            _url, plugin = apprise_plugin(url, settings=self.settings, asset=self.asset)
        except UnresolvedHost as exc:
            raise TransportError(str(exc)) from None
        except ValueError as exc:
            raise TransportError(str(exc), permanent=True) from None
        plugin.socket_connect_timeout = self.settings.connect_timeout
        plugin.socket_read_timeout = self.settings.read_timeout
        if not self.settings.allow_private_networks:
            plugin.redirects = False  # a URL's own "redirect=yes" does not override the guard
        bundle = apprise.Apprise(asset=self.asset)
        bundle.add(plugin)
        result = bundle.notify(body=text_of(alert), title=title_of(alert),
                               body_format=apprise.NotifyFormat.TEXT)
        if not result:
            service = plugin.url(privacy=True).split("?", 1)[0]
            raise TransportError(f"Apprise could not notify {service}: {_reason(result)}")


def _reason(result: object) -> str:
    """The last warning or error Apprise logged for this call (apprise >= 2), else its status."""
    logs = getattr(result, "logs", None)
    messages = [entry.message for entry in logs()
                if entry.level in ("WARNING", "ERROR", "CRITICAL")] if callable(logs) else []
    if messages:
        return " ".join(messages[-1].split())[:300]
    status = getattr(result, "status", None)
    return getattr(status, "name", "failed").lower()
