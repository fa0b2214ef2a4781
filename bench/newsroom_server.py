"""A local newsroom for benchmarks: thousands of small RSS feeds and their pages on 127.0.0.1.

Usage: .venv/bin/python bench/newsroom_server.py --port 8765   (or --fd N, a listening socket)

Routes, all generated on the fly (nothing is stored):
  /feed/<n>.xml       RSS 2.0, `items` entries whose links point at /article/<n>/<i>.html
  /gone/<n>.xml       the same entries linking to /gone/<n>/<i>.html, which answers 410 Gone:
                      no page is cleaned, articles are made from the feed's own text
  /nolink/<n>.xml     the same entries without any link
  /article/<n>/<i>.html  a news page with the usual chrome around four paragraphs
  /robots.txt         everything allowed
  /stats              JSON counters of this process (feeds 200 and 304, pages, other)
Every feed carries an ETag; a request whose If-None-Match names it gets 304 and no body.

A bare ASGI app under uvicorn (uvloop + httptools), in its own process, so that the server never
competes with the client for one interpreter lock.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from functools import lru_cache

FEED_PATH = re.compile(r"^/(feed|gone|nolink)/(\d+)\.xml$")
GONE_PATH = re.compile(r"^/gone/\d+/\d+\.html$")
PAGE_PATH = re.compile(r"^/article/(\d+)/(\d+)\.html$")
BASE = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


@lru_cache(maxsize=1)
def vocabulary() -> list[str]:
    """Common English words: every story gets its own text, so no two are near-duplicates."""
    from wordfreq import top_n_list

    return [w for w in top_n_list("en", 3000) if w.isalpha() and len(w) > 2]


def sentences(seed: str, count: int, words: int = 15) -> list[str]:
    rng = random.Random(seed)
    vocab = vocabulary()
    return [" ".join(rng.choices(vocab, k=words)).capitalize() + "." for _ in range(count)]


def title_for(n: int, i: int) -> str:
    return " ".join(random.Random(f"title-{n}-{i}").choices(vocabulary(), k=7)).capitalize()


stats: Counter[str] = Counter()


def etag_for(n: int) -> str:
    return f'"feed-{n}-v1"'


@lru_cache(maxsize=4096)
def feed_body(kind: str, n: int, items: int, origin: str) -> bytes:
    """RSS for feed `n`: entries half an hour apart, each with a stable guid."""
    parts = []
    for i in range(items):
        when = format_datetime(BASE - timedelta(minutes=30 * i + n % 30))
        page = {"feed": f"/article/{n}/{i}.html", "gone": f"/gone/{n}/{i}.html"}.get(kind)
        link = f"<link>{origin}{page}</link>" if page else ""
        parts.append(
            f"<item><title>{title_for(n, i)}</title>{link}"
            f'<guid isPermaLink="false">story-{n}-{i}</guid>'
            f"<description>{' '.join(sentences(f'summary-{n}-{i}', 4))}</description>"
            f"<pubDate>{when}</pubDate></item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>Local outlet {n}</title><link>{origin}/</link><description>News</description>"
        + "".join(parts)
        + "</channel></rss>"
    ).encode()


def page_body(n: int, i: int) -> bytes:
    title = title_for(n, i)
    body = "".join(f"<p>{' '.join(sentences(f'page-{n}-{i}-{k}', 3))}</p>" for k in range(4))
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>{title} | Local outlet {n}</title>
<meta property="og:title" content="{title}">
<meta property="og:site_name" content="Local outlet {n}">
</head><body>
<header><nav><a href="/">Home</a> <a href="/world">World</a> <a href="/sport">Sport</a></nav>
</header>
<main><article><h1>{title}</h1><div class="entry-content">{body}</div></article>
<aside><h3>Most read</h3><ul><li><a href="/a">Other story one</a></li></ul></aside>
</main><footer><p>Copyright Local outlet {n}. All rights reserved.</p></footer>
</body></html>""".encode()


def make_app(*, items: int = 3):  # noqa: ANN201
    """The ASGI application; `items` entries per feed (a feed URL's `?items=K` overrides it)."""
    vocabulary()

    async def app(scope, receive, send) -> None:  # noqa: ANN001
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        path = scope["path"]
        status, headers, body = 404, [(b"content-type", b"text/plain")], b"not found"
        if match := FEED_PATH.match(path):
            kind, n = match.group(1), int(match.group(2))
            etag = etag_for(n)
            sent = dict(scope["headers"]).get(b"if-none-match", b"").decode("latin-1")
            headers = [(b"etag", etag.encode())]
            if etag in sent:
                status, body = 304, b""
                stats["feed_304"] += 1
            else:
                host = dict(scope["headers"]).get(b"host", b"127.0.0.1").decode("latin-1")
                query = scope.get("query_string", b"").decode("latin-1")
                count = int(query[6:]) if query.startswith("items=") else items
                status, body = 200, feed_body(kind, n, count, f"http://{host}")
                headers.append((b"content-type", b"application/rss+xml; charset=utf-8"))
                stats["feed_200"] += 1
        elif match := PAGE_PATH.match(path):
            status, body = 200, page_body(int(match.group(1)), int(match.group(2)))
            headers = [(b"content-type", b"text/html; charset=utf-8")]
            stats["page_200"] += 1
        elif GONE_PATH.match(path):
            status, body = 410, b"gone"
            stats["page_410"] += 1
        elif path == "/robots.txt":
            status, body = 200, b"User-agent: *\nAllow: /\n"
            stats["robots"] += 1
        elif path == "/stats":
            status, body = 200, json.dumps(stats).encode()
            headers = [(b"content-type", b"application/json")]
        else:
            stats["other"] += 1
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--port", type=int)
    where.add_argument("--fd", type=int, help="an already bound, listening socket")
    parser.add_argument("--items", type=int, default=3, help="entries per feed")
    args = parser.parse_args()
    uvicorn.run(
        make_app(items=args.items),
        host="127.0.0.1",
        port=args.port or 0,
        fd=args.fd,
        loop="uvloop",
        http="httptools",
        lifespan="off",
        log_level="warning",
        access_log=False,
        backlog=4096,
        timeout_keep_alive=30,
    )


if __name__ == "__main__":
    main()
