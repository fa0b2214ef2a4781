"""Webhook channel: one signed Standard Webhooks POST through the gate, its outcome decided once.

Outcomes (Standard Webhooks "delivery success and failure"):
- 2xx: delivered. A 2xx whose body passes the 64 KiB cap still counts: the body is not read.
- 410 Gone: permanent, and the subscription must be disabled (`disable=True`).
- 3xx: transient failure; redirects are never followed (the spec asks the owner to update the
  URL, and following them would let an endpoint steer us past the creation-time checks).
- every other status, 4xx included: transient, as the spec treats every non-2xx as a failure to
  retry; the outbox's retry schedule bounds the attempts, and the owner may fix the endpoint
  meanwhile. `retry_after` carries a 429/503 Retry-After.
- timeouts, refused or reset connections, TLS errors: transient.
- an invalid or TLS-less URL (see targets.webhook_url_problem), a private address while the
  guard is on, a malformed secret: permanent.
"""

from __future__ import annotations

import time

from wirewatch.errors import BlockedAddressError, FetchError
from wirewatch.net import fetch
from wirewatch.settings import Settings
from worker.alerts.errors import TransportError
from worker.alerts.model import Alert
from worker.alerts.payload import webhook_payload
from worker.alerts.signing import sign_webhook
from worker.alerts.targets import webhook_url_problem

RESPONSE_MAX_BYTES = 64 * 1024


class WebhookTransport:
    def __init__(self, *, settings: Settings) -> None:
        self.settings = settings

    def send(self, alert: Alert, *, url: str, secret: str) -> None:
        problem = webhook_url_problem(url, settings=self.settings)
        if problem:
            raise TransportError(problem, permanent=True)
        body = webhook_payload(alert)
        timestamp = int(time.time())
        try:
            signature = sign_webhook(
                secret=secret, msg_id=alert.delivery_id, timestamp=timestamp, body=body
            )
        except ValueError as exc:
            raise TransportError(f"cannot sign the webhook: {exc}", permanent=True) from None
        headers = {
            "content-type": "application/json",
            "webhook-id": alert.delivery_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature,
        }
        try:
            response = fetch(url, settings=self.settings, method="POST", body=body,
                             headers=headers, follow_redirects=False,
                             max_bytes=RESPONSE_MAX_BYTES)
        except BlockedAddressError as exc:
            raise TransportError(str(exc), permanent=True) from None
        except FetchError as exc:
            error = delivery_error(exc)
            if error is not None:
                raise error from None
            return
        if not 200 <= response.status < 300:  # 304, which the gate lets through for GETs
            raise TransportError(f"{url}: HTTP {response.status}: not a 2xx answer")


def delivery_error(exc: FetchError) -> TransportError | None:
    """The TransportError for a failed gate request, or None if the endpoint did answer 2xx."""
    status = exc.status
    if status is None:  # no response: the gate has decided (bad URL permanent, network transient)
        return TransportError(str(exc), permanent=exc.permanent)
    if 200 <= status < 300:  # only the (unread) body was too large: delivered
        return None
    if status == 410:
        return TransportError("endpoint answered 410 Gone: subscription disabled",
                              permanent=True, disable=True)
    if 300 <= status < 400:
        return TransportError(f"{exc}: webhooks do not follow redirects; update the webhook URL "
                              "to the final address")
    return TransportError(str(exc), retry_after=exc.retry_after)
