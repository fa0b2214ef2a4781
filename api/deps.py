"""Per-request dependencies: a database session, the caller (by API key or UI cookie), paging."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlmodel import Session

from api.errors import ApiError
from storage.db import session_scope
from storage.models import User
from storage.users import authenticate, key_use_is_stale, record_key_use

COOKIE = "wirewatch_key"
DEFAULT_LIMIT, MAX_LIMIT = 20, 100


def _session(request: Request) -> Iterator[Session]:
    readonly = request.method in ("GET", "HEAD")
    with session_scope(request.app.state.settings.database_url, readonly=readonly) as session:
        yield session


# "function" scope: the transaction commits before the response is sent.
DB = Annotated[Session, Depends(_session, scope="function")]


def _key_from(request: Request, *, cookie: bool) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if cookie:
        return request.cookies.get(COOKIE)
    return None


def authenticate_request(request: Request, session: Session, *, cookie: bool) -> User | None:
    """The user behind the request's key, rate-limited per key; None without a valid key."""
    limiter = request.app.state.limiter
    key = _key_from(request, cookie=cookie)
    client = request.client.host if request.client else "unknown"
    if not key:
        return None
    user = authenticate(session=session, key=key)
    if user is not None and key_use_is_stale(session=session, key=key):
        if request.method in ("GET", "HEAD"):  # a read-only session: write apart, briefly
            with session_scope(request.app.state.settings.database_url) as writer:
                record_key_use(session=writer, key=key)
        else:
            record_key_use(session=session, key=key)
    wait = limiter.take(f"key:{key[:12]}" if user else f"bad:{client}")
    if wait is not None:
        raise ApiError(
            429,
            f"too many requests with this key; retry in {limiter.retry_after(wait)} s",
            headers={"Retry-After": limiter.retry_after(wait)},
        )
    return user


def _current_user(request: Request, session: DB) -> User:
    user = authenticate_request(request, session, cookie=False)
    if user is None:
        has_key = _key_from(request, cookie=False) is not None
        raise ApiError(
            401,
            "unknown or revoked API key"
            if has_key
            else "send an API key as `Authorization: Bearer KEY` "
            "(an admin creates one with `wirewatch keys create USER`)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


CurrentUser = Annotated[User, Depends(_current_user)]


def _admin(user: CurrentUser) -> User:
    if not user.is_admin:
        raise ApiError(403, "this needs an admin key (`wirewatch users add NAME --admin`)")
    return user


AdminUser = Annotated[User, Depends(_admin)]


def clamp_limit(limit: int) -> int:
    """Page sizes are clamped to MAX_LIMIT rather than refused."""
    return min(limit, MAX_LIMIT)


Limit = Annotated[
    int,
    Query(
        ge=1,
        description=f"Page size (default {DEFAULT_LIMIT}; larger values are clamped to "
        f"{MAX_LIMIT}).",
    ),
]
