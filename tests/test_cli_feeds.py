"""The `wirewatch feeds` commands as a user runs them: real processes, clear errors, exit codes."""

from __future__ import annotations

import json

import pytest

from tests.support.processes import run_cli, wirewatch_env

OPML = """<?xml version="1.0"?><opml version="2.0"><head><title>mine</title></head><body>
<outline text="News"><outline text="A" title="Outlet A" type="rss" xmlUrl="http://a.example/feed"/>
<outline text="B" xmlUrl="https://B.example:8443/atom.xml#frag"/></outline>
<outline text="dup" xmlUrl="http://a.example/feed"/>
<outline text="bad" xmlUrl="javascript:alert(1)"/>
<outline text="folder only"/></body></opml>"""


@pytest.fixture
def env(db_url: str) -> dict[str, str]:
    return wirewatch_env(db_url)


def test_add_list_export_import_round_trip(env, tmp_path) -> None:
    added = run_cli(["feeds", "add", "http://a.example/feed", "not a url", "ftp://x.example/f",
                     "http://a.example/feed"], env)
    assert added.returncode == 1
    assert "added feed 1: http://a.example/feed" in added.stdout
    assert "not a url" in added.stderr and "unsupported scheme 'ftp'" in added.stderr
    assert "already subscribed" in added.stderr

    opml = tmp_path / "subs.opml"
    opml.write_text(OPML)
    imported = run_cli(["feeds", "import", str(opml)], env)
    assert imported.returncode == 0, imported.stderr
    assert "imported 1 feeds (1 already subscribed, 1 skipped)" in imported.stdout
    assert "javascript" in imported.stderr

    listed = json.loads(run_cli(["feeds", "list", "--json"], env).stdout)
    assert [f["url"] for f in listed] == ["http://a.example/feed", "https://b.example:8443/atom.xml"]
    keys = {"id", "url", "title", "entries", "last_polled_at", "next_poll_at", "error_count",
            "last_error", "disabled"}
    assert keys <= set(listed[0])
    assert listed[0]["entries"] == 0 and listed[0]["last_polled_at"] is None

    table = run_cli(["feeds", "list"], env)
    assert table.returncode == 0 and "2 feeds" in table.stdout and "never" in table.stdout

    exported = run_cli(["feeds", "export"], env).stdout
    assert exported.startswith("<?xml") and 'xmlUrl="https://b.example:8443/atom.xml"' in exported
    again = tmp_path / "again.opml"
    again.write_text(exported)
    reimport = run_cli(["feeds", "import", str(again)], env)
    assert "imported 0 feeds (2 already subscribed" in reimport.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "file is empty"),
        ("<html><body>hello</body></html>", "not OPML: the root element is <html>"),
        ("this is not xml", "not XML"),
        ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
         '<opml><body><outline xmlUrl="http://x/&b;"/></body></opml>', "declares a DTD"),
        ('<opml version="2.0"><head/></opml>', "no <body>"),
    ],
)
def test_import_refuses_what_is_not_opml(sqlite_url, tmp_path, content, message) -> None:
    env = wirewatch_env(sqlite_url)
    path = tmp_path / "bad.opml"
    path.write_text(content)
    result = run_cli(["feeds", "import", str(path)], env)
    assert result.returncode == 1
    assert message in result.stderr
    assert json.loads(run_cli(["feeds", "list", "--json"], env).stdout) == []


def test_missing_file_and_unknown_ids_are_clear_errors(env, tmp_path) -> None:
    result = run_cli(["feeds", "import", str(tmp_path / "nope.opml")], env)
    assert result.returncode == 1 and "cannot read" in result.stderr
    for command in (["feeds", "remove", "42"], ["feeds", "enable", "42"]):
        result = run_cli(command, env)
        assert result.returncode == 1 and "no feed with id 42" in result.stderr


def test_unmigrated_database_and_bad_settings_name_the_fix(tmp_path) -> None:
    env = wirewatch_env(f"sqlite:///{tmp_path / 'new.db'}")
    result = run_cli(["feeds", "list"], env)
    assert result.returncode == 2 and "run `wirewatch db upgrade` first" in result.stderr
    result = run_cli(["run", "--once"], env)
    assert result.returncode == 2 and "wirewatch db upgrade" in result.stderr
    env["WIREWATCH_HOST_CONCURRENCY"] = "lots"
    result = run_cli(["feeds", "list"], env)
    assert result.returncode == 2 and "WIREWATCH_HOST_CONCURRENCY" in result.stderr


def test_a_fixed_interval_can_be_set_and_given_back(sqlite_url) -> None:
    env = wirewatch_env(sqlite_url)
    assert run_cli(["feeds", "add", "--interval", "10m", "http://a.example/f"], env).returncode == 0
    (feed,) = json.loads(run_cli(["feeds", "list", "--json"], env).stdout)
    assert feed["interval_override"] == 600
    assert run_cli(["feeds", "interval", "1", "auto"], env).returncode == 0
    (feed,) = json.loads(run_cli(["feeds", "list", "--json"], env).stdout)
    assert feed["interval_override"] is None
    bad = run_cli(["feeds", "interval", "1", "soon"], env)
    assert bad.returncode == 2 and "not an interval" in bad.stderr
