"""Users and API keys: keys are shown once, stored as sha256, found by a short prefix."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from storage.models import ApiKey, User, utcnow

KEY_PREFIX = "ww_"


class DuplicateUserError(ValueError):
    """A user with that name exists."""


def create_user(*, session: Session, name: str, is_admin: bool = False) -> User:
    name = name.strip()
    if not name or len(name) > 128:
        raise ValueError("a user name has 1 to 128 characters")
    user = User(name=name, is_admin=is_admin)
    session.add(user)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise DuplicateUserError(f"user {name!r} already exists") from None
    return user


def get_user_by_name(*, session: Session, name: str) -> User | None:
    return session.execute(select(User).where(User.name == name)).scalars().first()


def get_or_create_user(*, session: Session, name: str, is_admin: bool = False) -> User:
    return get_user_by_name(session=session, name=name) or create_user(
        session=session, name=name, is_admin=is_admin
    )


def list_users(*, session: Session) -> list[User]:
    return list(session.execute(select(User).order_by(User.id)).scalars())


def create_key(*, session: Session, user_id: int) -> str:
    """A new key for the user; the plain key is returned once and never stored."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiKey(user_id=user_id, prefix=key[:12], key_hash=_hash(key)))
    session.flush()
    return key


def authenticate(*, session: Session, key: str) -> User | None:
    """The user owning this key, or None (unknown, revoked or malformed key). Reads only."""
    found = _find_key(session, key)
    return found[1] if found else None


def record_key_use(
    *, session: Session, key: str, now: datetime | None = None, every: int = 300
) -> None:
    """Note when a key was last used, at most once per `every` seconds (no write per request)."""
    found = _find_key(session, key)
    if found is None:
        return
    now = now or utcnow()
    session.execute(
        update(ApiKey)
        .where(
            ApiKey.id == found[0].id,
            (ApiKey.last_used_at.is_(None))
            | (ApiKey.last_used_at < now - timedelta(seconds=every)),
        )
        .values(last_used_at=now)
    )


def key_use_is_stale(*, session: Session, key: str, every: int = 300) -> bool:
    found = _find_key(session, key)
    if found is None:
        return False
    last = found[0].last_used_at
    return last is None or last < utcnow() - timedelta(seconds=every)


def _find_key(session: Session, key: str) -> tuple[ApiKey, User] | None:
    if not key or not key.startswith(KEY_PREFIX) or len(key) > 128:
        return None
    digest = _hash(key)
    rows = session.execute(
        select(ApiKey, User)
        .join(User, User.id == ApiKey.user_id)
        .where(ApiKey.prefix == key[:12], ApiKey.revoked.is_(False))
    ).all()
    for api_key, user in rows:
        if hmac.compare_digest(api_key.key_hash, digest):
            return api_key, user
    return None


def revoke_keys(*, session: Session, user_id: int) -> int:
    keys = session.execute(select(ApiKey).where(ApiKey.user_id == user_id)).scalars().all()
    for k in keys:
        k.revoked = True
        session.add(k)
    return len(keys)


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()
