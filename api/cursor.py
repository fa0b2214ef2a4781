"""Opaque page cursors: base64url JSON naming what they page; anything else is a 400."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

from api.errors import ApiError


def encode(kind: str, **values: object) -> str:
    raw = json.dumps({"k": kind, **values}, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str | None, kind: str) -> dict | None:
    """The cursor's values, None without a cursor; ApiError(400) when it is not one of ours."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        values = None
    if not isinstance(values, dict) or values.get("k") != kind:
        raise ApiError(400, "invalid cursor: pass the `next_cursor` of a previous page unchanged")
    return values


def integer(values: dict, name: str, *, minimum: int = 0, maximum: int = 2**62) -> int:
    value = values.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= maximum:
        raise ApiError(400, "invalid cursor: pass the `next_cursor` of a previous page unchanged")
    return value


def timestamp(values: dict, name: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(values.get(name)))
    except ValueError:
        raise ApiError(
            400, "invalid cursor: pass the `next_cursor` of a previous page unchanged"
        ) from None
    if parsed.tzinfo is None:
        raise ApiError(400, "invalid cursor: pass the `next_cursor` of a previous page unchanged")
    return parsed
