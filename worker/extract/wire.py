"""Name the agency a story comes from (datelines, credit lines, bylines), ignoring mentions."""

from __future__ import annotations

import re

# Canonical agency name -> spellings seen in datelines, credits and bylines (regex fragments).
AGENCIES: dict[str, tuple[str, ...]] = {
    "Reuters": (r"Reuters", r"Thomson\ Reuters", r"Reuters\ Staff"),
    "AP": (r"AP", r"(?:The\ )?Associated\ Press", r"AP\ News"),
    "AFP": (r"AFP", r"Agence\ France[-\ ]Presse", r"AFP[-/ ]Relaxnews", r"AFP[-/ ]JIJI"),
    "UPI": (r"UPI", r"United\ Press\ International"),
    "DPA": (r"dpa", r"DPA", r"Deutsche\ Presse-Agentur"),
    "ANSA": (r"ANSA",),
    "EFE": (r"EFE", r"Agencia\ EFE"),
    "PA": (r"PA", r"PA\ Media", r"PA\ Wire", r"(?:The\ )?Press\ Association"),
    "Bloomberg": (r"Bloomberg", r"Bloomberg\ News", r"Bloomberg\ L\.?P\.?"),
    "Xinhua": (r"Xinhua", r"Xinhua\ News\ Agency"),
    "Kyodo": (r"Kyodo", r"Kyodo\ News"),
    "Yonhap": (r"Yonhap", r"Yonhap\ News\ Agency"),
    "ANI": (r"ANI",),
    "PTI": (r"PTI", r"Press\ Trust\ of\ India"),
    "IANS": (r"IANS",),
    "TASS": (r"TASS", r"ITAR-TASS"),
    "CNA": (r"CNA",),
    "Anadolu": (r"Anadolu", r"Anadolu\ Agency", r"AA"),
    "Europa Press": (r"Europa\ Press",),
    "Canadian Press": (r"(?:The\ )?Canadian\ Press", r"CP"),
    "AAP": (r"AAP", r"Australian\ Associated\ Press"),
}
# Names that are ordinary words or initials too: trusted in datelines and exact bylines only.
_AMBIGUOUS = {"PA", "AA", "CP", "ANI", "CNA", "dpa"}


def _alternation(*, strict: bool) -> str:
    parts = []
    for aliases in AGENCIES.values():
        parts += [a for a in aliases if not (strict and a in _AMBIGUOUS)]
    return "|".join(sorted(parts, key=len, reverse=True))


_ANY = _alternation(strict=False)
_SAFE = _alternation(strict=True)
# Short codes must match in their own case ("AP", "dpa"); longer names in any case.
_FULL = [
    (name, re.compile(alias, 0 if len(alias) <= 4 else re.IGNORECASE))
    for name, aliases in AGENCIES.items()
    for alias in aliases
]

# "LONDON (Reuters) -", "WASHINGTON, March 3 (AP) —", "(UPI) --", "BEIJING, Jan. 5 (Xinhua) --"
_DATELINE = re.compile(
    rf"^[^\n()]{{0,80}}\(\s*({_ANY})(?:\s*/\s*[\w\ ]+)?\s*\)\s*\.?\s*(?:[-–—:]+|$)", re.UNICODE
)
# "LONDON, AFP -" / "PARIS, 3 mars (AFP) -" handled above; "PARIS — AFP —" style:
_DATELINE_DASH = re.compile(rf"^[A-Z][A-Z .,'-]{{1,40}}\s*[-–—]\s*({_SAFE})\s*[-–—]")
_CREDIT_PATTERNS = (
    re.compile(rf"^(?:source|sources|credit|via)\s*:\s*({_ANY})\b", re.IGNORECASE),
    re.compile(rf"^[-–—]+\s*({_ANY})\s*$"),
    re.compile(rf"[-–—]\s*({_SAFE})\s*$"),
    re.compile(rf"^(?:©|\(c\)|copyright)\s*(?:\d{{4}}\s*)?(?:the\s+)?({_SAFE})\b", re.IGNORECASE),
    re.compile(rf"^copyright\b.{{0,40}}\b({_SAFE})\b", re.IGNORECASE),
    re.compile(rf"^(?:the\s+)?({_SAFE})\s+(?:writers?\s+.{{0,200}})?contributed\b", re.IGNORECASE),
    re.compile(rf"^({_SAFE})\s*$"),
)
_REUTERS_CREDIT = re.compile(r"\breporting by\b.{0,300}\b(?:editing|writing) by\b", re.IGNORECASE)
_TITLE_SUFFIX = re.compile(rf"\s[|\-–—]\s*({_SAFE})\s*$")


def _canonical(alias: str) -> str | None:
    alias = " ".join(alias.split())
    return next((name for name, pattern in _FULL if pattern.fullmatch(alias)), None)


def _byline_agency(byline: str) -> str | None:
    """Agency named as a whole byline or as one of its parts ("Jane Doe, Reuters")."""
    cleaned = re.sub(r"^\s*by\s+", "", byline.strip(), flags=re.IGNORECASE)
    parts = [cleaned] + re.split(r"\s*(?:[,;|/]|\band\b|\bfor\b)\s*", cleaned)
    for part in parts:
        part = re.sub(
            r"\s+(?:staff|writers?|reporters?|correspondents?)$", "", part.strip(), flags=re.I
        )
        if name := _canonical(part):
            return name
    return None


def detect_wire_source(
    text: str,
    *,
    byline: str | None = None,
    site_name: str | None = None,
    title: str | None = None,
    credits: list[str] | None = None,
) -> str | None:
    """The agency the story is from, or None; mentions such as "Reuters reported" do not count."""
    paragraphs = [p.strip() for p in (text or "").split("\n") if p.strip()]
    for paragraph in paragraphs[:3]:
        match = _DATELINE.match(paragraph) or _DATELINE_DASH.match(paragraph)
        if match and (name := _canonical(match.group(1))):
            return name
    tail = [p for p in paragraphs[-4:] + paragraphs[:2] if len(p) <= 400]
    for line in list(credits or []) + tail:
        line = line.strip(" ()[]")
        for pattern in _CREDIT_PATTERNS:
            match = pattern.search(line)
            if match and (name := _canonical(match.group(1))):
                return name
        if _REUTERS_CREDIT.search(line):
            return "Reuters"
    for value in (byline, site_name):
        if value and (name := _byline_agency(value)):
            return name
    if title and (match := _TITLE_SUFFIX.search(title)):
        return _canonical(match.group(1))
    return None
