"""Processes for the polling benchmarks: the local newsroom, measured `wirewatch` commands, RSS.

A measured command reports its wall time and its own peak RSS (from `wait4`, so it is that one
process, not the largest child seen so far). Long-lived processes (Celery workers) are sampled
with psutil: the peak of the summed RSS of each process tree.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import psutil

BENCH = Path(__file__).resolve().parent
WIREWATCH = str(Path(sys.executable).with_name("wirewatch"))
MiB = 1024 * 1024


@dataclass
class Measured:
    returncode: int
    stdout: str
    stderr: str
    wall: float
    peak_rss_mib: float
    cpu: float = 0.0  # user + system seconds of the process

    def json(self) -> dict:
        """The last line of stdout as JSON (what `--json` commands print); raises if it failed."""
        if self.returncode != 0:
            raise RuntimeError(f"wirewatch failed ({self.returncode}):\n{self.stderr[-3000:]}")
        return json.loads(self.stdout.strip().splitlines()[-1])


def bench_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of every benchmark process: only our own WIREWATCH_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIREWATCH_")}
    env.update(
        {
            "WIREWATCH_DATABASE_URL": database_url,
            # Every feed of the benchmark lives on 127.0.0.1: the guard is switched off on purpose.
            "WIREWATCH_ALLOW_PRIVATE_NETWORKS": "true",
        }
    )
    env.update(extra)
    return env


def run_measured(
    args: list[str], *, env: dict[str, str], timeout: float = 3600, prefix: tuple[str, ...] = ()
) -> Measured:
    """Run `wirewatch ARGS` to the end; wall time, CPU and peak RSS of that process (wait4).
    `prefix`: a command that execs it in the same process (e.g. taskset)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen([*prefix, WIREWATCH, *args], env=env, stdout=out, stderr=err)
        killer = threading.Timer(timeout, proc.kill)
        killer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            killer.cancel()
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Measured(
            returncode=proc.returncode,
            stdout=out.read().decode(errors="replace"),
            stderr=err.read().decode(errors="replace"),
            wall=wall,
            peak_rss_mib=usage.ru_maxrss * 1024 / MiB,  # Linux reports KiB
            cpu=usage.ru_utime + usage.ru_stime,
        )


def checked(result: Measured, what: str) -> Measured:
    if result.returncode != 0:
        sys.exit(f"{what} failed (exit {result.returncode}):\n{result.stderr[-3000:]}")
    return result


class TreeRSS:
    """Samples the summed RSS of some process trees every `interval` seconds; keeps the peak."""

    def __init__(self, pids: list[int], *, interval: float = 0.2) -> None:
        self.pids = pids
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_mib(self) -> float:
        return self.peak / MiB

    def _run(self) -> None:
        while not self._stop.is_set():
            total = 0
            for pid in self.pids:
                with contextlib.suppress(psutil.Error):
                    root = psutil.Process(pid)
                    for proc in [root, *root.children(recursive=True)]:
                        with contextlib.suppress(psutil.Error):
                            total += proc.memory_info().rss
            self.peak = max(self.peak, total)
            self._stop.wait(self.interval)


class Newsroom:
    """bench/newsroom_server.py in its own process, on a socket bound here (no port race)."""

    def __init__(self, *, items: int, logdir: Path) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4096)
        self.port = self.sock.getsockname()[1]
        self.log = open(logdir / "newsroom.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [
                sys.executable,
                str(BENCH / "newsroom_server.py"),
                "--fd",
                str(self.sock.fileno()),
                "--items",
                str(items),
            ],
            pass_fds=(self.sock.fileno(),),
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                self.stats()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the newsroom server did not start") from None
                time.sleep(0.1)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stats(self) -> dict[str, int]:
        with urllib.request.urlopen(self.url("/stats"), timeout=10) as response:
            return json.loads(response.read())

    def close(self) -> None:
        stop(self.proc)
        self.sock.close()
        self.log.close()


def start(args: list[str], *, env: dict[str, str], log: Path) -> subprocess.Popen:
    """A long-lived `wirewatch ARGS` in its own session, output in `log`."""
    with open(log, "wb") as out:
        return subprocess.Popen(
            [WIREWATCH, *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(proc: subprocess.Popen, *, timeout: float = 20) -> None:
    """SIGTERM to the process (its whole session if it leads one), SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    group = os.getpgid(proc.pid) == proc.pid
    kill = (lambda sig: os.killpg(proc.pid, sig)) if group else proc.send_signal
    try:
        kill(signal.SIGTERM)
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            kill(signal.SIGKILL)
        proc.wait(timeout=10)
