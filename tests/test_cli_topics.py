"""`wirewatch topics | subscribe | subscriptions | deliveries` as a user runs them."""

from __future__ import annotations

import json

from tests.support.processes import run_cli, wirewatch_env


def test_topics_and_subscriptions_from_the_command_line(sqlite_url) -> None:
    env = wirewatch_env(sqlite_url)
    added = run_cli(["topics", "add", "rates", "rates AND (bank OR inflation)"], env)
    assert added.returncode == 0 and "added topic 1" in added.stdout

    bad = run_cli(["topics", "add", "broken", "rates AND"], env)
    assert bad.returncode == 1
    assert "position 6" in bad.stderr and "^" in bad.stderr

    topics = json.loads(run_cli(["topics", "list", "--json"], env).stdout)
    assert [t["name"] for t in topics] == ["rates"]

    sub = run_cli(["subscribe", "rates", "--webhook", "https://127.0.0.1:9/ww",
                   "--digest", "1h"], env)
    assert sub.returncode == 0, sub.stderr
    assert "webhook secret (shown once): whsec_" in sub.stdout
    two = run_cli(["subscribe", "rates", "--email", "a@example.org", "--webhook", "https://x"], env)
    assert two.returncode == 2 and "exactly one" in two.stderr
    unknown = run_cli(["subscribe", "nope", "--email", "a@example.org"], env)
    assert unknown.returncode == 1 and "no topic 'nope'" in unknown.stderr
    bad_mail = run_cli(["subscribe", "rates", "--email", "not an address"], env)
    assert bad_mail.returncode == 1 and "email" in bad_mail.stderr

    (listed,) = json.loads(run_cli(["subscriptions", "list", "--json"], env).stdout)
    assert listed["channel"] == "webhook" and listed["digest_seconds"] == 3600
    assert "secret" not in listed
    assert json.loads(run_cli(["deliveries", "--failed", "--json"], env).stdout) == []
    assert run_cli(["topics", "remove", "1"], env).returncode == 0
    assert json.loads(run_cli(["subscriptions", "--json"], env).stdout) == []
