"""The web UI: server-rendered pages (Jinja2, autoescaped) over the same storage functions as
the API. Log-in stores the key in an HttpOnly, SameSite=Strict cookie; no JavaScript."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from sqlmodel import Session

from api import cursor
from api.articles import get_article, load_story, parse_text
from api.deps import COOKIE, DB, authenticate_request
from api.errors import ApiError
from api.present import feed_item, story_item, subscription_item
from storage import deliveries as delivery_store
from storage import feeds as feed_store
from storage import stories as story_store
from storage import subscriptions as subscription_store
from storage import topics as topic_store
from storage.models import Story, User
from storage.search import Filters, search_stories

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).with_name("templates"))
PAGE = 25


def _page(request: Request, name: str, user: User | None, status: int = 200, **context) -> Response:
    return templates.TemplateResponse(
        request, name, {"user": user, "path": request.url.path, **context}, status_code=status
    )


def _user(request: Request, session: Session) -> User | None:
    return authenticate_request(request, session, cookie=True)


def _login_redirect() -> RedirectResponse:
    return RedirectResponse("/login", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    return _page(request, "login.html", None)


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request, session: DB, key: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    from storage.users import authenticate

    user = authenticate(session=session, key=key.strip())
    if user is None:
        return _page(request, "login.html", None, status=401,
                     error="That key is unknown or revoked.")
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(COOKIE, key.strip(), httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", max_age=30 * 86400)
    return response


@router.post("/logout")
def logout() -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


@router.get("/", response_class=HTMLResponse)
def stream(
    request: Request,
    session: DB,
    q: Annotated[str | None, Query(max_length=2000)] = None,
    topic: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    cursor_: Annotated[str | None, Query(alias="cursor", max_length=500)] = None,
) -> Response:
    user = _user(request, session)
    if user is None:
        return _login_redirect()
    topics = topic_store.list_topics(session=session, owner_id=user.id)
    error = None
    stories, next_cursor = [], None
    try:
        if topic is not None and topic not in {t.id for t in topics}:
            raise ApiError(404, f"no topic with id {topic}")
        page = cursor.decode(cursor_, "s")
        before = None
        if page:
            before = (cursor.timestamp(page, "t"), cursor.integer(page, "i", maximum=2**31 - 1))
        rows = search_stories(session=session, text=parse_text(q), limit=PAGE + 1, before=before,
                              filters=Filters(topic_id=topic))
        members = story_store.members_of(
            session=session, story_ids=[r.id for r in rows[:PAGE]], with_text=False
        )
        stories = [story_item(r, members[r.id]) for r in rows[:PAGE]]
        if len(rows) > PAGE:
            next_cursor = cursor.encode("s", t=rows[PAGE - 1].first_seen_at.isoformat(),
                                        i=rows[PAGE - 1].id)
    except ApiError as exc:
        error = exc.detail
    return _page(request, "stream.html", user, q=q or "", topic=topic, topics=topics,
                 stories=stories, next_cursor=next_cursor, error=error)


@router.get("/stories/{story_id}", response_class=HTMLResponse)
def story_page(story_id: int, request: Request, session: DB) -> Response:
    user = _user(request, session)
    if user is None:
        return _login_redirect()
    try:
        story = load_story(session, user, story_id)
    except ApiError as exc:
        return _page(request, "error.html", user, status=exc.status_code, error=exc.detail)
    return _page(request, "story.html", user, story=story)


@router.get("/articles/{article_id}", response_class=HTMLResponse)
def article_page(article_id: int, request: Request, session: DB) -> Response:
    user = _user(request, session)
    if user is None:
        return _login_redirect()
    try:
        article = get_article(article_id, session, user)
    except ApiError as exc:
        return _page(request, "error.html", user, status=exc.status_code, error=exc.detail)
    return _page(request, "article.html", user, article=article)


@router.get("/feeds", response_class=HTMLResponse)
def feeds_page(request: Request, session: DB) -> Response:
    user = _user(request, session)
    if user is None:
        return _login_redirect()
    feeds = [feed_item(r.feed, r.entries) for r in feed_store.list_feeds(session=session)]
    counts: dict[str, int] = {}
    for f in feeds:
        counts[f["health"]] = counts.get(f["health"], 0) + 1
    return _page(request, "feeds.html", user, feeds=feeds, counts=counts)


@router.get("/topics", response_class=HTMLResponse)
def topics_page(
    request: Request,
    session: DB,
    test: Annotated[str | None, Query(max_length=10_000)] = None,
) -> Response:
    from api.schemas import TopicTest
    from api.topics import test_topic

    user = _user(request, session)
    if user is None:
        return _login_redirect()
    topics = topic_store.list_topics(session=session, owner_id=user.id)
    result, error = None, None
    if test and test.strip():
        try:
            result = test_topic(TopicTest(query=test, limit=500), session, user)
        except ApiError as exc:
            error = exc.detail
            error_hint = getattr(exc, "extra", {}).get("hint")
            if error_hint and error_hint not in error:
                error = f"{error} — {error_hint}"
    base = str(request.base_url).rstrip("/")
    return _page(request, "topics.html", user, topics=topics, test=test or "", result=result,
                 error=error, base=base)


@router.get("/subscriptions", response_class=HTMLResponse)
def subscriptions_page(request: Request, session: DB) -> Response:
    user = _user(request, session)
    if user is None:
        return _login_redirect()
    topics = {t.id: t.name for t in topic_store.list_topics(session=session, owner_id=user.id)}
    subs = [subscription_item(s) for s in
            subscription_store.list_subscriptions(session=session, owner_id=user.id)]
    log = delivery_store.list_deliveries(session=session, owner_id=user.id, limit=100)
    ids = sorted({d.story_id for d in log})
    titles = dict(session.execute(select(Story.id, Story.title).where(Story.id.in_(ids))).all())
    return _page(request, "subscriptions.html", user, subs=subs, topics=topics, log=log,
                 titles=titles)
