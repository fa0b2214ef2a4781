"""Render a cleaned body tree as plain paragraphs and as allow-listed HTML (nh3)."""

from __future__ import annotations

import re
from copy import deepcopy

import lxml.html
import nh3
from lxml.etree import _Element, strip_tags
from trafilatura.htmlprocessing import convert_to_html
from trafilatura.xml import xmltotxt

from worker.extract.clean import HTML, Dialect

_BULLET = re.compile(r"^\s*[-*•·▪●]\s+")
ALLOWED_TAGS = {
    "p",
    "br",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "li",
    "dl",
    "dt",
    "dd",
    "blockquote",
    "pre",
    "code",
    "em",
    "strong",
    "b",
    "i",
    "u",
    "s",
    "del",
    "sub",
    "sup",
    "a",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "caption",
    "figure",
    "figcaption",
    "hr",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}


def sanitize_html(html: str) -> str:
    """Allow-listed HTML: no script, style, event handlers or javascript: links (nh3)."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    ).strip()


def paragraphs(lines: str) -> str:
    """Join non-empty lines as paragraphs separated by a blank line, without list bullets."""
    out = []
    for line in lines.splitlines():
        line = " ".join(_BULLET.sub("", line).split())
        if line:
            out.append(line)
    return "\n\n".join(out)


def xml_body_text(body: _Element) -> str:
    """Paragraph text of a trafilatura XML body (links and emphasis reduced to their text)."""
    plain = deepcopy(body)
    for inline in plain.iter("ref", "hi"):
        # trafilatura drops the space after a kept link ("<ref>said</ref>that"): restore it
        text, tail = inline.text or "", inline.tail or ""
        if text[-1:].isalnum() and tail[:1].isalnum():
            inline.tail = " " + tail
    strip_tags(plain, "ref", "hi")
    return paragraphs(xmltotxt(plain, include_formatting=False))


def xml_body_html(body: _Element) -> str:
    """Sanitised HTML of a trafilatura XML body."""
    tree = convert_to_html(body)
    return sanitize_html(lxml.html.tostring(tree, encoding="unicode"))


def html_body_text(root: _Element, dialect: Dialect = HTML) -> str:
    """Paragraph text of an HTML fragment: one paragraph per innermost block element."""
    blocks = set(dialect.leaves) | set(dialect.lists)
    out = []
    for el in root.iter(*dialect.leaves):
        if any(child.tag in blocks for child in el.iterdescendants()):
            continue
        text = " ".join("".join(el.itertext()).split())
        if text:
            out.append(text)
    if not out:  # a fragment without block markup: its text is one paragraph per line
        return paragraphs(root.text_content())
    return "\n\n".join(out)
