"""A made-up wire story, its republications by other outlets, and an independent report of the
same event, for the story tests (the texts are written for these tests)."""

from __future__ import annotations

WIRE = [
    "GENEVA (Reuters) - Negotiators from forty countries agreed early on Saturday on a draft treaty "
    "to share data on emerging animal diseases, ending two weeks of talks that had stalled over "
    "who would pay for laboratories in poorer regions.",
    "The draft, which still needs approval from national governments, would require signatories to "
    "report unusual outbreaks in livestock within seventy-two hours and to share genetic samples "
    "with a network of reference laboratories.",
    "Delegates said a compromise on funding was reached after three wealthy states offered to cover "
    "the first five years of running costs for eleven regional laboratories in Africa, Asia and "
    "Latin America.",
    "Farm groups welcomed the agreement but warned that small producers would need compensation if "
    "herds had to be culled after an early report, otherwise they would have little reason to "
    "come forward.",
    "The chair of the talks told reporters the text was not perfect but was the best that could be "
    "achieved in the time available, and that technical annexes would be negotiated next spring.",
    "Officials expect the treaty to be opened for signature at a ministerial meeting in the autumn, "
    "and to enter into force once thirty countries have ratified it.",
]

INDEPENDENT = [
    "Forty governments have signed off on a draft pact on livestock disease surveillance after a "
    "fortnight of difficult negotiations in Geneva, our correspondent reports.",
    "Under the proposed rules, countries would have three days to notify partners of an unusual "
    "outbreak on farms, a timetable that several agriculture ministries had resisted.",
    "The breakthrough came late on Friday night when richer nations pledged money for new testing "
    "centres, a point developing countries had insisted on from the start.",
    "Veterinarians interviewed for this article were cautiously optimistic, though some doubted "
    "that farmers would report sick animals without guarantees of compensation.",
    "Further talks on the detailed annexes are scheduled for next year, with ministers due to "
    "gather for a signing ceremony later on.",
]


def republications() -> dict[str, tuple[str, list[str]]]:
    """outlet -> (headline, paragraphs), each a typical way of republishing the wire copy."""
    trimmed = WIRE[:4]
    trimmed[0] = trimmed[0].replace("GENEVA (Reuters) - ", "")
    edited = [p.replace("seventy-two", "72") for p in WIRE]
    return {
        "wire-daily": ("Countries agree draft treaty on animal disease data", list(WIRE)),
        "the-courier": (
            "Deal reached on sharing livestock outbreak data",
            [*trimmed, "Source: Reuters"],
        ),
        "metro-news": ("Animal disease treaty: 40 nations strike deal in Geneva", edited),
    }
