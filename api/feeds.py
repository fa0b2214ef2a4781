"""`/api/feeds`: list with health, add, change, remove, OPML import and export (admins write)."""

from __future__ import annotations

from fastapi import APIRouter, Response, UploadFile

from api.deps import DB, AdminUser, CurrentUser
from api.errors import ApiError, not_found
from api.present import feed_item
from api.schemas import FeedIn, FeedPatch
from storage import feeds as feed_store
from storage.models import Feed
from wirewatch.opml import MAX_OPML_BYTES, OPMLError, Outline, parse_opml, write_opml
from wirewatch.urls import InvalidFeedURL, normalise_feed_url

router = APIRouter(prefix="/api/feeds", tags=["feeds"])


def _feed(session, feed_id: int) -> Feed:  # noqa: ANN001
    feed = feed_store.get_feed(session=session, feed_id=feed_id) if 0 < feed_id < 2**31 else None
    if feed is None:
        raise not_found("feed", feed_id)
    return feed


@router.get("")
def list_feeds(session: DB, user: CurrentUser) -> list[dict]:
    """Every feed with its health (ok, new, failing, disabled), polling state and last error."""
    return [feed_item(r.feed, r.entries) for r in feed_store.list_feeds(session=session)]


@router.post("", status_code=201)
def add_feed(body: FeedIn, session: DB, user: AdminUser) -> dict:
    """Subscribe to a feed (RSS, Atom or JSON Feed); it is polled on the next pass."""
    try:
        url = normalise_feed_url(body.url)
    except InvalidFeedURL as exc:
        raise ApiError(422, f"url: {exc}") from None
    try:
        feed = feed_store.add_feed(session=session, url=url, title=body.title)
    except feed_store.DuplicateFeedError as exc:
        raise ApiError(409, str(exc)) from None
    if body.interval_override is not None:
        feed.interval_override = body.interval_override
        session.add(feed)
    return feed_item(feed, 0)


@router.get("/export", response_class=Response,
            responses={200: {"content": {"text/x-opml": {}}}})
def export_feeds(session: DB, user: CurrentUser) -> Response:
    """Every feed as an OPML subscription list."""
    outlines = [Outline(url=r.feed.url, title=r.feed.title)
                for r in feed_store.list_feeds(session=session)]
    return Response(
        write_opml(outlines),
        media_type="text/x-opml",
        headers={"Content-Disposition": 'attachment; filename="wirewatch.opml"'},
    )


@router.post("/import")
async def import_feeds(file: UploadFile, session: DB, user: AdminUser) -> dict:
    """Subscribe to every feed of an uploaded OPML file (multipart field `file`)."""
    data = await file.read(MAX_OPML_BYTES + 1)
    try:
        parsed = parse_opml(data)
    except OPMLError as exc:
        raise ApiError(422, f"file: {exc}") from None
    known = feed_store.existing_urls(session=session)
    fresh = [o for o in parsed.feeds if o.url not in known]
    added = 0
    for start in range(0, len(fresh), 500):
        chunk = fresh[start : start + 500]
        added += feed_store.add_feeds(session=session, feeds=[(o.url, o.title) for o in chunk])
    return {"added": added, "already_subscribed": len(parsed.feeds) - added,
            "skipped": parsed.skipped}


@router.get("/{feed_id}")
def get_feed(feed_id: int, session: DB, user: CurrentUser) -> dict:
    """One feed with its polling state and last error."""
    feed = _feed(session, feed_id)
    entries = next((r.entries for r in feed_store.list_feeds(session=session)
                    if r.feed.id == feed_id), 0)
    return feed_item(feed, entries)


@router.patch("/{feed_id}")
def change_feed(feed_id: int, body: FeedPatch, session: DB, user: AdminUser) -> dict:
    """Rename a feed, fix its polling interval, or disable / enable it."""
    feed = _feed(session, feed_id)
    fields = body.model_fields_set
    if "title" in fields:
        feed.title = body.title or None
    if "interval_override" in fields:
        feed.interval_override = body.interval_override
    session.add(feed)
    if "disabled" in fields and body.disabled is not None:
        feed = feed_store.set_feed_enabled(session=session, feed_id=feed_id,
                                           enabled=not body.disabled)
    return feed_item(feed)


@router.delete("/{feed_id}", status_code=204)
def remove_feed(feed_id: int, session: DB, user: AdminUser) -> Response:
    """Unsubscribe and delete the feed's stored entries."""
    _feed(session, feed_id)
    feed_store.remove_feed(session=session, feed_id=feed_id)
    return Response(status_code=204)
