"""`/api/me` for everyone; `/api/users` (list, add, new key) for admins."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import DB, AdminUser, CurrentUser
from api.errors import ApiError, not_found
from api.present import iso
from api.schemas import UserIn
from storage import users as user_store
from storage.models import User

router = APIRouter(prefix="/api", tags=["users"])


def _user(u: User) -> dict:
    return {"id": u.id, "name": u.name, "admin": u.is_admin, "created_at": iso(u.created_at)}


@router.get("/me")
def me(user: CurrentUser) -> dict:
    """Who this key belongs to."""
    return _user(user)


@router.get("/users")
def list_users(session: DB, user: AdminUser) -> list[dict]:
    return [_user(u) for u in user_store.list_users(session=session)]


@router.post("/users", status_code=201)
def add_user(body: UserIn, session: DB, user: AdminUser) -> dict:
    try:
        created = user_store.create_user(session=session, name=body.name, is_admin=body.admin)
    except user_store.DuplicateUserError as exc:
        raise ApiError(409, str(exc)) from None
    except ValueError as exc:
        raise ApiError(422, f"name: {exc}") from None
    return _user(created)


@router.post("/users/{user_id}/keys", status_code=201)
def create_key(user_id: int, session: DB, user: AdminUser) -> dict:
    """A new API key for the user: shown in this response only."""
    target = session.get(User, user_id) if 0 < user_id < 2**31 else None
    if target is None:
        raise not_found("user", user_id)
    return {"user_id": user_id, "key": user_store.create_key(session=session, user_id=user_id)}
