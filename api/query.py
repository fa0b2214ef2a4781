"""A user's search text -> FTS5 and tsquery expressions, through the topic-query parser.

The search box speaks the topic language (worker.topics): words, "phrases", prefix*, AND / OR /
NOT, -word, (groups), title: and text:. The parsed tree is rewritten term by term with every
word quoted, so user text never reaches either database's query syntax raw.
"""

from __future__ import annotations

from storage.search import TextQuery
from worker.topics import QueryError, parse_query
from worker.topics.query import And, Node, Not, Or, Phrase, Prefix, Term
from worker.topics.text import BODY

# Columns of the FTS5 table and tsvector weights of the PostgreSQL column, per query field.
_FTS_COLUMN = {"title": "title", "text": "text"}
_PG_WEIGHT = {"title": "A", "text": "B"}


class SearchSyntaxError(ValueError):
    """The search text cannot be used; the message says where and how to fix it."""


def text_query(q: str) -> TextQuery:
    """Translate the search text; SearchSyntaxError says what is wrong."""
    try:
        root = parse_query(q).root
    except QueryError as exc:
        raise SearchSyntaxError(str(exc)) from None
    return TextQuery(fts5=_fts(root), tsquery=_ts(root))


def _fields(node: Node) -> None:
    if node.field not in (BODY, *_FTS_COLUMN):
        raise SearchSyntaxError(
            f"the field '{node.field}:' cannot be searched as text; use the "
            f"{'feed' if node.field in ('feed', 'source') else node.field}= filter instead"
        )


def _split(node: And) -> tuple[list[Node], list[Node]]:
    positive = [c for c in node.children if not isinstance(c, Not)]
    negative = [c.child for c in node.children if isinstance(c, Not)]
    if not positive:
        raise SearchSyntaxError(
            "a group that only excludes cannot be searched; say what to look for, "
            "e.g. (Iran AND NOT sports)"
        )
    return positive, negative


def _fts_quote(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def _fts(node: Node) -> str:
    if isinstance(node, (Term, Prefix, Phrase)):
        _fields(node)
        if isinstance(node, Term):
            expr = _fts_quote(node.word)
        elif isinstance(node, Prefix):
            expr = _fts_quote(node.prefix) + "*"
        else:
            expr = _fts_quote(" ".join(node.words))
        column = _FTS_COLUMN.get(node.field)
        return f"{column} : {expr}" if column else expr
    if isinstance(node, Or):
        if any(isinstance(c, Not) for c in node.children):
            raise SearchSyntaxError("OR NOT cannot be searched; write (a OR b) AND NOT c instead")
        return "(" + " OR ".join(_fts(c) for c in node.children) + ")"
    if isinstance(node, And):
        positive, negative = _split(node)
        expr = "(" + " AND ".join(_fts(c) for c in positive) + ")"
        for child in negative:
            expr = f"({expr} NOT {_fts(child)})"
        return expr
    raise SearchSyntaxError("a query that only excludes cannot be searched; say what to look for")


def _ts_lexeme(word: str, field: str, prefix: bool = False) -> str:
    quoted = "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"
    weight = _PG_WEIGHT.get(field, "")
    suffix = ("*" if prefix else "") + weight
    return f"{quoted}:{suffix}" if suffix else quoted


def _ts(node: Node) -> str:
    if isinstance(node, Term):
        _fields(node)
        return _ts_lexeme(node.word, node.field)
    if isinstance(node, Prefix):
        _fields(node)
        return _ts_lexeme(node.prefix, node.field, prefix=True)
    if isinstance(node, Phrase):
        _fields(node)
        return "(" + " <-> ".join(_ts_lexeme(w, node.field) for w in node.words) + ")"
    if isinstance(node, Or):
        if any(isinstance(c, Not) for c in node.children):
            raise SearchSyntaxError("OR NOT cannot be searched; write (a OR b) AND NOT c instead")
        return "(" + " | ".join(_ts(c) for c in node.children) + ")"
    if isinstance(node, And):
        positive, negative = _split(node)
        parts = [_ts(c) for c in positive] + [f"!{_ts(c)}" for c in negative]
        return "(" + " & ".join(parts) + ")"
    raise SearchSyntaxError("a query that only excludes cannot be searched; say what to look for")
