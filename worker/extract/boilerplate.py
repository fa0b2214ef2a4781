"""Phrase rules for chrome that survives extraction: share prompts, ads, newsletters, credits."""

from __future__ import annotations

import re

# A block is judged by these rules only when it is short: chrome is terse, prose is not.
MAX_CHROME_WORDS = 40
MAX_CHROME_CHARS = 600  # cheap pre-check: no 40-word block is longer

_FLAGS = re.IGNORECASE | re.UNICODE

# Whole-block matches: the block is nothing but this prompt.
_CHROME_EXACT = re.compile(
    r"""^[\W_]*(?:
        advertisements?|advertising|sponsored(?:\ content)?|ad|story\ continues\ below
      | connect\ with\ us|share(?:\ this)?(?:\ (?:article|story|post|page))?(?:\ on\ \w+)?
      | [\d,.]+[km]?\ shares?|shares?|tweet|e-?mail|print|save|copy\ link|whatsapp|pin\ it
      | comments?|[\d,.]+[km]?\ comments?|view\ comments|show\ comments
      | add\ a\ comment|post\ a\ comment
      | click\ to\ comment|leave\ a\ (?:reply|comment)|reply|cancel\ reply|log\ in\ to\ comment
      | tags?|topics?|categories|related
      | related\ (?:articles?|stories|posts?|content|topics|coverage)
      | you\ (?:may|might)\ (?:also\ )?(?:like|enjoy)|recommended(?:\ for\ you)?|more|more\ stories
      | read\ more|see\ more|see\ also|also\ read|don'?t\ miss|must\ read|trending(?:\ now)?
      | most\ (?:read|popular|viewed)(?:\ in\ [\w\ ]+)?|latest(?:\ news|\ stories)?|top\ stories
      | published|updated|posted|published\ on|updated\ on|posted\ on|by
      | what\ do\ you\ think\??|tell\ us\ what\ you\ think\W*|have\ your\ say
      | follow\ us|subscribe|sign\ up|sign\ in|log\ in|register|skip\ to\ (?:main\ )?content
      | previous(?:\ article|\ post)?|next(?:\ article|\ post)?|back\ to\ top|image|photo|video
    )[\W_]*$""",
    _FLAGS | re.VERBOSE,
)

# Block starts that introduce chrome: a label followed by a link or a date.
_CHROME_PREFIX = re.compile(
    r"""^[\W_]*(?:
        related(?:\ (?:articles?|stories|posts?|content|reading))?\s*:
      | (?:read|see|watch|listen)\ (?:more|also|next)\s*:|also\ (?:read|see|on\ [\w.]+)\b
      | more\s*:|more\ on\ this\ story|recommended\s*:|don'?t\ miss\s*:|trending\s*:
      | filed\ under\s*:|tags?\s*:|topics?\s*:|categor(?:y|ies)\s*:|keywords\s*:
      | share\ (?:this|on|via)\b|click\ to\ (?:share|tweet|email|print)
      | reading\ time\s*:|(?:\d+\ )?min(?:ute)?s?\ read\b
    )""",
    _FLAGS | re.VERBOSE,
)

# "Published on March 4, 2024", "Updated: 10:32 GMT": a publishing-time line and nothing else.
_TIMESTAMP_LINE = re.compile(
    r"^[\W_]*(?:first\ )?(?:published|posted|updated|last\ updated|modified)\b(?:\ on|\ at)?"
    r"\s*[:\-–—]?\s*[\w\ ,./:|+\-–—]{0,60}$",
    _FLAGS,
)

# Anywhere in a short block: prompts that are never article prose. Each rule comes with a word
# that every match of it contains: the costly pattern runs only on blocks holding one of them.
_ANYWHERE_RULES = (
    ("email address", r"your\ email\ address\ will\ not\ be\ published"),
    ("required fields", r"required\ fields\ are\ marked"),
    ("newsletter", r"(?:sign\ up|subscribe)\b[^.]{0,80}\bnewsletters?\b"),
    ("newsletter", r"\bnewsletters?\b[^.]{0,80}\b(?:sign\ up|subscribe)"),
    ("inbox", r"delivered\ (?:straight\ )?to\ your\ inbox|in\ your\ inbox"),
    ("cookie", r"(?:we|this\ (?:site|website))\ uses?\ cookies|accept\ (?:all\ )?cookies"),
    ("cookie", r"cookie\ (?:policy|settings)"),
    ("non-commercial", r"for\ your\ personal,?\ non-commercial\ use\ only"),
    ("rights reserved", r"all\ rights\ reserved"),
    ("like this", r"like\ this\ (?:story|article)\?"),
    ("with a friend", r"share\ it\ with\ a\ friend"),
    (
        "follow",
        r"follow\ (?:us|@?\w+(?:\ \w+){0,4})"
        r"\ on\ (?:twitter|facebook|instagram|linkedin|youtube|tiktok|x\b)",
    ),
    ("follow", r"follow\ (?:him|her|them|us)\ @\w+"),
    ("twitter", r"on\ twitter\ @\w+|twitter\.com/\w+"),
    ("@", r"(?:e-?mail|reach)\ (?:him|her|them|the\ (?:reporters?|writers?|author))\ at\ \S+@"),
    ("@", r"^\S+@\S+\.\w+$|^@\w+$"),
    ("appeared", r"this\ (?:article|story)\ (?:originally\ )?appeared\ (?:on|in)\b"),
    ("get ", r"get\ (?:the\ )?(?:latest|best)\ (?:updates|news|stories)\b"),
    ("enjoyed this", r"if\ you\ enjoyed\ this\ (?:article|story)"),
    ("journalism", r"support\ (?:our|independent)\ journalism"),
)
_CHROME_ANYWHERE = re.compile("|".join(f"(?:{rule})" for _, rule in _ANYWHERE_RULES), _FLAGS)
_ANYWHERE_HINTS = tuple(dict.fromkeys(hint for hint, _ in _ANYWHERE_RULES))


def _folded(text: str) -> str:
    """Lower-cased text in which every case-insensitive match of a hint is a plain substring.

    casefold() maps "ſ" and the Kelvin sign like the regex engine does; "ı" and the dot of "İ"
    are the regex engine's remaining equivalents of ASCII letters.
    """
    return text.casefold().replace("ı", "i").replace("\u0307", "")


# Credit lines: kept out of the article text, but read first by wire-source detection.
_CREDIT = re.compile(
    r"""^[\W_]*(?:
        (?:source|sources|via|credit|courtesy)\s*:\s*[\w&.,'’\-\ ]{1,80}$
      | \(?(?:additional\ |writing\ and\ )?(?:reporting|writing|compiled|edited)\ by\b.*
      | [\w.’'\-\ ,&]{2,160}\ contributed
        \ (?:reporting|to\ (?:this|the)\ (?:report|story|article)).*
      | (?:©|\(c\)|copyright)\s.*
    )$""",
    _FLAGS | re.VERBOSE,
)

_WORD = re.compile(r"\w+")
_SUFFIXES = re.compile(r"\s*(?:click\s+to\s+tweet|tweet\s+this)\s*$", _FLAGS)


def word_count(text: str) -> int:
    """Number of words in `text`."""
    return len(_WORD.findall(text))


def is_chrome(text: str) -> bool:
    """True when a short block is site chrome rather than article prose."""
    text = text.strip()
    if not text:
        return True
    if len(text) > MAX_CHROME_CHARS or word_count(text) > MAX_CHROME_WORDS:
        return False
    if _TIMESTAMP_LINE.match(text) and any(c.isdigit() for c in text) and len(text) < 80:
        return True
    if _CHROME_EXACT.match(text) or _CHROME_PREFIX.match(text):
        return True
    folded = _folded(text)
    return any(hint in folded for hint in _ANYWHERE_HINTS) and bool(_CHROME_ANYWHERE.search(text))


def is_credit_line(text: str) -> bool:
    """True for attribution lines: "Source: Reuters", "Reporting by …; Editing by …", "© AFP"."""
    text = text.strip()
    if not text or len(text) > MAX_CHROME_CHARS:
        return False
    return word_count(text) <= MAX_CHROME_WORDS and bool(_CREDIT.match(text))


def strip_suffixes(text: str) -> str:
    """Remove trailing share prompts glued to a sentence ("… Click To Tweet")."""
    if not text.rstrip().lower().endswith(("tweet", "tweet this")):
        return text
    return _SUFFIXES.sub("", text)
