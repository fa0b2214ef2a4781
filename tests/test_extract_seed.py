"""The seed republished wire story, rendered in a WordPress-style news template, comes out clean."""

# ruff: noqa: E501  (fixture markup and the case table read best one item a line)

from __future__ import annotations

import html
import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from worker.extract import extract_article, extract_from_feed

SEED = Path(os.environ.get("WIREWATCH_SEED", Path(__file__).parents[2] / "shared/seed"))
SEED_FILE = SEED / "republished-wire-story.txt"
CHROME_AD = "Advertisement"
CREDIT = "Source: Reuters"
FIRST_BODY_LINE = "WHAT YOU NEED TO KNOW:"
URL = "https://dailywire-report.example/2021/02/26/us-launches-airstrikes/"


def seed_parts(text: str) -> tuple[str, list[str], list[str]]:
    """(title, body lines from the key points to the credit line, expected article paragraphs)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    title = lines[2]
    start, end = lines.index(FIRST_BODY_LINE), lines.index(CREDIT)
    body = lines[start : end + 1]
    expected = [line.lstrip("• ").strip() for line in body if line not in (CHROME_AD, CREDIT)]
    return title, body, expected


def _body_html(body: list[str]) -> str:
    out, bullets = [], []
    for line in body + [""]:
        if line.startswith("•"):
            bullets.append(f"<li>{html.escape(line.lstrip('• '))}</li>")
            continue
        if bullets:
            out.append("<ul>" + "".join(bullets) + "</ul>")
            bullets = []
        if not line:
            continue
        if line == FIRST_BODY_LINE:
            out.append(f"<p><strong>{html.escape(line)}</strong></p>")
        elif line == CHROME_AD:
            out.append(
                '<div class="code-block code-block-3" style="margin:8px auto;text-align:center">'
                '<span class="ad-label">Advertisement</span>'
                '<ins class="adsbygoogle" data-ad-slot="1234567890"></ins>'
                "<script>(adsbygoogle = window.adsbygoogle || []).push({});</script></div>"
            )
        else:
            out.append(f"<p>{html.escape(line)}</p>")
    return "\n".join(out)


def render_news_page(text: str) -> str:
    """The seed as a WordPress news theme would serve it: chrome in nav/aside/footer/div markup."""
    title, body, _ = seed_parts(text)
    t = html.escape(title)
    social = "".join(
        f'<li class="menu-item"><a href="https://www.{n.lower()}.com/dailywirereport" '
        f'target="_blank"><i class="fa fa-{n.lower()}"></i><span>{n}</span></a></li>'
        for n in ("Facebook", "Twitter", "Instagram", "YouTube")
    )
    return f"""<!DOCTYPE html>
<html lang="en-US">
<head>
<meta charset="UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{t} &#8211; Daily Wire Report</title>
<link rel="canonical" href="{URL}?utm_source=rss&amp;utm_medium=rss&amp;fbclid=abc">
<meta property="og:type" content="article">
<meta property="og:title" content="{t}">
<meta property="og:site_name" content="Daily Wire Report">
<meta property="og:image" content="/wp-content/uploads/2021/02/strikes.jpg">
<meta property="article:published_time" content="2021-02-26T03:12:45+00:00">
<link rel="stylesheet" href="/wp-content/themes/newsmag/style.css">
<script>window.dataLayer = window.dataLayer || [];
function gtag(){{dataLayer.push(arguments);}}</script>
</head>
<body class="post-template-default single single-post postid-4821 single-format-standard">
<div id="page" class="site">
<header id="masthead" class="site-header">
  <div class="top-bar"><div class="container">
    <div class="social-links"><span class="social-title">Connect with us</span>
      <ul id="menu-social" class="menu">{social}</ul></div>
  </div></div>
  <div class="site-branding"><a href="/" rel="home">Daily Wire Report</a></div>
  <nav id="site-navigation" class="main-navigation"><ul id="primary-menu" class="menu">
    <li><a href="/">Home</a></li><li><a href="/category/us-news/">U.S. News</a></li>
    <li><a href="/category/world/">World</a></li><li><a href="/category/politics/">Politics</a></li>
  </ul></nav>
</header>
<div id="content" class="site-content"><div class="container">
<main id="primary" class="site-main">
<article id="post-4821" class="post-4821 post type-post status-publish format-standard">
  <header class="entry-header">
    <div class="cat-links"><a href="/category/us-news/" rel="category tag">U.S. News</a></div>
    <h1 class="entry-title">{t}</h1>
    <div class="entry-meta"><span class="posted-on">Published</span>
      <span class="on">on</span>
      <time class="entry-date published" datetime="2021-02-26T03:12:45+00:00"></time></div>
  </header>
  <div class="entry-content">
{_body_html(body)}
  </div>
  <footer class="entry-footer">
    <div class="code-block code-block-9"><span class="ad-label">Advertisement</span>
      <ins class="adsbygoogle"></ins></div>
    <div class="comments-link"><a href="{URL}#respond">Click to comment</a></div>
  </footer>
</article>
<div id="comments" class="comments-area">
  <div id="respond" class="comment-respond">
    <h3 id="reply-title" class="comment-reply-title">Leave a Reply</h3>
    <form action="/wp-comments-post.php" method="post" id="commentform" class="comment-form">
      <p class="comment-notes">
      <span id="email-notes">Your email address will not be published.</span> Required fields are marked <span class="required">*</span></p>
      <p class="comment-form-comment"><textarea id="comment" name="comment"></textarea></p>
      <p class="form-submit"><input name="submit" type="submit" value="Post Comment"></p>
    </form>
  </div>
</div>
</main>
<aside id="secondary" class="widget-area">
  <section class="widget widget_recent_entries"><h2 class="widget-title">Trending</h2><ul>
    <li><a href="/2021/02/25/senate-confirms-pick/">Senate confirms new cabinet pick after debate</a>
    </li><li><a href="/2021/02/24/storm-power-cuts/">Storm leaves thousands without power in Texas</a>
    </li>
  </ul></section>
</aside>
</div></div>
<footer id="colophon" class="site-footer"><div class="site-info">
  &copy; 2021 Daily Wire Report. All rights reserved. | <a href="/privacy-policy/">Privacy Policy</a>
</div></footer>
</div>
</body>
</html>
"""


@pytest.fixture(scope="module")
def seed_text() -> str:
    if not SEED_FILE.exists():
        pytest.skip(f"seed page {SEED_FILE} is absent")
    return SEED_FILE.read_text(encoding="utf-8")


def test_seed_page_is_exactly_its_article_paragraphs(seed_text: str) -> None:
    page = render_news_page(seed_text).encode("utf-8")
    title, _, expected = seed_parts(seed_text)
    article = extract_article(page, url=URL + "?utm_source=rss")
    assert article.text.split("\n\n") == expected
    assert article.wire_source == "Reuters"
    assert article.title == title
    assert article.method == "trafilatura"
    assert article.canonical_url == URL
    assert article.site_name == "Daily Wire Report"
    assert article.published == datetime(2021, 2, 26, 3, 12, 45, tzinfo=UTC)
    assert article.language == "en"
    assert article.image_url == "https://dailywire-report.example/wp-content/uploads/2021/02/strikes.jpg"
    assert article.word_count == len(re.findall(r"\w+", "\n".join(expected)))
    for chrome in ("Connect with us", "Advertisement", "Click to comment", "Leave a Reply", "Trending"):
        assert chrome not in article.text
    assert "<script" not in article.html and "<li>" in article.html


def test_seed_from_feed_content_is_cleaned_the_same_way(seed_text: str) -> None:
    title, body, expected = seed_parts(seed_text)
    article = extract_from_feed(
        url=URL, feed_title=title, feed_content=_body_html(body),
        feed_published=datetime(2021, 2, 26, 3, 0, tzinfo=UTC),
    )
    assert article.text.split("\n\n") == expected
    assert article.method == "feed"
    assert article.wire_source == "Reuters"
    assert article.published == datetime(2021, 2, 26, 3, 0, tzinfo=UTC)


GOLDEN = Path(__file__).parent / "data" / "pages"


@pytest.mark.parametrize("case", sorted(p.stem for p in GOLDEN.glob("*.html")))
def test_golden_pages(case: str) -> None:
    """tests/data/pages/<case>.html must extract to <case>.expected.json (written from the seed)."""
    want = json.loads((GOLDEN / f"{case}.expected.json").read_text(encoding="utf-8"))
    article = extract_article((GOLDEN / f"{case}.html").read_bytes(), url=want["url"])
    assert article.text == want["text"]
    assert article.title == want["title"]
    assert article.wire_source == want["wire_source"]
    assert article.canonical_url == want["canonical_url"]
