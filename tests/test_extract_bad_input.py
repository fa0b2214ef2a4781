"""Hostile or broken pages end in an ExtractedArticle or a reasoned ExtractionError, never else."""

from __future__ import annotations

import time

import pytest

from wirewatch.errors import ExtractionError
from worker.extract import ExtractedArticle, extract_article

URL = "https://news.example.org/2024/05/01/story.html"
PARAGRAPH = (
    "The city council approved the new transport budget on Tuesday after a long debate, "
    "with members agreeing to fund three new bus routes and repairs to the old bridge. "
)


def article_page(body: str = "", *, head: str = "", paragraphs: int = 6) -> str:
    text = "".join(f"<p>{PARAGRAPH}Paragraph {i}.</p>" for i in range(paragraphs))
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>{head}"
        f"<title>Council approves budget</title></head><body><nav><a href='/'>Home</a></nav>"
        f"<article><h1>Council approves budget</h1>{text}{body}</article></body></html>"
    )


def outcome(page: bytes | str, **kwargs) -> ExtractedArticle | ExtractionError:
    try:
        return extract_article(page, url=URL, **kwargs)
    except ExtractionError as exc:
        assert str(exc), "an ExtractionError must say why"
        return exc


def test_empty_page_is_a_clear_error() -> None:
    for page in (b"", "", b"   \n  "):
        result = outcome(page)
        assert isinstance(result, ExtractionError)
        assert "empty" in str(result)


def test_empty_page_falls_back_to_feed_content() -> None:
    result = extract_article(b"", url=URL, feed_content=f"<p>{PARAGRAPH}</p>")
    assert result.method == "feed" and result.text.startswith("The city council")


def test_50_mb_page_is_truncated_early_and_fast() -> None:
    filler = "<div class='x'>" + "lorem ipsum dolor sit amet " * 40 + "</div>\n"
    page = article_page().replace("</article>", "</article>" + filler * 46_000).encode()
    assert len(page) > 50_000_000
    started = time.monotonic()
    result = outcome(page)
    assert time.monotonic() - started < 10
    assert isinstance(result, ExtractedArticle)
    assert result.text.startswith("The city council")


def test_5_mb_page_takes_under_two_seconds() -> None:
    """A real-looking 5 MB page: scripts, navigation and long comment threads around the story."""
    script = "<script>var state = " + '{"k": "v"}, ' * 20_000 + ";</script>"
    comments = "".join(
        f"<li class='comment'><p>Comment {i}: I disagree with the council on this one.</p></li>"
        for i in range(55_000)
    )
    page = (
        article_page(head=script * 3)
        .replace("</article>", f"</article><ol class='comments'>{comments}</ol>")
        .encode()
    )
    assert len(page) > 5_000_000
    # CPU time, not wall time: the bound is on our work, whatever else the machine is doing.
    started = time.process_time()
    result = outcome(page)
    cpu = time.process_time() - started
    assert isinstance(result, ExtractedArticle)
    assert "council approved" in result.text
    assert cpu < 2.0, f"5 MB page took {cpu:.2f}s of CPU"


def test_latin1_page_declared_as_utf8_is_readable() -> None:
    text = "Le conseil municipal a approuvé le budget après un débat très animé à la mairie. "
    page = article_page(f"<p>{text * 3}</p>").encode("latin-1", errors="strict")
    for charset in ("utf-8", None):
        result = outcome(page, charset=charset)
        assert isinstance(result, ExtractedArticle)
        assert "approuvé le budget après un débat" in result.text
        assert "\ufffd" not in result.text


def test_declared_charset_header_wins_over_detection() -> None:
    greek = "<p>Ελληνικά νέα για τον προϋπολογισμό της πόλης σήμερα.</p>"
    page = article_page(greek).encode("cp1253")
    result = outcome(page.replace(b"charset='utf-8'", b""), charset="windows-1253")
    assert isinstance(result, ExtractedArticle)
    assert "Ελληνικά νέα" in result.text


def test_deeply_nested_markup() -> None:
    depth = 100_000
    page = article_page("<div>" * depth + "<p>Deep inside.</p>" + "</div>" * depth)
    result = outcome(page)
    assert isinstance(result, ExtractedArticle | ExtractionError)
    if isinstance(result, ExtractedArticle):
        assert result.text.startswith("The city council")


def test_javascript_only_page_is_a_clear_error() -> None:
    page = (
        "<!DOCTYPE html><html><head><script src='/app.js'></script></head><body>"
        "<div id='root'></div><script>window.__STATE__ = {\"a\": 1}; render(root);</script>"
        "<noscript>You need to enable JavaScript to run this app.</noscript></body></html>"
    )
    result = outcome(page)
    assert isinstance(result, ExtractionError)
    assert "no article text" in str(result)


def test_binary_file_served_as_html() -> None:
    blob = bytes(range(256)) * 4000
    result = outcome(b"\x89PNG\r\n\x1a\n" + blob)
    assert isinstance(result, ExtractionError)
    assert "binary" in str(result)


def test_base_href_does_not_move_canonical_or_image() -> None:
    head = (
        "<base href='https://evil.example.net/'>"
        "<link rel='canonical' href='/2024/05/01/story.html?utm_campaign=x&amp;gclid=1'>"
        "<meta property='og:image' content='/img/bridge.jpg'>"
    )
    result = outcome(article_page(head=head))
    assert isinstance(result, ExtractedArticle)
    assert result.canonical_url == URL
    assert result.image_url == "https://news.example.org/img/bridge.jpg"


def test_javascript_canonical_is_ignored() -> None:
    result = outcome(article_page(head="<link rel='canonical' href='javascript:alert(1)'>"))
    assert isinstance(result, ExtractedArticle)
    assert result.canonical_url == URL


@pytest.mark.parametrize(
    "title",
    [
        "Budget <script>alert('x')</script>approved",
        "Budget &lt;script&gt;alert('x')&lt;/script&gt;approved",
    ],
)
def test_script_in_title_comes_out_as_text(title: str) -> None:
    page = article_page().replace("Council approves budget</title>", f"{title}</title>")
    page = page.replace("<h1>Council approves budget</h1>", "")
    result = outcome(page)
    assert isinstance(result, ExtractedArticle)
    assert result.title and "<" not in result.title and ">" not in result.title
    assert result.title.startswith("Budget")


def test_html_output_is_sanitised() -> None:
    body = (
        "<p onclick='steal()'>Click handlers go. <a href='javascript:alert(1)'>bad link</a> "
        "<a href='https://example.org/report'>the full report</a> is linked.</p>"
        "<script>alert(1)</script><style>p{}</style>"
    )
    result = outcome(article_page(body))
    assert isinstance(result, ExtractedArticle)
    for forbidden in ("<script", "<style", "onclick", "javascript:"):
        assert forbidden not in result.html


def test_script_only_page_falls_back_to_feed_content() -> None:
    page = "<html><body><div id='root'></div><script>render()</script></body></html>"
    result = extract_article(page, url=URL, feed_content=f"<p>{PARAGRAPH}</p><p>{PARAGRAPH}</p>")
    assert result.method == "feed"
    assert result.text.split("\n\n") == [PARAGRAPH.strip()] * 2


def test_feed_content_wins_over_a_teaser_page() -> None:
    teaser = article_page(paragraphs=1)
    feed = "".join(f"<p>{PARAGRAPH}Part {i}.</p>" for i in range(12))
    result = extract_article(teaser, url=URL, feed_content=feed)
    assert result.method == "feed"
    assert result.title == "Council approves budget"
