"""Topic query validation: every rejection carries a position and a hint; normalised text."""

import pytest

from worker.topics import MAX_CHARS, MAX_TERMS, QueryError, TopicIndex, parse_query, validate_query

# (query, position, words the message must contain)
REJECTIONS = [
    ("", 0, "empty query"),
    ("   ", 0, "empty query"),
    (
        "Iran AND (airstrike OR strike",
        9,
        "unbalanced parenthesis at position 9: add ')' or remove '('",
    ),
    ("Iran) OR Iraq", 4, "unbalanced parenthesis at position 4: add '(' or remove ')'"),
    ('"white house', 0, "unbalanced quote"),
    ('Iran AND "white house', 9, "unbalanced quote"),
    ("Iran AND", 5, "dangling operator 'AND'"),
    ("Iran OR", 5, "dangling operator 'OR'"),
    ("Iran AND NOT", 9, "dangling operator 'NOT'"),
    ("Iran -", 5, "dangling operator '-'"),
    ("AND Iran", 0, "operator AND has no term before it"),
    ("Iran AND OR Iraq", 9, "operator OR has no term before it"),
    ("title:", 0, "field 'title:' has nothing after it"),
    ("author:Smith", 0, "unknown field 'author'"),
    ("Iran AND byline:(x OR y)", 9, "known fields are title, text, source, wire, lang, feed"),
    ("title:(text:Iran)", 7, "inside field 'title:'"),
    ("NOT sports", 0, "a topic must say what to look for, not only what to exclude"),
    ("-sports", 0, "only excludes"),
    ("-sports -football", 0, "only excludes"),
    ("NOT (a OR b)", 0, "only excludes"),
    ("Iran OR NOT sports", 8, "only excludes"),
    ("*ran", 0, "leading wildcards are not supported"),
    ("Iran AND *", 9, "a bare * would match every article"),
    ("Ir*n", 2, "a wildcard may only end a word"),
    ("Ir?n", 2, "the ? wildcard is not supported"),
    ('"white hou*"', 0, "wildcards do not work inside quotes"),
    ("Iran~2", 0, "fuzzy"),
    ("Iran^2", 0, "boosts"),
    ("[a TO z]", 0, "ranges are not supported"),
    ("/ira[nq]/", 0, "regular expressions"),
    ("Iran and Iraq", 5, "write AND"),
    ("Iran && Iraq", 5, "write AND, OR, NOT"),
    ('""', 0, "empty phrase"),
    ("()", 1, "empty parentheses"),
    ("'Iran'", 0, "unexpected character"),
    ('Iran"white house"', 4, "a quote inside a word"),
    ("x" * (MAX_CHARS + 1), MAX_CHARS, "query too long"),
    (" OR ".join(["iran"] * 10_000), MAX_CHARS, "query too long"),
    (" ".join(["x"] * (MAX_TERMS + 1)), 2 * MAX_TERMS, "too many terms"),
    ("a AND " + "(" * 40 + "b" + ")" * 40, 38, "nested too deeply"),
]


@pytest.mark.parametrize(
    ("query", "position", "message"), REJECTIONS, ids=[r[2] for r in REJECTIONS]
)
def test_rejection_has_position_and_hint(query: str, position: int, message: str) -> None:
    with pytest.raises(QueryError) as caught:
        validate_query(query)
    error = caught.value
    assert isinstance(error, ValueError)
    assert error.position == position
    assert error.hint
    assert message in str(error)
    assert f"at position {position}" in str(error)


def test_index_names_the_failing_topic() -> None:
    with pytest.raises(QueryError) as caught:
        TopicIndex([(1, "Iran"), (42, "Iran AND")])
    assert caught.value.topic_id == 42
    assert str(caught.value).startswith("topic 42: dangling operator 'AND' at position 5")


@pytest.mark.parametrize(
    ("query", "normalised"),
    [
        ("  Iran   strike ", "Iran AND strike"),
        ("Iran -sports +strike", "Iran AND NOT sports AND strike"),
        ("Iran Israel OR Lebanon", "Iran AND (Israel OR Lebanon)"),
        ("a OR b AND c", "a OR (b AND c)"),
        ("((Iran))", "Iran"),
        ("Iran AND (Iraq AND Syria)", "Iran AND Iraq AND Syria"),
        ('title:(Iran OR "white house")', 'title:Iran OR title:"white house"'),
        ("WIRE:Reuters", "wire:Reuters"),
        ("Iran*", "Iran*"),
        ("U.S. NOT Iran", "U.S. AND NOT Iran"),
        ('"and" OR Zürich', '"and" OR Zürich'),
    ],
)
def test_normalised_text(query: str, normalised: str) -> None:
    assert validate_query(query) == normalised
    assert parse_query(normalised) == parse_query(query)


def test_spelling_does_not_change_the_query() -> None:
    assert parse_query("ZÜRICH") == parse_query("zurich")
    assert parse_query('"Iran"') == parse_query("iran")
    assert (
        parse_query("Iran AND strike") == parse_query("Iran strike") == parse_query("+Iran +strike")
    )
    assert parse_query("Iran AND NOT x") == parse_query("Iran -x")
