"""Small generated feeds and article pages for end-to-end tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape

BASE = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def rss(items: list[dict], *, title: str = "Test outlet", link: str = "http://outlet.test/") -> str:
    """RSS 2.0; each item: title, link, guid (optional), description, minutes (age offset)."""
    parts = []
    for i, item in enumerate(items):
        when = BASE - timedelta(minutes=item.get("minutes", i * 30))
        guid = (
            f'<guid isPermaLink="false">{escape(item["guid"])}</guid>' if item.get("guid") else ""
        )
        parts.append(
            f"<item><title>{escape(item['title'])}</title><link>{escape(item['link'])}</link>{guid}"
            f"<description>{escape(item.get('description', ''))}</description>"
            f"<pubDate>{format_datetime(when)}</pubDate></item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>{escape(link)}</link><description>d</description>"
        + "".join(parts)
        + "</channel></rss>"
    )


def article_page(title: str, paragraphs: list[str], *, site: str = "Test outlet") -> str:
    """A news page with the usual chrome around the article body."""
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>{escape(title)} | {escape(site)}</title>
<meta property="og:title" content="{escape(title)}"><meta property="og:site_name" content="{escape(site)}">
</head><body>
<header><nav><a href="/">Home</a> <a href="/world">World</a> <a href="/sport">Sport</a></nav></header>
<main><article><h1>{escape(title)}</h1><div class="entry-content">{body}</div></article>
<aside><h3>Most read</h3><ul><li><a href="/a">Other story one</a></li><li><a href="/b">Other story two</a></li></ul></aside>
</main><footer><p>Copyright {escape(site)}. All rights reserved.</p><a href="/privacy">Privacy</a></footer>
</body></html>"""


PARAGRAPHS = [
    "The central bank raised its main interest rate by a quarter of a percentage point on Thursday, "
    "citing persistent inflation in services and a labour market that remains tight.",
    "Officials said further increases could not be ruled out if price pressures failed to ease over "
    "the coming months, although several members of the committee argued for a pause.",
    "Markets had largely expected the move, and the currency was little changed after the "
    "announcement, while government bond yields edged higher across the curve.",
    "Business groups warned that higher borrowing costs would weigh on investment, particularly for "
    "small firms that rely on bank lending rather than capital markets.",
]
