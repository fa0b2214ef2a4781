"""Looks at a document before any parser does: refuses DTDs that declare entities, names non-feeds.

feedparser runs expat and, when that fails, a loose SGML parser that expands entities declared in
the DOCTYPE; neither may ever see an entity declaration (billion laughs, quadratic blowup,
external entities). expat itself has no switch to refuse declarations short of the defusedxml
approach of parsing the whole document, so this module scans the prolog — the text before the
root element, usually a few hundred bytes — by hand, with literals and comments skipped
properly. An external DTD reference alone (`<!DOCTYPE rss PUBLIC "…" "http://…dtd">`, common in
RSS 0.91) is accepted: nothing fetches it.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from wirewatch.errors import FeedParseError

_WHITESPACE = b" \t\r\n\f"
_NAME = re.compile(rb"[^\s/>!?<\"']+")
_ENTITY_DECL = re.compile(rb"<!\s*ENTITY", re.IGNORECASE)
_SUBSET_TOKEN = re.compile(rb"<!--|<\?|[\"'\]]")  # what matters while skipping an internal subset
_DOCTYPE_TOKEN = re.compile(rb"[\"'\[>]")
_MAGIC = (
    (b"\x1f\x8b", "gzip-compressed data"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed data"),
    (b"BZh", "bzip2-compressed data"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"%PDF", "a PDF file"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
)
JSON_TYPES = {"application/feed+json", "application/json"}


@dataclass(frozen=True)
class Prolog:
    doctype: str | None  # the name in <!DOCTYPE name …>, lower-cased
    root: str | None  # the root element's name as written (None: no element at all)

    @property
    def is_html(self) -> bool:
        if self.root:  # some feeds carry a stray XHTML DOCTYPE above <rss>
            return self.root.rpartition(":")[2].lower() == "html"
        return self.doctype == "html"


def sniff(content: bytes, *, mime: str) -> str:
    """'json' or 'xml' for the reader to use; raises FeedParseError for empty and binary bodies."""
    start = content[3:] if content.startswith(codecs.BOM_UTF8) else content
    start = start.lstrip(_WHITESPACE)
    if not start:
        raise FeedParseError("not a feed: the document is empty")
    for magic, what in _MAGIC:
        if start.startswith(magic):
            raise FeedParseError(f"not a feed: the document is {what}{served_as(mime)}")
    if start[:1] in (b"{", b"["):
        return "json"
    if mime in JSON_TYPES and start[:1] != b"<" and b"<\x00" not in start[:4]:
        return "json"  # UTF-16/32 JSON without a BOM we can see; json.loads sniffs it
    return "xml"


def served_as(mime: str) -> str:
    return f" ({mime})" if mime else ""


def check_prolog(data: bytes) -> Prolog:
    """Scan the prolog of UTF-8 `data`; raise FeedParseError if it declares any entity."""
    doctype = None
    pos, end = 0, len(data)
    while pos < end:
        lt = data.find(b"<", pos)
        if lt < 0:
            break
        if data.startswith(b"<?", lt):
            pos = _after(data, b"?>", lt + 2)
        elif data.startswith(b"<!--", lt):
            pos = _after(data, b"-->", lt + 4)
        elif data[lt + 1 : lt + 2] == b"!":
            if data[lt + 2 : lt + 9].upper() == b"DOCTYPE":
                name = _NAME.match(data, lt + 9 + _spaces(data, lt + 9))
                doctype = name.group().decode("utf-8", "replace").lower() if name else ""
                pos = _skip_doctype(data, lt + 9)
            elif _ENTITY_DECL.match(data, lt):
                raise _refuse()
            else:
                pos = lt + 2
        else:
            name = _NAME.match(data, lt + 1)
            if name:
                return Prolog(doctype=doctype, root=name.group().decode("utf-8", "replace"))
            pos = lt + 1
    return Prolog(doctype=doctype, root=None)


def _skip_doctype(data: bytes, pos: int) -> int:
    """Position after the DOCTYPE around `pos`; refuses an internal subset declaring entities."""
    while True:
        token = _DOCTYPE_TOKEN.search(data, pos)
        if token is None:
            return len(data)
        char = token.group()
        if char == b">":
            return token.end()
        if char == b"[":
            close = _subset_end(data, token.end())
            if _ENTITY_DECL.search(data, token.end(), close):
                raise _refuse()
            pos = close
        else:  # a quoted public or system identifier
            pos = _after(data, char, token.end())


def _subset_end(data: bytes, pos: int) -> int:
    """Position after the `]` closing an internal subset, skipping literals, comments and PIs."""
    while True:
        token = _SUBSET_TOKEN.search(data, pos)
        if token is None:
            return len(data)
        text = token.group()
        if text == b"]":
            return token.end()
        if text == b"<!--":
            pos = _after(data, b"-->", token.end())
        elif text == b"<?":
            pos = _after(data, b"?>", token.end())
        else:
            pos = _after(data, text, token.end())


def _after(data: bytes, marker: bytes, pos: int) -> int:
    found = data.find(marker, pos)
    return len(data) if found < 0 else found + len(marker)


def _spaces(data: bytes, pos: int) -> int:
    count = 0
    while pos + count < len(data) and data[pos + count] in _WHITESPACE:
        count += 1
    return count


def _refuse() -> FeedParseError:
    return FeedParseError(
        "refused: the document's DTD declares entities (<!ENTITY …>); they are never expanded "
        "because they can blow up without bound or read local files"
    )
