"""Real Wirewatch processes (`wirewatch worker`, `scheduler`, …) started and stopped by tests."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

WIREWATCH = str(Path(sys.executable).with_name("wirewatch"))
# One Redis database per pytest-xdist worker (gw0 → 9, gw1 → 10, …), so parallel test workers'
# Celery queues never meet.
_XDIST = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
TEST_REDIS = os.environ.get("WIREWATCH_TEST_REDIS", f"redis://127.0.0.1:6379/{9 + _XDIST}")


def wirewatch_env(database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIREWATCH_")}
    env.update(
        {
            "WIREWATCH_DATABASE_URL": database_url,
            "WIREWATCH_ALLOW_PRIVATE_NETWORKS": "true",  # tests serve fixtures from 127.0.0.1
            "WIREWATCH_LOG_LEVEL": "INFO",
            "WIREWATCH_SCHEDULER_TICK": "0.5",
            "WIREWATCH_RESPECT_ROBOTS": "false",
        }
    )
    env.update(extra)
    return env


def run_cli(
    args: list[str], env: dict[str, str], *, timeout: float = 120, input: str | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [WIREWATCH, *args], env=env, capture_output=True, text=True, timeout=timeout, input=input
    )


class Processes:
    """Starts processes with their output in files; stops every one of them at the end."""

    def __init__(self, logdir: Path) -> None:
        self.logdir = logdir
        self.procs: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = open(self.logdir / f"{name}.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen(
            [WIREWATCH, *args],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs.append((name, proc))
        return proc

    def log(self, name: str) -> str:
        return (self.logdir / f"{name}.log").read_text(errors="replace")

    def stop(self, proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
        if proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, sig)
            proc.wait(timeout=timeout)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    def stop_all(self) -> None:
        for _, proc in reversed(self.procs):
            self.stop(proc)


def wait_for(
    condition: Callable[[], object],
    *,
    timeout: float,
    interval: float = 0.3,
    message: str = "condition",
) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")
