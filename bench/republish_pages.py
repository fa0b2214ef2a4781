"""News pages for generated copies: four realistic templates, the same copy always renders alike."""

from __future__ import annotations

import zlib
from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench.republish import Copy

TEMPLATES = ("wordpress", "newspaper", "blog", "amp")

_AD = '<div class="ad-slot" data-ad-unit="/2231/{n}"><span class="ad-label">{label}</span></div>'
_COMMENT_BOX = (
    '<div id="respond" class="comment-respond"><h3 class="comment-reply-title">{label}</h3>'
    '<form action="/wp-comments-post.php" method="post" class="comment-form">'
    '<textarea name="comment" rows="4"></textarea><input type="submit" value="Post Comment">'
    "</form></div>"
)


def _slug(text: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in text.lower()).split()[:8])


def _body(copy: Copy, *, p_class: str = "") -> str:
    """Paragraphs as <p>, chrome lines as ad slots / comment prompts / share boxes between them."""
    attr = f' class="{p_class}"' if p_class else ""
    out: list[str] = []
    for i in range(len(copy.paragraphs) + 1):
        for n, (pos, line) in enumerate(copy.chrome):
            if pos != i:
                continue
            label = escape(line)
            if line in ("Leave a Reply", "Click to comment"):
                out.append(_COMMENT_BOX.format(label=label))
            elif line in ("Advertisement", "Sponsored"):
                out.append(_AD.format(n=n, label=label))
            else:
                out.append(f'<div class="inline-widget"><p class="widget-title">{label}</p></div>')
        if i < len(copy.paragraphs):
            out.append(f"<p{attr}>{escape(copy.paragraphs[i])}</p>")
    return "\n".join(out)


def _head(copy: Copy, extra: str = "") -> str:
    t = escape(copy.title)
    return (
        f'<head><meta charset="utf-8"><title>{t} | {escape(copy.outlet)}</title>'
        f'<meta property="og:title" content="{t}">'
        f'<meta property="og:site_name" content="{escape(copy.outlet)}">'
        f'<meta property="article:published_time" content="{copy.published.isoformat()}Z">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">{extra}</head>'
    )


def _nav(copy: Copy) -> str:
    items = "".join(
        f'<li><a href="/{s.lower()}/">{s}</a></li>'
        for s in ("World", "Business", "Politics", "Tech", "Sport", "Opinion")
    )
    return (
        f'<header class="site-header"><a class="logo" href="/">{escape(copy.outlet)}</a>'
        f'<nav class="main-navigation"><ul class="menu">{items}</ul></nav></header>'
    )


def _aside() -> str:
    links = "".join(
        f'<li><a href="/news/item-{i}">Most read story number {i}</a></li>' for i in range(1, 6)
    )
    return (
        f'<aside class="sidebar widget-area"><section class="widget"><h2>Trending</h2>'
        f'<ul>{links}</ul></section><section class="widget newsletter"><h2>Newsletter</h2>'
        f"<p>Get the morning briefing in your inbox.</p></section></aside>"
    )


def _footer(copy: Copy) -> str:
    return (
        f'<footer class="site-footer"><p>&copy; 2024 {escape(copy.outlet)}. '
        f'All rights reserved.</p><a href="/privacy">Privacy</a> <a href="/terms">Terms</a>'
        f"</footer>"
    )


def render_page(copy: Copy, *, template: str) -> str:
    """Full HTML page of `copy` in one of TEMPLATES."""
    t, when = escape(copy.title), copy.published.strftime("%B %d, %Y %H:%M")
    byline = escape(copy.wire_credit or "Staff reporter")
    if template == "wordpress":
        main = (
            f'<div id="page" class="site">{_nav(copy)}<div id="content" class="site-content">'
            f'<main id="main" class="site-main">'
            f'<article id="post-{zlib.crc32(t.encode()) % 99999}" '
            f'class="post type-post status-publish format-standard hentry">'
            f'<header class="entry-header"><h1 class="entry-title">{t}</h1>'
            f'<div class="entry-meta"><span class="posted-on"><time class="entry-date published" '
            f'datetime="{copy.published.isoformat()}">{when}</time></span> '
            f'<span class="byline">by <a class="author">{byline}</a></span></div></header>'
            f'<div class="entry-content">{_body(copy)}</div>'
            f'<footer class="entry-footer"><span class="cat-links">Posted in News</span></footer>'
            f'</article><div id="comments" class="comments-area"><h2>Leave a Reply</h2></div>'
            f"</main>{_aside()}</div>{_footer(copy)}</div>"
        )
    elif template == "newspaper":
        main = (
            f'{_nav(copy)}<div class="breadcrumbs"><a href="/">Home</a> &rsaquo; '
            f'<a href="/world/">World</a></div><main><article class="story" itemscope '
            f'itemtype="https://schema.org/NewsArticle"><h1 itemprop="headline">{t}</h1>'
            f'<p class="byline">By <span itemprop="author">{byline}</span> | '
            f'<time itemprop="datePublished">{when}</time></p>'
            f'<figure class="lead-image"><img src="/img/{_slug(copy.title)}.jpg" alt="">'
            f"<figcaption>File photo.</figcaption></figure>"
            f'<div class="story-body" itemprop="articleBody">{_body(copy, p_class="story-text")}'
            f'</div><div class="share-tools">Share on Facebook Share on X Email</div>'
            f'</article><section class="related"><h2>More from {escape(copy.outlet)}</h2>'
            f'<ul><li><a href="/a">Other headline one</a></li><li><a href="/b">Other headline '
            f"two</a></li></ul></section></main>{_aside()}{_footer(copy)}"
        )
    elif template == "blog":
        main = (
            f'<div class="wrapper">{_nav(copy)}<div class="container"><div class="post-outer">'
            f'<div class="post hentry"><h3 class="post-title entry-title">{t}</h3>'
            f'<div class="post-header">Posted {when}</div>'
            f'<div class="post-body entry-content">{_body(copy)}</div>'
            f'<div class="post-footer">Labels: news, world</div></div></div>'
            f'<div class="comments"><h4>0 comments:</h4>'
            f"{_COMMENT_BOX.format(label='Post a Comment')}"
            f"</div></div>{_aside()}{_footer(copy)}</div>"
        )
    elif template == "amp":
        main = (
            f'<amp-sidebar id="sidebar" layout="nodisplay">{_nav(copy)}</amp-sidebar>'
            f'<main id="content" role="main"><article class="amp-wp-article">'
            f'<header class="amp-wp-article-header"><h1 class="amp-wp-title">{t}</h1>'
            f'<div class="amp-wp-meta amp-wp-byline">{byline}</div>'
            f'<div class="amp-wp-meta amp-wp-posted-on"><time datetime="'
            f'{copy.published.isoformat()}">{when}</time></div></header>'
            f'<div class="amp-wp-article-content">{_body(copy)}</div>'
            f'<footer class="amp-wp-article-footer"><amp-social-share type="twitter">'
            f"</amp-social-share></footer></article></main>{_footer(copy)}"
        )
    else:
        raise ValueError(f"unknown template {template!r}; expected one of {TEMPLATES}")
    amp = " amp" if template == "amp" else ""
    return f'<!DOCTYPE html>\n<html lang="en"{amp}>{_head(copy)}<body>{main}</body></html>\n'
