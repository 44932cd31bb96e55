"""A vendor's JSON API on 127.0.0.1 for connector tests: one base for every vendor's server.

A subclass says how to answer one GET (status, extra headers, JSON body); this base runs the
HTTP server, records every request, and writes the answers the way the vendors do: keep-alive,
a Content-Length, and no Nagle delay so a thousand small answers stay fast.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

Headers = Mapping[str, str] | Iterable[tuple[str, str]]


@dataclass(frozen=True)
class Request:
    path: str
    """Path and query string, as requested."""
    headers: Mapping[str, str]


class JsonApiServer:
    content_type = "application/json; charset=utf-8"
    fixed_headers: tuple[tuple[str, str], ...] = ()
    """Headers the vendor sends with every answer."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def answer(self, path: str, headers: Mapping[str, str]) -> tuple[int, Headers, Any]:
        """Status, extra headers and body for one GET: JSON, raw bytes, or None for none."""
        raise NotImplementedError


def _handler(server: JsonApiServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            headers = {name.lower(): value for name, value in self.headers.items()}
            status, extra, body = server.answer(self.path, headers)
            if isinstance(body, bytes):  # a file the service serves as it is (a CSV report)
                data = body
            else:
                data = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
            self.send_response(status)
            self.send_header("Content-Type", server.content_type)
            for name, value in server.fixed_headers:
                self.send_header(name, value)
            for name, value in extra.items() if isinstance(extra, Mapping) else extra:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the test reads ``server.requests`` instead."""

    return Handler
