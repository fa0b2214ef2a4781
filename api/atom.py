"""`/topics/{id}/feed.atom?token=…`: a topic's stories as an Atom feed, for any feed reader.

A private topic needs its token (anything else is a 404, so ids cannot be probed); a public one
is readable without it. Built with the standard library's ElementTree (text is escaped).
"""

from __future__ import annotations

import hmac
from typing import Annotated
from xml.etree.ElementTree import Element, SubElement, tostring

from fastapi import APIRouter, Query, Request, Response

from api.deps import DB
from api.errors import not_found
from api.present import snippet
from storage import stories as story_store
from storage import topics as topic_store
from storage.models import utcnow
from storage.search import Filters, search_stories

router = APIRouter(tags=["topics and alerts"])
ATOM = "http://www.w3.org/2005/Atom"
ENTRIES = 50


@router.get("/topics/{topic_id}/feed.atom", response_class=Response,
            responses={200: {"content": {"application/atom+xml": {}}}})
def topic_feed(topic_id: int, request: Request, session: DB,
               token: Annotated[str | None, Query(max_length=128)] = None) -> Response:
    """The topic's newest stories as Atom entries."""
    topic = (
        topic_store.get_topic(session=session, topic_id=topic_id) if 0 < topic_id < 2**31 else None
    )
    if topic is None or (
        topic.private and not hmac.compare_digest((token or "").encode(), topic.feed_token.encode())
    ):
        raise not_found("topic", topic_id)
    base = str(request.base_url).rstrip("/")
    stories = search_stories(session=session, filters=Filters(topic_id=topic.id), limit=ENTRIES)
    members = story_store.members_of(session=session, story_ids=[s.id for s in stories])
    feed = Element("feed", xmlns=ATOM)
    SubElement(feed, "title").text = f"Wirewatch: {topic.name}"
    SubElement(feed, "id").text = f"{base}/topics/{topic.id}"
    SubElement(feed, "updated").text = (
        max((s.updated_at for s in stories), default=topic.updated_at or utcnow()).isoformat()
    )
    SubElement(feed, "generator").text = "Wirewatch"
    SubElement(feed, "link", rel="alternate", href=f"{base}/topics")
    for story in stories:
        entry = SubElement(feed, "entry")
        copies = members.get(story.id, [])
        rep = next((m for m in copies if m.article.id == story.representative_article_id),
                   copies[0] if copies else None)
        SubElement(entry, "title").text = story.title or "(untitled)"
        SubElement(entry, "id").text = f"{base}/stories/{story.id}"
        SubElement(entry, "updated").text = story.updated_at.isoformat()
        SubElement(entry, "published").text = story.first_seen_at.isoformat()
        SubElement(entry, "link", rel="alternate", href=f"{base}/stories/{story.id}")
        if rep is not None and (rep.article.canonical_url or rep.article.url):
            SubElement(entry, "link", rel="related",
                       href=rep.article.canonical_url or rep.article.url)
        outlets = sorted({m.feed_title or m.feed_url for m in copies})
        summary = snippet(rep.article.text) if rep else ""
        SubElement(entry, "summary").text = (
            f"{len(copies)} copies ({', '.join(outlets)[:300]}). {summary}"
        )
    body = b'<?xml version="1.0" encoding="utf-8"?>\n' + tostring(feed, encoding="utf-8")
    return Response(body, media_type="application/atom+xml; charset=utf-8")
