"""The demo outlets' pages and feeds: each outlet its own template and chrome around the text.

Pages carry what the cleaner must throw away on real sites: navigation, "Advertisement" slots
between paragraphs, "Connect with us" boxes, newsletter sign-ups, related links, "Click to
comment" and "Leave a Reply" forms. The same item always renders to the same bytes.
"""

from __future__ import annotations

from datetime import datetime
from email.utils import format_datetime
from html import escape

from wirewatch.demo.plan import Item, Outlet

TEMPLATES = ("newspaper", "wordpress", "blog", "magazine", "amp")
SECTIONS = ("World", "Business", "Politics", "Science", "Sport", "Opinion")
RELATED = (
    "Ferry timetable changes for the winter months",
    "Letters: readers on the new library opening hours",
    "Five walks to try before the clocks go back",
    "Market traders say footfall is returning",
)


def _nav(outlet: Outlet) -> str:
    links = "".join(f'<li><a href="/{outlet.slug}/{s.lower()}/">{s}</a></li>' for s in SECTIONS)
    return (
        f'<header class="site-header"><a class="logo" href="/{outlet.slug}/">'
        f'{escape(outlet.name)}</a><nav class="main-nav"><ul>{links}</ul></nav>'
        '<form class="search" action="/search"><input name="q" placeholder="Search"></form>'
        "</header>"
    )


def _ad(n: int) -> str:
    return (
        f'<div class="ad-slot" id="ad-{n}"><span class="ad-label">Advertisement</span>'
        '<div class="ad-frame"></div></div>'
    )


def _connect() -> str:
    return (
        '<div class="social-box"><h4>Connect with us</h4><a href="#">Facebook</a> '
        '<a href="#">X</a> <a href="#">Instagram</a> <a href="#">WhatsApp channel</a></div>'
    )


def _newsletter(outlet: Outlet) -> str:
    return (
        '<section class="newsletter"><h3>Sign up for our newsletter</h3>'
        f"<p>The best of {escape(outlet.name)} in your inbox every morning.</p>"
        '<form><input type="email" placeholder="Your email"><button>Subscribe</button>'
        "</form></section>"
    )


def _related(outlet: Outlet) -> str:
    links = "".join(
        f'<li><a href="/{outlet.slug}/more/{n}.html">{escape(t)}</a></li>'
        for n, t in enumerate(RELATED)
    )
    return f'<section class="related"><h3>Related stories</h3><ul>{links}</ul></section>'


def _comments(label: str) -> str:
    return (
        f'<div id="respond" class="comment-respond"><h3>{escape(label)}</h3>'
        '<form class="comment-form"><textarea name="comment"></textarea>'
        '<input type="submit" value="Post Comment"></form></div>'
    )


def _body(item: Item, *, p_class: str = "") -> str:
    """Paragraphs with an ad after the first and a social box after the third."""
    attr = f' class="{p_class}"' if p_class else ""
    out = []
    for n, paragraph in enumerate(item.paragraphs):
        out.append(f"<p{attr}>{escape(paragraph)}</p>")
        if n == 0:
            out.append(_ad(n))
        elif n == 2:
            out.append(_connect())
    return "\n".join(out)


def _footer(outlet: Outlet) -> str:
    return (
        f'<footer class="site-footer"><p>&copy; {escape(outlet.name)}. All rights reserved.</p>'
        f'<a href="/{outlet.slug}/privacy">Privacy</a> <a href="/{outlet.slug}/terms">Terms</a>'
        "</footer>"
    )


def render_page(item: Item, *, outlet: Outlet, published: datetime, url: str) -> str:
    """The HTML page of `item` in its outlet's template."""
    t, by = escape(item.headline), escape(item.byline)
    when, iso = published.strftime("%d %B %Y %H:%M"), published.isoformat()
    time_tag = f'<time datetime="{iso}">{when}</time>'
    nav, aside = _nav(outlet), _newsletter(outlet) + _related(outlet)
    if outlet.template == "newspaper":
        main = (
            f'{nav}<main><article class="story"><h1 class="headline">{t}</h1>'
            f'<p class="byline">By {by} | {time_tag}</p>'
            f'<div class="story-body">{_body(item, p_class="story-text")}</div>'
            f'<div class="share">Share this article</div></article>{aside}'
            f"{_comments('Click to comment')}</main>{_footer(outlet)}"
        )
    elif outlet.template == "wordpress":
        main = (
            f'<div id="page" class="site">{nav}<main id="main" class="site-main">'
            f'<article class="post hentry"><header class="entry-header">'
            f'<h1 class="entry-title">{t}</h1><div class="entry-meta">{time_tag} by '
            f'<span class="author">{by}</span></div></header>'
            f'<div class="entry-content">{_body(item)}</div></article>'
            f'{_comments("Leave a Reply")}</main><aside class="sidebar">{aside}</aside>'
            f"{_footer(outlet)}</div>"
        )
    elif outlet.template == "blog":
        main = (
            f'<div class="wrapper">{nav}<div class="post-outer"><div class="post">'
            f'<h3 class="post-title">{t}</h3><div class="post-header">Posted {time_tag} '
            f'by {by}</div><div class="post-body">{_body(item)}</div>'
            f'<div class="post-footer">Labels: news</div></div></div>'
            f'{_comments("Leave a Reply")}<div class="sidebar">{aside}</div>'
            f"{_footer(outlet)}</div>"
        )
    elif outlet.template == "magazine":
        main = (
            f'{nav}<div class="layout"><article class="feature"><div class="kicker">News</div>'
            f'<h1>{t}</h1><div class="meta"><span class="author">{by}</span> {time_tag}</div>'
            f'<section class="article-body">{_body(item)}</section></article>'
            f'<div class="rail">{aside}</div></div>{_comments("Click to comment")}'
            f"{_footer(outlet)}"
        )
    elif outlet.template == "amp":
        main = (
            f'<amp-sidebar id="sidebar" layout="nodisplay">{nav}</amp-sidebar>'
            f'<main id="content"><article class="amp-wp-article"><header>'
            f'<h1 class="amp-wp-title">{t}</h1><div class="amp-wp-byline">{by}</div>'
            f'{time_tag}</header><div class="amp-wp-article-content">{_body(item)}</div>'
            f"</article>{aside}{_comments('Click to comment')}</main>{_footer(outlet)}"
        )
    else:
        raise ValueError(f"unknown template {outlet.template!r}; expected one of {TEMPLATES}")
    amp = " amp" if outlet.template == "amp" else ""
    head = (
        f'<head><meta charset="utf-8"><title>{t} | {escape(outlet.name)}</title>'
        f'<link rel="canonical" href="{escape(url)}">'
        f'<meta property="og:title" content="{t}">'
        f'<meta property="og:site_name" content="{escape(outlet.name)}">'
        f'<meta property="article:published_time" content="{iso}"></head>'
    )
    return f'<!DOCTYPE html>\n<html lang="en"{amp}>{head}<body>{main}</body></html>\n'


def render_feed(outlet: Outlet, entries: list[tuple[Item, datetime, str]], *, site_url: str) -> str:
    """RSS 2.0 of the outlet's published items, newest first: (item, published, page URL)."""
    parts = []
    for item, published, url in sorted(entries, key=lambda e: e[1], reverse=True)[:30]:
        parts.append(
            f"<item><title>{escape(item.headline)}</title><link>{escape(url)}</link>"
            f'<guid isPermaLink="true">{escape(url)}</guid>'
            f"<description>{escape(item.summary)}</description>"
            f"<pubDate>{format_datetime(published)}</pubDate></item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>{escape(outlet.name)}</title><link>{escape(site_url)}</link>"
        f"<description>News from {escape(outlet.name)}</description>"
        + "".join(parts)
        + "</channel></rss>"
    )
