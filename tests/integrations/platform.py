"""A stand-in for the city platform (网络理政): a real HTTP server on 127.0.0.1, on a free port.

It records every request; checks each webhook's HMAC on its own (the scheme as documented in
``docs/integrations.md``, not through the code under test); counts the deliveries it *accepted*
per ``X-Zhifa-Delivery`` (a repeat would show as 2); takes Open311 ``servicerequestupdates``
posts; serves ``requests.json`` from a list the test fills, filtered by the window asked for.

It can be down for a while: ``go_down()`` stops listening (the port refuses connections) and
``come_back()`` listens again on the same port; ``answer_with(503)`` keeps it listening but
refusing. The server stops by itself at the end of the test (the fixture closes it).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HOOK_PATH = "/hooks/zhifa"
OPEN311_BASE = "/open311/v2"


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return dict(urllib.parse.parse_qsl(self.body.decode("utf-8")))


@dataclass
class CityPlatform:
    secret: str
    port: int = 0
    # Everything that arrived (also what was refused), in order.
    received: list[Recorded] = field(default_factory=list)
    # Deliveries accepted (answered 2xx), by X-Zhifa-Delivery.
    accepted: Counter[str] = field(default_factory=Counter)
    accepted_bodies: list[Recorded] = field(default_factory=list)
    bad_signatures: int = 0
    status: int = 200  # what POSTs and GETs are answered with while up
    upstream_requests: list[dict[str, Any]] = field(default_factory=list)
    # When set, ``requests.json`` answers this instead of the requests in the window.
    requests_answer: Any = None
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def hook_url(self) -> str:
        return self.base + HOOK_PATH

    @property
    def open311_url(self) -> str:
        return self.base + OPEN311_BASE

    def start(self) -> CityPlatform:
        if not self.port:
            self.port = _free_port()
        platform = self

        class Handler(_Handler):
            city = platform

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def go_down(self) -> None:
        """Stop listening: connections to the port are refused."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            assert self._thread is not None
            self._thread.join(5)
            self._server = None

    def come_back(self) -> None:
        self.status = 200
        if self._server is None:
            self.start()

    def answer_with(self, status: int) -> None:
        self.status = status

    def close(self) -> None:
        self.go_down()

    def posts(self, path: str) -> list[Recorded]:
        return [r for r in self.received if r.method == "POST" and r.path == path]

    # -- called by the handler, on the server's threads --

    def handle(self, request: Recorded) -> tuple[int, Any]:
        with self._lock:
            self.received.append(request)
            if self.status != 200:
                return self.status, {"error": "unavailable"}
            if request.method == "GET" and request.path == OPEN311_BASE + "/requests.json":
                if self.requests_answer is not None:
                    return 200, self.requests_answer
                return 200, self._requests_in_window(request.query)
            if request.path == HOOK_PATH and not self._signed(request):
                self.bad_signatures += 1
                return 401, {"error": "bad signature"}
            if request.method != "POST":
                return 404, {"error": "not found"}
            self.accepted[request.headers.get("x-zhifa-delivery", "")] += 1
            self.accepted_bodies.append(request)
            if request.path == OPEN311_BASE + "/servicerequestupdates.json":
                return 200, [{"update_id": request.form().get("update_id", "")}]
            return 200, {"ok": True}

    def _signed(self, request: Recorded) -> bool:
        stamp = request.headers.get("x-zhifa-timestamp", "")
        given = request.headers.get("x-zhifa-signature", "")
        mac = hmac.new(self.secret.encode(), stamp.encode() + b"." + request.body, hashlib.sha256)
        return hmac.compare_digest("sha256=" + mac.hexdigest(), given)

    def _requests_in_window(self, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        start = datetime.fromisoformat(query["start_date"][0])
        end = datetime.fromisoformat(query["end_date"][0])
        return [
            r
            for r in self.upstream_requests
            if start <= datetime.fromisoformat(r["requested_datetime"]) <= end
        ]


class _Handler(BaseHTTPRequestHandler):
    city: CityPlatform
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        parts = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        recorded = Recorded(
            method=method,
            path=parts.path,
            query=urllib.parse.parse_qs(parts.query),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        status, answer = self.city.handle(recorded)
        raw = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        if 300 <= status < 400:
            self.send_header("Location", "/elsewhere")
        self.send_header("Content-Length", str(len(raw)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(raw)
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        """Quiet: the test reads ``received`` instead."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
