"""Real-weight pages: the chrome a live news site wraps around an article, generated.

The demo templates hold the article and a little chrome (about 8 KB, 85 elements). A live news
page is heavier: the pages of our two extraction corpora have a median of 140 KB, 811 elements,
130 links and 41 KB of inline script and style (p25-p75: 83-254 KB, 539-1,080 elements). A
cleaner's cost grows with the page, so a pipeline benchmark on light pages overstates what
everything around the cleaner costs next to it. `dress` adds what such pages carry, around the
same article and in the same proportions: meta and link tags, inline CSS and scripts (site
configuration, analytics, ads), JSON-LD, a mega-menu, a breaking-news bar, share buttons with
SVG icons, a most-read rail and a more-from grid of teasers, a footer of link columns, a cookie
banner. `shape` measures a page the way the figures above were measured.

The same (outlet, story) always dresses alike; teaser text is drawn from the same vocabulary as
the articles, as on a real site, where the rails compete with the text for the cleaner.
"""

from __future__ import annotations

import json
import random
import zlib
from html import escape

SECTIONS = (
    "World",
    "UK",
    "US",
    "Business",
    "Politics",
    "Tech",
    "Science",
    "Health",
    "Sport",
    "Culture",
    "Opinion",
    "Travel",
)
UTILITY = (
    "Sign in",
    "Subscribe",
    "Newsletters",
    "Podcasts",
    "Puzzles",
    "Jobs",
    "Events",
    "Shop",
    "Edition: International",
    "Contact us",
)
ICON = (
    '<svg class="icon" viewBox="0 0 24 24" aria-hidden="true"><path d="M{a} {b}h{c}v{d}H{a}z'
    'm0 {e}h{c}v2H{a}z"></path></svg>'
)


def _rng(*parts: object) -> random.Random:
    return random.Random(zlib.crc32("/".join(map(str, parts)).encode()))


def _words(rng: random.Random, vocab: list[str], lo: int, hi: int) -> str:
    return " ".join(rng.choices(vocab, k=rng.randint(lo, hi)))


def _css(rng: random.Random, n: int) -> str:
    props = (
        "margin",
        "padding",
        "color",
        "font-size",
        "line-height",
        "display",
        "width",
        "max-width",
        "border-bottom",
        "background",
    )
    rules = []
    for i in range(n):
        body = ";".join(f"{p}:{rng.randint(0, 40)}px" for p in rng.sample(props, 4))
        rules.append(f".c-{i:x} .el-{rng.randint(0, 999)}>a:hover{{{body}}}")
    return "".join(rules)


def _script_config(rng: random.Random, slug: str, n: int) -> str:
    config = {
        "site": slug,
        "ads": [
            {
                "slot": f"/2231/{slug}/{i}",
                "sizes": [[300, 250], [728, 90]],
                "targeting": {"pos": i, "kw": [f"k{rng.randint(0, 999)}" for _ in range(6)]},
            }
            for i in range(n)
        ],
        "experiments": {f"exp_{i}": rng.choice(("a", "b", "control")) for i in range(40)},
    }
    return "window.__SITE_CONFIG__ = " + json.dumps(config, separators=(",", ":")) + ";"


def _script_analytics(rng: random.Random, n: int) -> str:
    lines = [
        f"function t{i}(e,n){{var r=e.getAttribute('data-k{i}')||'';"
        f"return n.push({{event:'v{rng.randint(0, 9999)}',k:r,ts:Date.now()}}),r.length}}"
        for i in range(n)
    ]
    return "(function(w,d){" + "".join(lines) + "})(window,document);"


def _head(rng: random.Random, slug: str, headline: str, url: str) -> str:
    t = escape(headline)
    metas = [
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="description" content="{t}">',
        '<meta property="og:type" content="article">',
        f'<meta property="og:url" content="{escape(url)}">',
        f'<meta property="og:image" content="/{slug}/img/{rng.randint(1000, 9999)}.jpg">',
        '<meta name="twitter:card" content="summary_large_image">',
        f'<meta name="twitter:site" content="@{slug}"><meta name="twitter:title" content="{t}">',
        '<meta name="robots" content="max-image-preview:large">',
        f'<meta name="keywords" content="{", ".join(rng.sample(SECTIONS, 4))}">',
    ]
    metas += [f'<meta name="x-build-{i}" content="{rng.getrandbits(64):x}">' for i in range(12)]
    links = [
        f'<link rel="preload" href="/{slug}/static/{rng.getrandbits(40):x}.js" as="script">'
        for _ in range(6)
    ]
    links += [
        f'<link rel="stylesheet" href="/{slug}/static/{rng.getrandbits(40):x}.css">'
        for _ in range(3)
    ]
    links += [
        f'<link rel="icon" sizes="{s}x{s}" href="/{slug}/icon-{s}.png">' for s in (16, 32, 180)
    ]
    ld = json.dumps(
        {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": headline,
            "mainEntityOfPage": url,
            "publisher": {"@type": "Organization", "name": slug},
        }
    )
    return (
        "".join(metas) + "".join(links) + f"<style>{_css(rng, 160)}</style>"
        f"<script>{_script_config(rng, slug, 60)}</script>"
        f"<script>{_script_analytics(rng, 110)}</script>"
        f'<script type="application/ld+json">{ld}</script>'
    )


def _menu(rng: random.Random, vocab: list[str], slug: str) -> str:
    utility = "".join(
        f'<li><a href="/{slug}/{n}">{escape(u)}</a></li>' for n, u in enumerate(UTILITY)
    )
    columns = []
    for section in SECTIONS:
        sub = "".join(
            f'<li><a href="/{slug}/{section.lower()}/{n}">'
            f"{escape(_words(rng, vocab, 1, 2).title())}</a></li>"
            for n in range(5)
        )
        columns.append(
            f'<li class="menu-item has-children"><a href="/{slug}/{section.lower()}/">{section}</a>'
            f'<ul class="sub-menu">{sub}</ul></li>'
        )
    ticker = "".join(
        f'<li><a href="/{slug}/live/{n}"><span class="label">Live</span> '
        f"{escape(_words(rng, vocab, 5, 9).capitalize())}</a></li>"
        for n in range(5)
    )
    return (
        f'<div class="utility-bar"><ul>{utility}</ul></div>'
        f'<nav class="mega-menu" aria-label="Sections"><ul class="menu">{"".join(columns)}</ul>'
        "</nav>"
        f'<div class="breaking-bar"><strong>Breaking</strong><ul>{ticker}</ul></div>'
    )


def _share(rng: random.Random) -> str:
    buttons = "".join(
        f'<a class="share-{name}" href="#" rel="nofollow">'
        + ICON.format(
            a=rng.randint(1, 9),
            b=rng.randint(1, 9),
            c=rng.randint(4, 14),
            d=rng.randint(2, 8),
            e=rng.randint(3, 9),
        )
        + f"<span>{name.title()}</span></a>"
        for name in ("facebook", "x", "whatsapp", "linkedin", "email", "copy")
    )
    return f'<div class="share-tools">{buttons}</div>'


def _teaser(rng: random.Random, vocab: list[str], slug: str, n: int, *, text: bool) -> str:
    img = f"https://images.{slug}.example/{rng.getrandbits(64):x}/{rng.getrandbits(32):x}"

    def srcset(fmt: str) -> str:
        return ", ".join(
            f"{img}.{fmt}?auto=compress&width={w}&quality=75&crop=16:9&dpr=1&v={rng.getrandbits(20)}"
            f" {w}w"
            for w in (320, 480, 640, 960, 1280)
        )

    blurb = f"<p>{escape(_words(rng, vocab, 14, 24).capitalize())}.</p>" if text else ""
    return _wrap(
        rng,
        (
            f'<article class="teaser"><a href="/{slug}/story/{n}-{rng.getrandbits(24):x}.html">'
            f'<picture><source srcset="{srcset("webp")}" type="image/webp"><source '
            f'srcset="{srcset("avif")}" type="image/avif"><img src="{img}.jpg" '
            f'srcset="{srcset("jpg")}"'
            ' sizes="(min-width: 1024px) 33vw, 100vw" alt="" loading="lazy"></picture>'
            f"<h3>{escape(_words(rng, vocab, 6, 11).capitalize())}</h3></a>{blurb}"
            f'<span class="time">{rng.randint(1, 59)} min ago</span></article>'
        ),
        "card",
        2,
    )


def _rails(rng: random.Random, vocab: list[str], slug: str) -> str:
    most_read = "".join(
        f'<li><span class="rank">{n + 1}</span>{_teaser(rng, vocab, slug, n, text=False)}</li>'
        for n in range(10)
    )
    grid = "".join(_teaser(rng, vocab, slug, 100 + n, text=True) for n in range(14))
    return (
        f'<aside class="rail"><section class="most-read"><h2>Most read</h2><ol>{most_read}</ol>'
        f"</section></aside>"
        f'<section class="more-from"><h2>More stories</h2><div class="grid">{grid}</div></section>'
    )


def _footer(rng: random.Random, slug: str) -> str:
    cols = "".join(
        f'<div class="footer-col"><h4>{s}</h4><ul>'
        + "".join(f'<li><a href="/{slug}/{s.lower()}/{n}">{s} {n}</a></li>' for n in range(5))
        + "</ul></div>"
        for s in SECTIONS[:7]
    )
    social = "".join(
        f'<a href="#" class="social">{ICON.format(a=1, b=n, c=9, d=4, e=3)}</a>' for n in range(5)
    )
    return (
        f'<footer class="mega-footer">{cols}<div class="social-row">{social}</div>'
        '<p class="legal">Registered in England. All rights reserved. We use cookies to improve '
        "your experience and to show you relevant advertising.</p></footer>"
        '<div id="cookie-banner" role="dialog"><p>We and our partners store and access '
        "information on your device.</p><button>Accept all</button><button>Manage</button></div>"
        + "".join(
            f'<script src="/{slug}/static/{rng.getrandbits(40):x}.js" async></script>'
            for _ in range(5)
        )
        + f"<script>{_script_analytics(rng, 40)}</script>"
    )


def _wrap(rng: random.Random, inner: str, name: str, depth: int = 3) -> str:
    """`inner` in `depth` layout divs, each with a live site's class list and tracking data."""
    for level in range(depth):
        classes = " ".join(
            [f"l-{name}-{level}", f"u-{rng.choice(('mb', 'mt', 'px', 'py'))}-{rng.randint(1, 6)}"]
            + [f"css-{rng.getrandbits(28):x}" for _ in range(3)]
            + [f"js-{name}"]
        )
        data = (
            f'data-component="{name}-{level}" data-track-id="{rng.getrandbits(48):x}" '
            f'data-analytics=\'{{"zone":"{name}","pos":{level},"v":{rng.randint(1, 99)}}}\''
        )
        inner = f'\n{"  " * (depth - level)}<div class="{classes}" {data}>{inner}\n</div>'
    return inner


def dress(page: str, *, slug: str, key: str, headline: str, url: str, vocab: list[str]) -> str:
    """`page` (a demo template's HTML) with a live news site's weight of chrome around it."""
    rng = _rng(slug, key)
    head_end = page.index("</head>")
    body_start = page.index("<body>") + len("<body>")
    body_end = page.rindex("</body>")
    return (
        page[:head_end]
        + _head(rng, slug, headline, url)
        + page[head_end:body_start]
        + _wrap(rng, _menu(rng, vocab, slug), "masthead")
        + _wrap(rng, _share(rng), "share", 2)
        + page[body_start:body_end]
        + _wrap(rng, _rails(rng, vocab, slug), "rails")
        + _wrap(rng, _footer(rng, slug), "footer")
        + page[body_end:]
    )


def shape(page: bytes) -> dict[str, int]:
    """bytes, elements, links and inline script/style characters of one page."""
    import lxml.html

    tree = lxml.html.fromstring(page)
    return {
        "bytes": len(page),
        "elements": sum(1 for _ in tree.iter()),
        "links": sum(1 for _ in tree.iter("a")),
        "inline": sum(len(e.text or "") for e in tree.iter("script", "style")),
    }
