"""detect_wire_source: datelines, credit lines and bylines count; mere agency mentions do not."""

# ruff: noqa: E501  (fixture markup and the case table read best one item a line)

from __future__ import annotations

import pytest

from worker.extract import detect_wire_source

BODY = "The minister said the talks would continue next week.\n\nOfficials declined to comment."

# (text, byline, site_name, title, expected)
CASES = [
    # datelines
    ("LONDON (Reuters) - Britain's economy grew 0.4% in the third quarter.\n\n" + BODY, None, None, None, "Reuters"),
    ("WASHINGTON, March 3 (Reuters) - The Senate voted on Tuesday.", None, None, None, "Reuters"),
    ("WASHINGTON (AP) — President Joe Biden signed the bill on Friday.\n\n" + BODY, None, None, None, "AP"),
    ("PARIS (AFP) - French unions called a new strike.", None, None, None, "AFP"),
    ("WASHINGTON, Feb. 26 (UPI) -- The Pentagon confirmed the strikes.", None, None, None, "UPI"),
    ("(UPI) -- A magnitude 6.1 earthquake struck off the coast.", None, None, None, "UPI"),
    ("BERLIN (dpa) - Die Regierung hat beschlossen.", None, None, None, "DPA"),
    ("ROMA (ANSA) - Il governo ha approvato il decreto.", None, None, None, "ANSA"),
    ("MADRID (EFE).- El Gobierno aprobó el plan.", None, None, None, "EFE"),
    ("LONDON (PA) - Police have arrested a man.", None, None, None, "PA"),
    ("BEIJING, Jan. 5 (Xinhua) -- China's exports rose.", None, None, None, "Xinhua"),
    ("TOKYO (Kyodo) -- Japan will raise its minimum wage.", None, None, None, "Kyodo"),
    ("SEOUL, Nov. 19 (Yonhap) -- North Korea fired a missile.", None, None, None, "Yonhap"),
    ("NEW DELHI (PTI) - The government announced a new scheme.", None, None, None, "PTI"),
    ("MOSCOW, May 9 (TASS) - The parade took place.", None, None, None, "TASS"),
    ("SYDNEY (AAP) - Bushfires continue to burn.", None, None, None, "AAP"),
    ("NEW YORK (Bloomberg) -- Stocks rose to a record.", None, None, None, "Bloomberg"),
    ("ANKARA (AA) - Turkey's central bank held rates.", None, None, None, "Anadolu"),
    # credit lines
    (BODY + "\n\nSource: Reuters", None, None, None, "Reuters"),
    (BODY + "\n\n(Reporting by Jane Doe; Editing by John Roe)", None, None, None, "Reuters"),
    (BODY + "\n\nThe Associated Press contributed to this report.", None, None, None, "AP"),
    (BODY + "\n\nThe minister will travel to Brussels on Monday. — AFP", None, None, None, "AFP"),
    (BODY + "\n\n© Agence France-Presse", None, None, None, "AFP"),
    (BODY + "\n\nCopyright 2021 The Associated Press. All rights reserved.", None, None, None, "AP"),
    (BODY, None, None, None, None),
    (BODY, "By Reuters", None, None, "Reuters"),
    # bylines and metadata
    (BODY, "Associated Press", None, None, "AP"),
    (BODY, "AP", None, None, "AP"),
    (BODY, "Bloomberg News", None, None, "Bloomberg"),
    (BODY, "Jane Doe, Reuters", None, None, "Reuters"),
    (BODY, "The Canadian Press", None, None, "Canadian Press"),
    (BODY, "Europa Press", None, None, "Europa Press"),
    (BODY, None, "Reuters", None, "Reuters"),
    (BODY, None, None, "Stocks rally as inflation cools | Reuters", "Reuters"),
    # mentions are not wire stories
    ("The strikes were limited in scope, as first reported by Reuters.\n\n" + BODY, None, None, None, None),
    ("The official told the Associated Press that talks had stalled.\n\n" + BODY, None, None, None, None),
    ("Reuters reported on Tuesday that the deal was close.\n\n" + BODY, None, None, None, None),
    ("According to AFP, at least 12 people died.\n\n" + BODY, None, None, None, None),
    ("Bloomberg reported the merger talks last week.\n\n" + BODY, None, None, None, None),
    ("Protesters gather in the capital. (AP Photo/Evan Vucci)\n\n" + BODY, None, None, None, None),
    (BODY, "Jane Doe", "The Daily Planet", "Local council approves budget", None),
    (BODY, "Ap Smith", None, None, None),
    ("PAris is lovely in spring, said the mayor (a former PA to the minister).", None, None, None, None),
    (BODY + "\n\nSource: company filings", None, None, None, None),
    (BODY + "\n\nAdditional reporting by Joseph Hudak", None, None, None, None),
    ("Bloomberg Philanthropies funds the programme, its director said.", None, None, None, None),
    ("", None, None, None, None),
]


@pytest.mark.parametrize(("text", "byline", "site_name", "title", "expected"), CASES)
def test_detect_wire_source(
    text: str, byline: str | None, site_name: str | None, title: str | None, expected: str | None
) -> None:
    assert detect_wire_source(text, byline=byline, site_name=site_name, title=title) == expected


def test_credit_lines_removed_from_text_still_count() -> None:
    assert detect_wire_source(BODY, credits=["Source: Reuters"]) == "Reuters"


def test_case_table_is_large_and_has_negatives() -> None:
    assert len(CASES) >= 30
    assert sum(1 for case in CASES if case[-1] is None) >= 10
