"""Topic query semantics: (query, document, expected) over words, accents, phrases, fields."""

import pytest

from worker.topics import Document, TopicIndex, matches

STRIKE = Document(
    title="Iranian drone strike hits Zürich depot",
    text=(
        "The White House said Iran's air force carried out the strike. "
        "Officials in the U.S. sent an e-mail to reporters. São Paulo markets fell; "
        "the Straße was closed."
    ),
    source="The Guardian",
    wire="Reuters",
    lang="en",
    feed="https://feeds.bbci.co.uk/news/world/rss.xml",
)
SPORTS = Document(
    title="Iran beat Spain in football friendly",
    text="Iran won the sports fixture 2-1 after a late strike from the captain.",
    source="BBC Sport",
    wire="",
    lang="en",
    feed="BBC Sport - Football",
)
FRENCH = Document(
    title="Frappe aérienne près de Téhéran",
    text="L'Iran dénonce une frappe; le président Macron appelle au calme.",
    source="Le Monde",
    wire="AFP",
    lang="fr",
    feed="https://www.lemonde.fr/international/rss_full.xml",
)

CASES = [
    # plain words, word boundaries, case
    ("Iran", STRIKE, True),  # "Iran's" holds the word iran
    ("iran", SPORTS, True),
    ("IRAN", FRENCH, True),  # "L'Iran"
    ("Iranian", STRIKE, True),
    ("Iranian", SPORTS, False),
    ("Ira", STRIKE, False),
    ("drones", STRIKE, False),
    ("drone", STRIKE, True),
    # accents and compatibility forms, both directions
    ("zurich", STRIKE, True),
    ("Zürich", Document(text="zurich police"), True),
    ("ZÜRICH", STRIKE, True),
    ("Teheran", FRENCH, True),
    ("aerienne", FRENCH, True),
    ("Sao Paulo", STRIKE, True),
    ("strasse", STRIKE, True),  # ß casefolds to ss
    ("ﬁnal", Document(text="the final round"), True),  # NFKD ligature
    # prefixes
    ("Iran*", STRIKE, True),
    ("Iranian*", SPORTS, False),
    ("Tehe*", FRENCH, True),
    ("dénon*", FRENCH, True),
    ("wire:Reu*", STRIKE, True),
    ("title:Zur*", STRIKE, True),
    ("text:Zur*", STRIKE, False),
    # phrases: consecutive words, not across title/text
    ('"white house"', STRIKE, True),
    ('"house white"', STRIKE, False),
    ('"White  House said"', STRIKE, True),
    ('"depot the"', STRIKE, False),  # last title word + first text word
    ('"air force"', STRIKE, True),
    ('"air strike"', STRIKE, False),
    ("U.S.", STRIKE, True),  # punctuated word = its words in a row
    ("e-mail", STRIKE, True),
    ("email", STRIKE, False),
    # boolean operators and precedence
    ("Iran AND (airstrike OR strike) AND NOT sports", STRIKE, True),
    ("Iran AND (airstrike OR strike) AND NOT sports", SPORTS, False),
    ("Iran AND strike", SPORTS, True),
    ("Iran OR Macron", FRENCH, True),
    ("Spain OR Macron", STRIKE, False),
    ("Iran strike", STRIKE, True),  # implicit AND
    ("Iran Macron", STRIKE, False),
    ("Iran Spain OR Macron", FRENCH, True),  # Iran AND (Spain OR Macron)
    ("Iran Spain OR Macron", STRIKE, False),
    ("Macron OR Spain AND football", SPORTS, True),  # Macron OR (Spain AND football)
    ("Macron OR Spain AND cricket", SPORTS, False),
    ("Iran -sports", STRIKE, True),
    ("Iran -sports", SPORTS, False),
    ("+Iran +strike -football", STRIKE, True),
    ("Iran NOT football", SPORTS, False),
    ("Iran AND NOT (football OR cricket)", STRIKE, True),
    (
        "((Iran OR Iraq) AND (strike OR (air AND force))) AND NOT (football OR title:sports)",
        STRIKE,
        True,
    ),
    ("Iran AND (Spain OR NOT Reuters)", SPORTS, True),  # a negative OR branch beside a positive AND
    # fields
    ("wire:Reuters AND Iran", STRIKE, True),
    ("wire:Reuters AND Iran", SPORTS, False),
    ("Reuters", STRIKE, False),  # unfielded = title or text only
    ("wire:AFP", FRENCH, True),
    ("source:guardian", STRIKE, True),
    ('source:"BBC Sport"', SPORTS, True),
    ("lang:fr AND frappe", FRENCH, True),
    ("lang:FR", STRIKE, False),
    ("feed:bbci", STRIKE, True),
    ('feed:"feeds.bbci.co.uk"', STRIKE, True),
    ('feed:"lemonde.fr/international"', FRENCH, True),
    ('title:"drone strike"', STRIKE, True),
    ('text:"drone strike"', STRIKE, False),
    ("title:(football OR cricket)", SPORTS, True),
    ("title:(football OR cricket)", STRIKE, False),
    ("title:(Iran AND NOT football)", SPORTS, False),
    ("Title:Iran", SPORTS, True),  # field names are case-insensitive
    ("text:captain", SPORTS, True),
    ("title:captain", SPORTS, False),
    ("wire:(AFP OR AP) Iran", FRENCH, True),
    ("wire:(AFP OR AP) Iran", STRIKE, False),
]


@pytest.mark.parametrize(
    ("query", "doc", "expected"), CASES, ids=[c[0] + f"#{i}" for i, c in enumerate(CASES)]
)
def test_query_matches_document(query: str, doc: Document, expected: bool) -> None:
    assert matches(query, doc) is expected
    assert (TopicIndex([(1, query)]).match(doc) == {1}) is expected


def test_index_returns_every_matching_topic() -> None:
    index = TopicIndex(enumerate(q for q, _, _ in CASES))
    for doc in (STRIKE, SPORTS, FRENCH):
        expected = {i for i, (q, d, _) in enumerate(CASES) if matches(q, doc)}
        assert index.match(doc) == expected
    assert index.match(Document()) == set()
    assert len(index) == len(CASES)
