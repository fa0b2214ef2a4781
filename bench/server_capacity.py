"""Conditional GETs per second a local server sustains: the uvicorn newsroom vs ThreadingHTTPServer.

Usage: .venv/bin/python bench/server_capacity.py [--seconds 3] [--clients 2] [--threads 8]

Tells whether the newsroom of bench/polling.py can keep up with Wirewatch: each server runs in its
own process; client processes (threads with keep-alive http.client connections, far lighter than
Wirewatch's gate) send `If-None-Match` GETs that are answered 304 for `--seconds`.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.newsroom_server import etag_for  # noqa: E402
from bench.procs import Newsroom, stop  # noqa: E402


class Handler(BaseHTTPRequestHandler):
    """The newsroom's 304 answer, from the standard library's threaded server."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802
        n = int(self.path.rsplit("/", 1)[-1].split(".")[0])
        self.send_response(304 if etag_for(n) in (self.headers.get("if-none-match") or "") else 404)
        self.send_header("ETag", etag_for(n))
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def serve_threading(fd: int) -> None:
    sock = socket.socket(fileno=fd)
    server = ThreadingHTTPServer(sock.getsockname(), Handler, bind_and_activate=False)
    server.socket = sock
    server.daemon_threads = True
    server.serve_forever()


def client(port: int, threads: int, seconds: float, counts: multiprocessing.Queue) -> None:
    done = [0] * threads

    def loop(k: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        deadline = time.monotonic() + seconds
        n = k
        while time.monotonic() < deadline:
            conn.request("GET", f"/feed/{n}.xml", headers={"If-None-Match": etag_for(n)})
            response = conn.getresponse()
            response.read()
            assert response.status == 304, response.status
            done[k] += 1
            n += threads

    workers = [threading.Thread(target=loop, args=(k,)) for k in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    counts.put(sum(done))


def measure(port: int, *, clients: int, threads: int, seconds: float) -> float:
    counts: multiprocessing.Queue = multiprocessing.Queue()
    procs = [
        multiprocessing.Process(target=client, args=(port, threads, seconds, counts))
        for _ in range(clients)
    ]
    for p in procs:
        p.start()
    total = sum(counts.get() for _ in procs)
    for p in procs:
        p.join()
    return total / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument("--threads", type=int, default=8, help="connections per client process")
    args = parser.parse_args()
    opts = {"clients": args.clients, "threads": args.threads, "seconds": args.seconds}
    print(
        f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; {args.clients} client "
        f"processes x {args.threads} keep-alive connections, {args.seconds:g} s each"
    )

    newsroom = Newsroom(items=3, logdir=Path("/tmp"))
    try:
        print(f"  uvicorn newsroom (uvloop, httptools) {measure(newsroom.port, **opts):8.0f} req/s")
    finally:
        newsroom.close()

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    code = (
        f"import sys; sys.path.insert(0, {str(REPO)!r}); "
        f"from bench.server_capacity import serve_threading; serve_threading({sock.fileno()})"
    )
    server = subprocess.Popen([sys.executable, "-c", code], pass_fds=(sock.fileno(),))
    try:
        time.sleep(1.0)
        rate = measure(sock.getsockname()[1], **opts)
        print(f"  ThreadingHTTPServer                  {rate:8.0f} req/s")
    finally:
        stop(server)
        sock.close()


if __name__ == "__main__":
    main()
