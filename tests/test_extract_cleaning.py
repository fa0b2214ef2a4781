"""Chrome that survives trafilatura inside the article container is removed by our post-cleaning."""

from __future__ import annotations

import pytest

from worker.extract import extract_article
from worker.extract.boilerplate import _ANYWHERE_RULES, is_chrome
from worker.extract.clean import _internal

URL = "https://paper.example.com/world/2024/03/04/ceasefire-talks"
PROSE = [
    "Negotiators from both sides met in Cairo on Monday for a third round of ceasefire talks, "
    "officials said, as fighting continued along the border for a second week.",
    "The talks focused on the release of prisoners and the reopening of two crossings that "
    "have been closed since early February, according to a statement from the mediators.",
    "Diplomats said a draft agreement could be ready by the end of the week if both "
    "delegations accepted the proposed timetable for a phased withdrawal of troops.",
    "Aid agencies warned that food and fuel supplies in the region were running low and "
    "urged the parties to allow convoys through while the negotiations went on.",
]
CHROME = [
    "<p>Published on March 4, 2024</p>",
    "<p>1,204 shares</p>",
    "<p>Share this article</p>",
    "<div class='ad'><p>Advertisement</p></div>",
    "<p><strong>Sign up for our daily newsletter</strong> to get top stories in your inbox.</p>",
    "<p>We use cookies to improve your experience. Accept all cookies</p>",
    "<p>Related: <a href='/world/2024/03/01/clashes'>Border clashes intensify as talks stall</a>",
    "<ul><li><a href='/world/2024/02/28/aid-convoy'>Aid convoy turned back at crossing</a></li>"
    "<li><a href='/world/2024/02/27/un-vote'>UN vote delayed amid divisions</a></li></ul>",
    "<p>Click to comment</p>",
    "<p>Source: AFP</p>",
]


def test_chrome_inside_the_article_is_removed() -> None:
    body = [f"<p>{PROSE[0]}</p>", CHROME[0], CHROME[1], CHROME[2], f"<p>{PROSE[1]}</p>",
            CHROME[3], CHROME[4], f"<p>{PROSE[2]}</p>", CHROME[5], CHROME[6], CHROME[7],
            f"<p>{PROSE[3]}</p>", CHROME[8], CHROME[9]]  # fmt: skip
    page = (
        "<html lang='en'><head><title>Ceasefire talks resume | The Paper</title></head><body>"
        "<nav><a href='/world/'>World</a> <a href='/sport/'>Sport</a></nav><article>"
        "<h1>Ceasefire talks resume</h1>" + "".join(body) + "</article>"
        "<footer><p>© 2024 The Paper</p></footer></body></html>"
    )
    article = extract_article(page, url=URL)
    assert article.text.split("\n\n") == PROSE
    assert article.wire_source == "AFP"  # from the credit line, which left the text
    assert article.language == "en"


@pytest.mark.parametrize(
    "prompt",
    [
        "Sign up for our NEWSLETTER",
        "ſubscribe to the newsletter",  # long s: the regex engine folds it to "s"
        "İN YOUR INBOX EVERY MORNING",  # dotted capital I folds to "i"
        "Follow Jane Doe on Twitter",
        "jane.doe@paper.example.com",
        "This story originally appeared in The Paper",
    ],
)
def test_prompts_are_chrome_in_any_case(prompt: str) -> None:
    assert is_chrome(prompt)
    assert not is_chrome(f"{PROSE[0]} {prompt} {PROSE[1]}")  # long blocks are prose


def test_each_anywhere_rule_contains_its_hint() -> None:
    """A rule runs only on blocks holding its hint: the hint must be part of every match."""
    for hint, rule in _ANYWHERE_RULES:
        assert hint in rule.replace("\\", ""), rule



def test_a_malformed_link_is_not_taken_for_navigation() -> None:
    # urlsplit raises on a broken IPv6 host; that must cost the link, not the page.
    assert _internal("http://[x/broken", "paper.example.com") is False
    assert _internal("https://www.paper.example.com/world/", "paper.example.com") is True
