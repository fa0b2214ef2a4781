"""WebSub callbacks: hubs verify our subscriptions here and push new content here (no API key:
the hub proves itself with the challenge and the HMAC signature of each push)."""

from __future__ import annotations

from fastapi import APIRouter, Path, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from worker import websub

router = APIRouter(tags=["websub"])
FeedId = Path(ge=1, le=2**31 - 1)
MAX_PUSH_BYTES = 15 * 1024 * 1024


@router.get("/websub/{feed_id}", response_class=PlainTextResponse)
def verify(request: Request, feed_id: int = FeedId) -> Response:
    """The hub checks that we asked for this subscription: we echo its challenge."""
    params = dict(request.query_params)
    challenge = websub.verify_intent(feed_id, params, settings=request.app.state.settings)
    if challenge is None:
        return PlainTextResponse("no such subscription", status_code=404)
    return PlainTextResponse(challenge)


@router.post("/websub/{feed_id}", status_code=202)
async def push(request: Request, feed_id: int = FeedId) -> Response:
    """New content from the hub. Always acknowledged (as the spec asks); stored only when the
    signature proves it comes from the hub we subscribed to."""
    body = bytearray()
    async for chunk in request.stream():  # read up to the cap, never the whole of a huge body
        body += chunk
        if len(body) > MAX_PUSH_BYTES:
            return PlainTextResponse("too large", status_code=413)
    state = request.app.state
    # parsing the feed and storing its entries blocks: off the event loop, in the thread pool
    new_ids = await run_in_threadpool(
        websub.receive, feed_id, bytes(body), signature=request.headers.get("x-hub-signature"),
        content_type=request.headers.get("content-type"), settings=state.settings,
    )
    dispatcher = getattr(state, "dispatcher", None)
    if dispatcher is not None and new_ids:
        dispatcher.process_articles(new_ids)
    return PlainTextResponse("ok", status_code=202)
