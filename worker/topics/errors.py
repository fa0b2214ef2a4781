"""QueryError, and the checks around luqum that give every syntax error a position and a hint.

luqum reports unbalanced parentheses as "unexpected end of expression" and raises on some inputs
with messages only (or a decimal error); `check_balance` runs first on the raw text and
`translate` turns luqum's message into a QueryError pointing at the offending spot.
"""

from __future__ import annotations

import re

from luqum.exceptions import IllegalCharacterError

from worker.topics.text import FIELDS

MAX_CHARS = 10_000  # characters in a query
MAX_TERMS = 1_000  # terms, phrases and prefixes in a query
MAX_DEPTH = 32  # levels of parentheses and NOT

EXAMPLE = "e.g. Iran AND (airstrike OR strike) AND NOT sports"
SYNTAX_HINT = 'check the syntax: words, "phrases", AND, OR, NOT, (groups), field:word'


class QueryError(ValueError):
    """A topic query that cannot be used; `position` is a 0-based character offset or None."""

    def __init__(
        self,
        reason: str,
        *,
        position: int | None = None,
        hint: str = "",
        topic_id: int | None = None,
    ) -> None:
        self.reason = reason
        self.position = position
        self.hint = hint
        self.topic_id = topic_id
        where = f" at position {position}" if position is not None else ""
        topic = f"topic {topic_id}: " if topic_id is not None else ""
        super().__init__(f"{topic}{reason}{where}" + (f": {hint}" if hint else ""))


def check_balance(query: str) -> None:
    """Balanced quotes and parentheses (backslash escapes honoured), nesting within MAX_DEPTH."""
    opened: list[int] = []
    quote: int | None = None
    i = 0
    while i < len(query):
        ch = query[i]
        if ch == "\\":
            i += 2
            continue
        if quote is not None:
            if ch == '"':
                quote = None
        elif ch == '"':
            quote = i
        elif ch == "(":
            opened.append(i)
            if len(opened) > MAX_DEPTH:
                raise QueryError(
                    "query nested too deeply",
                    position=i,
                    hint=f"use at most {MAX_DEPTH} levels of parentheses",
                )
        elif ch == ")":
            if not opened:
                raise QueryError("unbalanced parenthesis", position=i, hint="add '(' or remove ')'")
            opened.pop()
        i += 1
    if quote is not None:
        raise QueryError(
            "unbalanced quote", position=quote, hint="add a closing '\"' or remove this one"
        )
    if opened:
        raise QueryError(
            "unbalanced parenthesis", position=opened[-1], hint="add ')' or remove '('"
        )


_DANGLING = re.compile(r"(?:(?<![^\s(])(AND|OR|NOT)|([+\-])|(\w+):)\s*$")
_AT = re.compile(r"unexpected\s+'(.*)' at position (\d+)!$", re.S)
_ILLEGAL = re.compile(r"Illegal character '(.*)' at position (\d+)$", re.S)


def translate(query: str, error: Exception) -> QueryError:
    """luqum's message -> a QueryError pointing at the offending spot."""
    text = str(error)
    if isinstance(error, IllegalCharacterError) and (m := _ILLEGAL.search(text)):
        pos = int(m.group(2))
        return QueryError(
            f"unexpected character {query[pos]!r}",
            position=pos,
            hint='put words with punctuation in quotes, e.g. "O\'Brien"',
        )
    if m := _AT.search(text):
        token, pos = m.group(1), int(m.group(2))
        if token in ("AND", "OR"):
            return QueryError(
                f"operator {token} has no term before it",
                position=pos,
                hint=f"add a term before {token} or remove it",
            )
        if token == ")":
            return QueryError(
                "empty parentheses", position=pos, hint="put terms inside or remove them"
            )
        if token == ":":
            return QueryError(
                "':' without a field name",
                position=pos,
                hint=f"write field:word with a field among {', '.join(FIELDS)}, "
                "or quote text containing ':'",
            )
        if token in ("[", "]", "{", "}"):
            return QueryError(
                "ranges are not supported", position=pos, hint="remove the brackets or quote them"
            )
        return QueryError(f"unexpected {token!r}", position=pos, hint=SYNTAX_HINT)
    if m := _DANGLING.search(query):
        if m.group(3):
            return QueryError(
                f"field '{m.group(3)}:' has nothing after it",
                position=m.start(3),
                hint="add a word, phrase or (group) after ':'",
            )
        op = m.group(1) or m.group(2)
        return QueryError(
            f"dangling operator {op!r}",
            position=m.start(1) if m.group(1) else m.start(2),
            hint=f"add a term after {op!r} or remove it",
        )
    return QueryError("incomplete query", position=len(query.rstrip()), hint=SYNTAX_HINT)
