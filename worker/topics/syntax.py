"""Topic query parsing: query text -> validated `Query`, or a QueryError with position and hint.

Syntax is Lucene's, read by luqum (a maintained Lucene query parser; writing our own grammar would
re-solve escaping, phrases and precedence it already handles). On top of luqum we check balance
of quotes and parentheses ourselves (luqum only says "unexpected end"), translate its errors into
positioned messages with hints, and reject what the matcher does not do (fuzzy, boosts, ranges,
regexes, inner or leading wildcards, unknown fields, queries that only exclude).

Precedence, loosest first: juxtaposition (implicit AND, as in Google), OR, AND, then NOT/-/+.
So `Iran Israel OR Lebanon` is `Iran AND (Israel OR Lebanon)` and `a OR b AND c` is
`a OR (b AND c)`. `+term` is the same as `term`; `-term` is `NOT term`. Operators are upper-case;
a bare lower-case `and`/`or`/`not` is rejected as a probable typo (quote it to look for the word).
Limits (errors.py): MAX_CHARS characters, MAX_TERMS terms/phrases/prefixes, MAX_DEPTH levels of
nesting.
"""

from __future__ import annotations

import re
from decimal import InvalidOperation
from functools import lru_cache

from luqum import tree as lq
from luqum.exceptions import IllegalCharacterError, ParseSyntaxError
from luqum.thread import parse as luqum_parse

from worker.topics.errors import (
    EXAMPLE,
    MAX_CHARS,
    MAX_DEPTH,
    MAX_TERMS,
    SYNTAX_HINT,
    QueryError,
    check_balance,
    translate,
)
from worker.topics.query import And, Key, Node, Not, Or, Phrase, Prefix, Query, Term
from worker.topics.text import BODY, FIELDS, words


class _Converter:
    """luqum tree -> our nodes, rejecting what we do not support; remembers node positions."""

    def __init__(self) -> None:
        self.terms = 0
        self.pos: dict[int, int] = {}

    def node(self, item: lq.Item, field: str | None, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise QueryError(
                "query nested too deeply",
                position=item.pos,
                hint=f"use at most {MAX_DEPTH} levels of NOT and parentheses",
            )
        out = self._node(item, field, depth + 1)
        self.pos.setdefault(id(out), item.pos or 0)
        return out

    def _node(self, item: lq.Item, field: str | None, depth: int) -> Node:
        pos = item.pos or 0
        if isinstance(item, (lq.AndOperation, lq.UnknownOperation, lq.OrOperation)):
            kind = Or if isinstance(item, lq.OrOperation) else And
            children: list[Node] = []
            for child in item.children:
                node = self.node(child, field, depth)
                children.extend(node.children if isinstance(node, kind) else (node,))
            return kind(tuple(children))
        if isinstance(item, (lq.Group, lq.FieldGroup, lq.Plus)):
            return self.node(item.children[0], field, depth)
        if isinstance(item, (lq.Not, lq.Prohibit)):
            return Not(self.node(item.children[0], field, depth))
        if isinstance(item, lq.SearchField):
            name = item.name.lower()
            if field is not None:
                raise QueryError(
                    f"field '{item.name}:' inside field '{field}:'",
                    position=pos,
                    hint="use one field per term; quote text containing ':' "
                    '(e.g. feed:"https://example.org/rss")',
                )
            if name not in FIELDS:
                raise QueryError(
                    f"unknown field '{item.name}'",
                    position=pos,
                    hint=f"known fields are {', '.join(FIELDS)}",
                )
            return self.node(item.expr, name, depth)
        if isinstance(item, lq.Word):
            return self._leaf(self._word(item.value, field or BODY, pos), pos)
        if isinstance(item, lq.Phrase):
            return self._leaf(self._phrase(item.value, field or BODY, pos), pos)
        if isinstance(item, (lq.Fuzzy, lq.Proximity)):
            raise QueryError(
                "fuzzy and proximity search (~) are not supported",
                position=pos,
                hint="list the spellings with OR, e.g. (Gaddafi OR Qadhafi)",
            )
        if isinstance(item, lq.Boost):
            raise QueryError(
                "boosts (^) are not supported",
                position=pos,
                hint="a topic matches or not; remove the ^",
            )
        if isinstance(item, (lq.Range, lq.From, lq.To)):
            raise QueryError(
                "ranges are not supported", position=pos, hint="remove the comparison or quote it"
            )
        if isinstance(item, lq.Regex):
            raise QueryError(
                "regular expressions (/.../) are not supported",
                position=pos,
                hint="quote text containing '/', e.g. feed:\"example.org/rss\"",
            )
        raise QueryError(f"unsupported syntax {str(item)!r}", position=pos, hint=SYNTAX_HINT)

    def _leaf(self, node: Node, pos: int) -> Node:
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise QueryError(
                "too many terms",
                position=pos,
                hint=f"a topic may have at most {MAX_TERMS} terms; split it into topics",
            )
        return node

    @staticmethod
    def _word(raw: str, field: str, pos: int) -> Node:
        if raw in ("and", "or", "not"):
            raise QueryError(
                f"lower-case operator '{raw}'",
                position=pos,
                hint=f'operators are upper-case: write {raw.upper()}, or "{raw}" '
                "in quotes to look for the word",
            )
        if raw in ("&&", "||") or raw.startswith("!"):
            raise QueryError(
                f"unsupported operator {raw[:2]!r}",
                position=pos,
                hint="write AND, OR, NOT (or -word)",
            )
        bare = re.sub(r"\\.", "", raw)  # escaped characters are literal
        if '"' in bare:
            raise QueryError(
                "a quote inside a word",
                position=pos + raw.index('"'),
                hint='leave a space before an opening quote: Iran "white house"',
            )
        if "?" in bare:
            raise QueryError(
                "the ? wildcard is not supported",
                position=pos + raw.index("?"),
                hint="list the spellings with OR, or end a word with * for a prefix",
            )
        if bare == "*":
            raise QueryError(
                "a bare * would match every article",
                position=pos,
                hint=f"say what to look for, {EXAMPLE}",
            )
        if bare.startswith("*"):
            raise QueryError(
                "leading wildcards are not supported",
                position=pos,
                hint="only prefixes are: write the start of the word, e.g. Iran*",
            )
        if "*" in bare[:-1]:
            raise QueryError(
                "a wildcard may only end a word",
                position=pos + raw.index("*"),
                hint="only prefixes are supported, e.g. Iran*",
            )
        if bare.endswith("*"):
            tokens = words(raw[:-1])
            if len(tokens) != 1:
                raise QueryError(
                    "a prefix must be a single word",
                    position=pos,
                    hint="letters or digits only before the *, e.g. Iran*",
                )
            return Prefix(field, tokens[0], raw)
        tokens = words(raw)
        if not tokens:
            raise QueryError(
                f"term {raw!r} has no letters or digits",
                position=pos,
                hint="remove it, or write operators as AND, OR, NOT",
            )
        if len(tokens) == 1:
            return Term(field, tokens[0], raw)
        return Phrase(field, tuple(tokens), raw)  # "U.S.", "e-mail": consecutive words

    @staticmethod
    def _phrase(raw: str, field: str, pos: int) -> Node:
        if re.search(r"(?<!\\)[*?]", raw):
            raise QueryError(
                "wildcards do not work inside quotes",
                position=pos,
                hint='end a word outside quotes with *, e.g. "white house" OR whiteh*',
            )
        tokens = words(raw[1:-1])
        if not tokens:
            raise QueryError("empty phrase", position=pos, hint="put words inside the quotes")
        if len(tokens) == 1:
            return Term(field, tokens[0], raw)
        return Phrase(field, tuple(tokens), raw)


def _positive_keys(node: Node, pos: dict[int, int]) -> frozenset[Key]:
    """The root's index keys; a query without any (it can match an article holding none of its
    terms) is rejected."""
    keys = node.keys()
    if keys is not None:
        return keys
    where = node
    while isinstance(where, (And, Or)):  # descend to the first branch that only excludes
        where = next(c for c in where.children if c.keys() is None)
    raise QueryError(
        "query only excludes",
        position=pos.get(id(where), 0),
        hint="a topic must say what to look for, not only what to exclude, "
        "e.g. Iran AND NOT sports",
    )


@lru_cache(maxsize=65_536)
def parse_query(query: str) -> Query:
    """Parse and validate a topic query; raises QueryError (with position and hint)."""
    if not query or not query.strip():
        raise QueryError("empty query", position=0, hint=f"say what to look for, {EXAMPLE}")
    if len(query) > MAX_CHARS:
        raise QueryError(
            "query too long",
            position=MAX_CHARS,
            hint=f"a topic may have at most {MAX_CHARS} characters; split it into topics",
        )
    check_balance(query)
    try:
        tree = luqum_parse(query)
    except (ParseSyntaxError, IllegalCharacterError) as error:
        raise translate(query, error) from None
    except InvalidOperation:  # luqum reads the number after ~ or ^ as a Decimal: "a^." fails
        m = re.search(r"[~^]", query)
        raise QueryError(
            "fuzzy search (~) and boosts (^) are not supported",
            position=m.start() if m else 0,
            hint="remove the ~ or ^",
        ) from None
    converter = _Converter()
    root = converter.node(tree, None, 0)
    return Query(root, converter.terms, _positive_keys(root, converter.pos))


def validate_query(query: str) -> str:
    """The normalised text of a valid query (explicit operators, fields on terms), or QueryError."""
    return parse_query(query).text
