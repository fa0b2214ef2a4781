"""The web UI in a real browser (Debian's chromium driven by Playwright) against a real uvicorn:
log in, the story stream, a story's copies side by side, feeds, topics, alerts; stored hostile
HTML never runs. Screenshots of every page go to test-artifacts/screenshots/."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

from api.server import make_server
from tests.conftest import make_settings
from tests.test_api_data import seed

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live(sqlite_url: str):  # noqa: ANN201
    seeded = seed(sqlite_url)
    port = _free_port()
    server = make_server(make_settings(sqlite_url), host="127.0.0.1", port=port)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}", seeded
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def browser():  # noqa: ANN201
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip(f"chromium not found at {CHROMIUM} (apt-get install -y chromium)")
    playwright = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def test_pages_in_a_browser(live, browser) -> None:  # noqa: ANN001
    base, seeded = live
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    page.goto(base + "/")
    assert page.url.endswith("/login")
    page.screenshot(path=str(SHOTS / "login.png"), full_page=True)
    page.fill("#key", "ww_wrong")
    page.click("button[type=submit]")
    assert "unknown or revoked" in page.inner_text(".error")

    page.fill("#key", seeded.admin_key)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")
    assert page.evaluate("document.cookie") == ""  # HttpOnly
    cards = page.locator("#stories .story")
    assert cards.count() == 5
    assert "Countries agree draft treaty on animal disease data" in page.inner_text("#stories")
    assert "3 copies" in page.inner_text("#stories")
    page.screenshot(path=str(SHOTS / "stories.png"), full_page=True)

    page.fill("input[name=q]", "livestock")
    page.select_option("select[name=topic]", str(seeded.topic_id))
    page.click("form.search button")
    page.wait_for_load_state()
    assert page.locator("#stories .story").count() == 1
    page.screenshot(path=str(SHOTS / "search.png"), full_page=True)

    page.goto(f"{base}/stories/{seeded.wire_story}")
    copies = page.locator(".copy")
    assert copies.count() == 3
    text = page.inner_text(".copies-grid")
    for outlet in ("Wire Daily", "The Courier", "Metro News"):
        assert outlet in text
    assert "representative copy" in text and "new headline" in text
    page.screenshot(path=str(SHOTS / "story.png"), full_page=True)

    for path, name in ((f"/stories/{seeded.hostile_story}", "hostile-story"),
                       (f"/articles/{seeded.hostile_article}", "hostile-article")):
        page.goto(base + path)
        page.wait_for_load_state("load")
        assert page.title() != "pwned" and page.evaluate("document.title") != "1"
        assert '<script>document.title="pwned"</script>' in page.inner_text("h1")  # shown as text
        assert page.locator("main script").count() == 0
        assert page.locator("[onerror]").count() == 0
        assert page.locator("a[href^='javascript:']").count() == 0
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    assert dialogs == []

    page.goto(base + "/feeds")
    assert page.locator("table.feeds tbody tr").count() == 3
    page.screenshot(path=str(SHOTS / "feeds.png"), full_page=True)

    page.goto(base + "/topics")
    page.fill("textarea[name=test]", "treaty OR rates")
    page.click(".dry-run button")
    page.wait_for_load_state()
    assert "2 of the last 5 stories match" in page.inner_text(".dry-run")
    page.screenshot(path=str(SHOTS / "topics.png"), full_page=True)
    page.fill("textarea[name=test]", "Iran AND (strike")
    page.click(".dry-run button")
    page.wait_for_load_state()
    assert "unbalanced parenthesis" in page.inner_text(".dry-run .error")

    page.goto(base + "/subscriptions")
    assert "Delivery log" in page.inner_text("main")
    page.screenshot(path=str(SHOTS / "subscriptions.png"), full_page=True)

    page.click("button.link")  # log out
    page.wait_for_url(base + "/login")
    page.goto(base + "/feeds")
    assert page.url.endswith("/login")
