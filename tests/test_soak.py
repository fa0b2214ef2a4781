"""The soak benchmark's CI-sized run: 2,000 feeds publishing for two minutes against the
distributed mode (scheduler + 2 Celery workers on PostgreSQL and Redis), then the ledger.

The full run is `python bench/soak.py` (30 minutes); this one proves, on every commit, that under
continuous publishing (new items, wire copies, edits, deletions) every served item is stored once
and finished, and every alert is received once.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SOAK_REDIS = "redis://127.0.0.1:6379/15"  # apart from the test workers' databases (9, 10, …)


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_two_minute_soak_loses_and_repeats_nothing(tmp_path) -> None:
    out = tmp_path / "soak.json"
    proc = subprocess.run(
        [sys.executable, str(REPO / "bench" / "soak.py"), "--minutes", "2", "--json", str(out)],
        env={**_env(), "WIREWATCH_BENCH_SOAK_REDIS": SOAK_REDIS, "COLUMNS": "160"},
        capture_output=True,
        text=True,
        timeout=1100,
    )
    assert out.exists(), f"the soak did not finish:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    report = json.loads(out.read_text())
    ledger = report["ledger"]
    for name in (
        "lost_items",
        "duplicated_items",
        "unfinished",
        "failed_without_reason",
        "lost_alerts",
        "unsent_alerts",
        "duplicated_alerts",
    ):
        assert ledger[name] == [], f"{name}: {ledger[name][:10]}\n{proc.stdout[-4000:]}"
    assert report["ok"] and proc.returncode == 0, proc.stdout[-4000:]
    # Two minutes of publishing at 4 events a second: hundreds of items, most of them alerted.
    assert ledger["served"] >= 300 and ledger["stored"] >= ledger["served"]
    assert ledger["by_state"].get("processed", 0) >= 300
    assert report["alerts_received"] > 0


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("WIREWATCH_")}
