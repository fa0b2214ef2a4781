"""Standard Webhooks signatures (symmetric v1): `whsec_` secrets, signing and verification.

The scheme, from the Standard Webhooks specification 1.0: the key is the base64-decoded part of
`whsec_<base64>` (24 to 64 random bytes); the signature is base64(HMAC-SHA256(key,
"{webhook-id}.{webhook-timestamp}.{body}")), sent as "v1,<signature>" in `webhook-signature`,
a space-separated list so that a rotated secret can be sent alongside the new one.
Written by hand: the whole scheme is a few lines of the standard library (hmac, base64), and
the tests pin it to the specification's published test vector.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Mapping

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
MIN_KEY_BYTES, MAX_KEY_BYTES = 24, 64
# The id and timestamp are joined with "."; an id containing "." could forge another split.
_MSG_ID = re.compile(r"[A-Za-z0-9_\-:]{1,256}")


def new_webhook_secret() -> str:
    """A fresh signing secret for one subscription: "whsec_" + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def secret_key(secret: str) -> bytes:
    """The HMAC key inside a `whsec_…` secret (the prefix is optional); ValueError if malformed."""
    text = secret.strip().removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("webhook secret is not whsec_ followed by base64") from None
    if not MIN_KEY_BYTES <= len(key) <= MAX_KEY_BYTES:
        raise ValueError(
            f"webhook secret holds {len(key)} bytes; Standard Webhooks needs "
            f"{MIN_KEY_BYTES} to {MAX_KEY_BYTES}"
        )
    return key


def sign_webhook(*, secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value ("v1,<base64>") of one delivery attempt."""
    if not _MSG_ID.fullmatch(msg_id):
        raise ValueError(f"webhook id {msg_id!r} must be 1-256 of [A-Za-z0-9_-:] (no '.')")
    signed = f"{msg_id}.{int(timestamp)}.".encode("ascii") + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def verify_webhook(
    *,
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    tolerance: int = 300,
    now: float | None = None,
) -> bool:
    """True if one `v1` signature in `headers` matches and the timestamp is within `tolerance`.

    For receivers and tests. Header names are matched case-insensitively; a missing header, a
    malformed secret or timestamp, or a stale/future timestamp all give False.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    msg_id = lowered.get("webhook-id", "")
    stamp = lowered.get("webhook-timestamp", "").strip()
    signatures = lowered.get("webhook-signature", "")
    if not (msg_id and stamp.isdigit() and signatures):
        return False
    current = time.time() if now is None else now
    if abs(current - int(stamp)) > tolerance:
        return False
    try:
        expected = sign_webhook(secret=secret, msg_id=msg_id, timestamp=int(stamp), body=body)
    except ValueError:
        return False
    expected_mac = expected.partition(",")[2].encode("ascii")
    found = False
    for entry in signatures.split():
        version, _, mac = entry.partition(",")
        # Compare every entry (no early exit), each in constant time.
        if version == "v1" and hmac.compare_digest(mac.encode("ascii", "replace"), expected_mac):
            found = True
    return found
