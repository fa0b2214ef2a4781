"""A raw local HTTP server for the gate's tests (every path is a function writing the reply),
and the gate's calls against it."""

from __future__ import annotations

import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from wirewatch.errors import FetchError
from wirewatch.net import Response, fetch
from wirewatch.settings import Settings

Handler = Callable[[BaseHTTPRequestHandler], None]

SETTINGS = Settings(
    allow_private_networks=True, connect_timeout=2, read_timeout=2, total_timeout=5,
    retry_after_cap=600, user_agent="WirewatchTest/1.0 (+https://wirewatch.invalid/test)",
)


def get(server: RawServer, path: str, **kwargs: object) -> Response:
    """`fetch` of the server's `path`, with SETTINGS and a 1 MiB cap unless given."""
    kwargs.setdefault("settings", SETTINGS)
    kwargs.setdefault("max_bytes", 1024 * 1024)
    return fetch(server.url(path), **kwargs)  # type: ignore[arg-type]


def fails(server: RawServer, path: str, **kwargs: object) -> FetchError:
    """The FetchError that `get` raises."""
    with pytest.raises(FetchError) as caught:
        get(server, path, **kwargs)
    return caught.value


class RawServer:
    """Serves `server.routes[path](request)` on `host` (127.0.0.1 or 127.0.0.2) in threads."""

    def __init__(self, host: str = "127.0.0.1", *, tls: ssl.SSLContext | None = None) -> None:
        self.routes: dict[str, Handler] = {}
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self.hangups: list[int] = []  # client ports whose connection has ended
        outer = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _dispatch(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                outer.requests.append(
                    (self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                handler = outer.routes.get(self.path.split("?", 1)[0])
                try:
                    if handler is None:
                        reply(self, 404, b"not found")
                    else:
                        handler(self)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

            do_GET = do_POST = do_HEAD = _dispatch  # noqa: N815

            def finish(self) -> None:
                super().finish()
                outer.hangups.append(self.client_address[1])

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = _QuietServer((host, 0), _Handler)
        self.httpd.daemon_threads = True
        self.host, self.port = host, self.httpd.server_address[1]
        self.scheme = "https" if tls else "http"
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str) -> str:
        return f"{self.scheme}://{self.host}:{self.port}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def get_request(self) -> tuple:
        conn, address = super().get_request()
        if conn.family in (socket.AF_INET, socket.AF_INET6):  # no 40 ms Nagle/delayed-ACK stalls
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn, address

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients of these tests hang up mid-response on purpose


def reply(request: BaseHTTPRequestHandler, status: int, body: bytes = b"",
          headers: dict[str, str] | None = None) -> None:
    """A complete response with Content-Length."""
    request.send_response(status)
    for name, value in (headers or {}).items():
        request.send_header(name, value)
    request.send_header("Content-Length", str(len(body)))
    request.end_headers()
    if request.command != "HEAD":
        request.wfile.write(body)


def chunked_forever(request: BaseHTTPRequestHandler, chunk: bytes = b"x" * 65536) -> None:
    """A chunked body that never ends (until the client hangs up)."""
    request.send_response(200)
    request.send_header("Transfer-Encoding", "chunked")
    request.end_headers()
    frame = b"%x\r\n%s\r\n" % (len(chunk), chunk)
    while True:
        request.wfile.write(frame)


def trickle(request: BaseHTTPRequestHandler, every: float = 0.05) -> None:
    """Headers at once, then one body byte every `every` seconds, forever (a slow loris)."""
    request.send_response(200)
    request.send_header("Connection", "close")  # no length: the body runs until the server hangs up
    request.end_headers()
    while True:
        request.wfile.write(b"x")
        request.wfile.flush()
        time.sleep(every)


def self_signed(folder: Path, name: str) -> tuple[Path, Path]:
    """(certificate, key) files of a self-signed certificate for the DNS name `name`."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", f"/CN={name}", "-addext", f"subjectAltName=DNS:{name}",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    return cert, key
