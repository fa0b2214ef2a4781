"""A real HTTP server on 127.0.0.1 serving fixture feeds and pages, route by route."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    # A handler takes the request and returns (status, headers, body); it wins over the above.
    handler: Callable[[BaseHTTPRequestHandler], tuple[int, dict[str, str], bytes]] | None = None


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    client_port: int = 0


class LocalServer:
    """`server.route("/feed.xml", body, headers={...})`, then fetch `server.url("/feed.xml")`."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: list[Hit] = []
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802
                outer._serve(self)

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("content-length") or 0)
                self.body = self.rfile.read(length)
                outer._serve(self)

            def log_message(self, *args) -> None:  # noqa: ANN002
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def route(
        self,
        path: str,
        body: bytes | str = b"",
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
        handler=None,
        gzip_body: bool = False,
    ) -> str:  # noqa: ANN001
        data = body.encode() if isinstance(body, str) else body
        hdrs = dict(headers or {})
        if gzip_body:
            data = gzip.compress(data)
            hdrs["Content-Encoding"] = "gzip"
        self.routes[path] = Route(body=data, status=status, headers=hdrs, handler=handler)
        return self.url(path)

    def hits_for(self, path: str) -> list[Hit]:
        with self._lock:
            return [h for h in self.hits if h.path == path]

    def reset(self) -> None:
        self.routes.clear()
        with self._lock:
            self.hits.clear()

    def _serve(self, request: BaseHTTPRequestHandler) -> None:
        path = request.path.split("?", 1)[0]
        with self._lock:
            self.hits.append(
                Hit(path=request.path, headers={k.lower(): v for k, v in request.headers.items()})
            )
        route = self.routes.get(path) or self.routes.get(request.path)
        if route is None:
            status, headers, body = 404, {"Content-Type": "text/plain"}, b"not found"
        elif route.handler is not None:
            status, headers, body = route.handler(request)
        else:
            status, headers, body = route.status, route.headers, route.body
        request.send_response(status)
        for name, value in headers.items():
            request.send_header(name, value)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        if request.command != "HEAD":
            request.wfile.write(body)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
