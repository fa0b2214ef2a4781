"""Golden tests of the feed parsing stage: tests/data/feeds/<case>.* in, <case>.expected.json out.

Set WIREWATCH_REGEN_GOLDEN=1 to rewrite the expected files after a deliberate change, then
review the diff.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from wirewatch.errors import FeedParseError
from worker.feeds import ParsedFeed, parse_feed

DATA = Path(__file__).parent / "data" / "feeds"
NOW = datetime(2024, 3, 8, tzinfo=UTC)

# case: (file, URL it was fetched from, Content-Type header)
CASES = {
    "rss20": ("rss20.xml", "https://harbour.example/feed.xml", "application/rss+xml"),
    "atom10": ("atom10.xml", "https://tidewatch.example/blog/atom.xml", "application/atom+xml"),
    "jsonfeed11": ("jsonfeed11.json", "https://estuary.example/feed.json", "application/feed+json"),
    "rss_links_only": ("rss_links_only.xml", "https://links.example/rss", "text/xml"),
    "rss_no_guid": ("rss_no_guid.xml", "https://noguid.example/rss", None),
    "relative_links": ("relative_links.xml", "https://relative.example/blog/feed/rss.xml", None),
    "rss091_netscape": ("rss091_netscape.xml", "http://cafe.example/rss", "text/xml"),
    "billion_laughs": ("billion_laughs.xml", "https://evil.example/feed", "application/rss+xml"),
    "quadratic_blowup": ("quadratic_blowup.xml", "https://evil.example/feed", None),
    "external_entity": ("external_entity.xml", "https://evil.example/feed", None),
    "html_page": ("html_page.html", "https://harbour.example/", "text/html; charset=utf-8"),
    "invalid_json_feed": ("invalid_json_feed.json", "https://broken.example/feed.json",
                          "application/feed+json"),
}


def _as_json(feed: ParsedFeed) -> dict:
    def convert(value: object) -> object:
        return value.isoformat() if isinstance(value, datetime) else value

    plain = dataclasses.asdict(feed)
    plain["entries"] = [{k: convert(v) for k, v in e.items()} for e in plain["entries"]]
    return plain


def _outcome(case: str) -> dict:
    name, url, content_type = CASES[case]
    try:
        feed = parse_feed((DATA / name).read_bytes(), url=url, content_type=content_type, now=NOW)
    except FeedParseError as exc:
        return {"error": str(exc)}
    return _as_json(feed)


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden(case: str) -> None:
    expected_file = DATA / f"{case}.expected.json"
    actual = _outcome(case)
    if os.environ.get("WIREWATCH_REGEN_GOLDEN") == "1":
        expected_file.write_text(json.dumps(actual, indent=2, ensure_ascii=False) + "\n")
    assert actual == json.loads(expected_file.read_text())


# --- behaviour around the golden files -------------------------------------------------------

from worker.feeds import entry_key  # noqa: E402

RSS_ITEM = (
    '<rss version="2.0"><channel><title>T</title><link>https://t.example/</link>'
    "<item><title>One</title><guid isPermaLink=\"false\">1</guid></item></channel></rss>"
)


def _error(content: bytes, **kwargs: object) -> str:
    with pytest.raises(FeedParseError) as info:
        parse_feed(content, url=kwargs.pop("url", "https://t.example/feed"), **kwargs)
    assert info.value.permanent
    return str(info.value)


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (b"", None, "not a feed: the document is empty"),
        (b" \r\n\t ", "application/rss+xml", "not a feed: the document is empty"),
        (b"\x1f\x8b\x08\x00gzip", "application/xml", "gzip-compressed data (application/xml)"),
        (bytes(range(256)) * 8, "application/octet-stream", "not a feed"),
        (b"just some words", "text/plain", "not a feed: no RSS, Atom or RDF root element"),
        (b"<?xml version='1.0'?><note><to>x</to></note>", None, "found <note>"),
        (b"<html><body>hi</body></html>", None, "not a feed: the document is an HTML page"),
        (b'{"name": "x"}', "application/json", "not a feed: a JSON document (application/json)"),
        (b"[1, 2, 3]", None, "without a jsonfeed.org `version`"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", "invalid JSON feed"),
        (b'{"version": "https://jsonfeed.org/version/1"}', None, "`items` is missing"),
        (b'<rss version="2.0"><chan', None, "malformed feed: no entry could be read (XML error"),
    ],
)
def test_not_a_feed(body: bytes, content_type: str | None, expected: str) -> None:
    assert expected in _error(body, content_type=content_type)


def test_bytes_are_never_taken_for_a_file_name_or_url(server) -> None:  # noqa: ANN001
    assert "not a feed" in _error(b"/etc/passwd")
    feed_url = server.route("/feed.xml", RSS_ITEM, headers={"Content-Type": "application/rss+xml"})
    assert "not a feed" in _error(feed_url.encode())
    assert server.hits_for("/feed.xml") == []


def test_external_dtd_is_accepted_but_never_fetched(server) -> None:  # noqa: ANN001
    dtd_url = server.route("/rss-0.91.dtd", "<!ELEMENT rss ANY>")
    body = (
        '<?xml version="1.0"?>\n'
        '<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"'
        f' "{dtd_url}">\n{RSS_ITEM}'
    ).encode()
    feed = parse_feed(body, url="https://t.example/feed")
    assert [e.key for e in feed.entries] == ["1"]
    assert server.hits_for("/rss-0.91.dtd") == []


def test_external_entity_is_refused_and_never_fetched(server) -> None:  # noqa: ANN001
    secret = server.route("/secret", "top secret")
    body = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "{secret}">]>'
        '<rss version="2.0"><channel><item><title>&x;</title></item></channel></rss>'
    ).encode()
    assert _error(body).startswith("refused:")
    assert server.hits_for("/secret") == []


@pytest.mark.parametrize(
    "prolog",
    [
        '<!DOCTYPE rss [<!ENTITY a "b">]>',
        '<!doctype rss [ <!entity % p SYSTEM "http://x.example/p.dtd"> %p; ]>',
        # a literal holding "]>" must not end the internal subset early
        '<!DOCTYPE rss [<!ATTLIST rss x CDATA "]>"> <!ENTITY a "b">]>',
        "<!-- <rss> is not the root yet --><!DOCTYPE rss [<!ENTITY a 'b'>]>",
        '<!DOCTYPE rss SYSTEM "x.dtd" [<!-- a comment ] with a bracket --><!ENTITY a "b">]>',
        '<!ENTITY a "b">',
    ],
)
def test_entity_declarations_are_refused(prolog: str) -> None:
    rss = '<rss version="2.0"><channel><title>&a;</title></channel></rss>'
    body = f'<?xml version="1.0"?>{prolog}{rss}'
    assert _error(body.encode()).startswith("refused:")


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-8-sig"])
def test_entity_declarations_are_refused_in_any_encoding(codec: str) -> None:
    declared = codec.replace("-sig", "").replace("-le", "").replace("-be", "")
    body = (
        f'<?xml version="1.0" encoding="{declared}"?><!DOCTYPE rss [<!ENTITY a "b">]>'
        '<rss version="2.0"><channel><title>&a;</title></channel></rss>'
    )
    assert _error(body.encode(codec)).startswith("refused:")


def test_internal_subset_without_entities_is_accepted() -> None:
    body = f'<?xml version="1.0"?><!DOCTYPE rss [<!ATTLIST rss x CDATA "y">]>{RSS_ITEM}'
    assert len(parse_feed(body.encode(), url="https://t.example/feed").entries) == 1


def test_blank_lines_before_the_declaration_do_not_lose_the_encoding() -> None:
    body = (
        "\n\n  <?xml version='1.0' encoding='iso-8859-1'?>"
        '<rss version="2.0"><channel><title>Caf\xe9</title>'
        '<item><title>\xe9t\xe9</title><guid isPermaLink="false">1</guid></item></channel></rss>'
    ).encode("iso-8859-1")
    feed = parse_feed(body, url="https://t.example/feed")
    assert (feed.title, feed.entries[0].title, feed.bozo_reason) == ("Café", "été", None)


def test_charset_parameter_of_the_content_type_is_used() -> None:
    body = RSS_ITEM.replace("<title>T</title>", "<title>Caf\xe9</title>").encode("iso-8859-1")
    feed = parse_feed(body, url="https://t.example/", content_type="text/xml; charset=ISO-8859-1")
    assert feed.title == "Café"
    assert parse_feed(body, url="https://t.example/", charset="iso-8859-1").title == "Café"


@pytest.mark.parametrize("charset", ["utf\x00-8", "no such codec", "rot13", "utf-7"])
def test_odd_charsets_never_crash(charset: str) -> None:
    feed = parse_feed(RSS_ITEM.encode(), url="https://t.example/", charset=charset)
    assert [e.title for e in feed.entries] == ["One"]
    declared = f'<?xml version="1.0" encoding="{charset}"?>{RSS_ITEM}'.encode()
    with contextlib.suppress(FeedParseError):  # either outcome is fine; a crash is not
        parse_feed(declared, url="https://t.example/")


def test_bozo_feed_with_entries_is_accepted_with_a_reason() -> None:
    body = RSS_ITEM.replace("<title>One</title>", "<title>One &nbsp; & two</title>").encode()
    feed = parse_feed(body, url="https://t.example/feed")
    assert [e.key for e in feed.entries] == ["1"]
    assert feed.bozo_reason == "XML error at line 1, column 92: undefined entity"
    cut_off = parse_feed(
        b'<rss version="2.0"><channel><item><title>cut off</title><link>/a</link><descr',
        url="https://t.example/",
    )
    assert [e.title for e in cut_off.entries] == ["cut off"] and cut_off.bozo_reason


def test_valid_channel_without_entries_is_an_empty_feed() -> None:
    body = b'<rss version="2.0"><channel><title>Quiet</title><link>https://q.example/</link></channel></rss>'
    feed = parse_feed(body, url="https://q.example/rss")
    assert (feed.format, feed.title, feed.entries, feed.bozo_reason) == ("rss20", "Quiet", [], None)


def test_future_dates_are_judged_against_now() -> None:
    body = RSS_ITEM.replace("</guid>", "</guid><pubDate>Sat, 09 Mar 2024 12:00:00 GMT</pubDate>")
    url = "https://t.example/"
    early = parse_feed(body.encode(), url=url, now=datetime(2024, 3, 8, tzinfo=UTC))
    late = parse_feed(body.encode(), url=url, now=datetime(2024, 3, 9, tzinfo=UTC))
    assert early.entries[0].published is None
    assert late.entries[0].published == datetime(2024, 3, 9, 12, tzinfo=UTC)


def test_entry_key_prefers_guid_then_link_then_text() -> None:
    assert entry_key(guid=" g-1 ", url="https://a.example/x", title="t", content="c") == "g-1"
    tracked = "https://A.example/x?utm_medium=rss"
    assert entry_key(guid=None, url=tracked, title="t", content=None) == "https://a.example/x"
    by_text = entry_key(guid="", url=None, title="t", content="c")
    assert by_text.startswith("sha1:") and len(by_text) == 45
    assert by_text == entry_key(guid=None, url=None, title="t", content="c")
    assert by_text != entry_key(guid=None, url=None, title="t", content="d")


def test_entry_key_is_at_most_512_characters() -> None:
    assert entry_key(guid="g" * 512, url=None, title=None, content=None) == "g" * 512
    long_key = entry_key(guid="g" * 513, url=None, title=None, content=None)
    assert long_key.startswith("sha1:") and len(long_key) == 45
    long_link = entry_key(guid=None, url="https://a.example/" + "p" * 600, title=None, content=None)
    assert long_link.startswith("sha1:")
