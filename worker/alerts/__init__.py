"""Alert delivery channels: one transport class per channel, one `TransportError` for failures.

`transport_for(channel, settings=…)` gives the transport; its `send` returns None once the
alert is delivered and raises TransportError otherwise, carrying `permanent` (do not retry)
and `disable` (the endpoint is gone: disable the subscription). No database, no Celery here.
"""

from __future__ import annotations

from wirewatch.settings import Settings
from worker.alerts.chat import AppriseTransport
from worker.alerts.errors import TransportError
from worker.alerts.mail import EmailSettings, EmailTransport
from worker.alerts.model import Alert
from worker.alerts.payload import webhook_payload
from worker.alerts.signing import new_webhook_secret, sign_webhook, verify_webhook
from worker.alerts.targets import CHANNELS, validate_target
from worker.alerts.webhook import WebhookTransport

Transport = WebhookTransport | EmailTransport | AppriseTransport
_TRANSPORTS: dict[str, type[Transport]] = {
    "webhook": WebhookTransport,
    "email": EmailTransport,
    "apprise": AppriseTransport,
}


def transport_for(channel: str, *, settings: Settings) -> Transport:
    """The transport of `channel` ("webhook", "email" or "apprise"); ValueError otherwise."""
    try:
        return _TRANSPORTS[channel](settings=settings)
    except KeyError:
        raise ValueError(
            f"unknown channel {channel!r}: expected one of {', '.join(CHANNELS)}"
        ) from None


__all__ = [
    "Alert",
    "AppriseTransport",
    "CHANNELS",
    "EmailSettings",
    "EmailTransport",
    "Transport",
    "TransportError",
    "WebhookTransport",
    "new_webhook_secret",
    "sign_webhook",
    "transport_for",
    "validate_target",
    "verify_webhook",
    "webhook_payload",
]
