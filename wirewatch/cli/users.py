"""`wirewatch users add|list` and `wirewatch keys create`: who may use the API, and their keys."""

from __future__ import annotations

import json

import typer

from storage import users as user_store
from storage.db import session_scope
from storage.migrate import check_migrated
from wirewatch.cli import fail, settings_or_exit

users_app = typer.Typer(help="People who use the API and web UI.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys (shown once, stored hashed).", no_args_is_help=True)


def _ready():  # noqa: ANN202
    settings = settings_or_exit()
    check_migrated(settings.database_url)
    return settings


@users_app.command("add")
def add(
    name: str = typer.Argument(..., help="User name (1 to 128 characters)."),
    admin: bool = typer.Option(False, "--admin", help="May manage feeds and users."),
) -> None:
    """Add a user; then give them a key with `wirewatch keys create NAME`."""
    settings = _ready()
    try:
        with session_scope(settings.database_url) as session:
            user = user_store.create_user(session=session, name=name, is_admin=admin)
            typer.echo(f"added {'admin ' if admin else ''}user {user.id}: {user.name}")
    except ValueError as exc:
        raise fail(str(exc)) from None


@users_app.command("list")
def list_(as_json: bool = typer.Option(False, "--json", help="JSON for scripts.")) -> None:
    """Every user."""
    settings = _ready()
    with session_scope(settings.database_url) as session:
        users = user_store.list_users(session=session)
    rows = [{"id": u.id, "name": u.name, "admin": u.is_admin,
             "created_at": u.created_at.isoformat()} for u in users]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        typer.echo(f"{r['id']:>5}  {r['name']}{'  (admin)' if r['admin'] else ''}")


@keys_app.command("create")
def create(user: str = typer.Argument(..., help="User name.")) -> None:
    """A new API key for the user, printed once (last word of the output)."""
    settings = _ready()
    with session_scope(settings.database_url) as session:
        found = user_store.get_user_by_name(session=session, name=user)
        if found is None:
            raise fail(f"no user named {user!r}; add one with `wirewatch users add {user}`")
        key = user_store.create_key(session=session, user_id=found.id)
    typer.echo(f"API key for {user} (shown once, keep it safe): {key}")


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
    app.add_typer(keys_app, name="keys")
