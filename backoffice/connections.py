"""The reference back office's connections, apart from what it answers: a fixed pool of
workers (a thousand stalled uploads take `workers` threads, not a thousand), a 503 at once
past what may wait, an idle limit for kept-alive connections, and a deadline for each request
to arrive whole (headers trickled in a line at a time are cut too)."""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 8 * 1024 * 1024
BUSY = (b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Type: application/json"
        b"\r\nContent-Length: 18\r\nConnection: close\r\n\r\n{\"error\": \"busy\"}\n")


@dataclass(frozen=True)
class Limits:
    """How much one back-office process takes on at once."""

    workers: int = 64  # connections served at once, each by a thread of a fixed pool
    waiting: int = 256  # accepted connections waiting for a worker; beyond: 503 at once
    idle_s: float = 10.0  # a kept-alive connection with no request for this long is closed
    read_s: float = 30.0  # a request (headers and body) must arrive within this


class BoundedHTTPServer(ThreadingHTTPServer):
    # The default listen backlog of 5 drops SYNs when a few terminals sync at once, and each
    # dropped SYN costs the client a 1 s retransmit.
    request_queue_size = 128

    def __init__(self, addr: tuple[str, int], handler: type[BaseHTTPRequestHandler],
                 limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self._pool = ThreadPoolExecutor(self.limits.workers, thread_name_prefix="backoffice")
        self._slots = threading.BoundedSemaphore(self.limits.workers + self.limits.waiting)
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        self._reading: dict[socket.socket, float] = {}  # connection -> when its request began
        self._closing = threading.Event()
        super().__init__(addr, handler)
        self._deadlines = threading.Thread(target=self._cut_slow_requests,
                                           name="backoffice-deadlines", daemon=True)
        self._deadlines.start()

    # Tracked from the accepting thread (not the handler's setup()), so a connection accepted
    # just before stop() cannot slip past close_connections() and keep server_close() waiting.
    # Served by the fixed pool: a thousand stalled uploads take `workers` threads, not a
    # thousand; past what may wait, a connection is told 503 and closed at once.
    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            with contextlib.suppress(OSError):
                request.settimeout(1.0)
                request.sendall(BUSY)
            self.shutdown_request(request)
            return
        with self._open_lock:
            self._open.add(request)
        try:
            self._pool.submit(self._serve, request, client_address)
        except RuntimeError:  # the pool is shut down: we are stopping
            self._slots.release()
            self.shutdown_request(request)

    def _serve(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)
            self._slots.release()

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
            self._reading.pop(request, None)
        super().shutdown_request(request)

    def reading(self, conn: socket.socket, started: bool) -> None:
        """A request on `conn` began (headers and body to come), or has all arrived."""
        with self._open_lock:
            if started:
                self._reading[conn] = time.monotonic()
            else:
                self._reading.pop(conn, None)

    def _cut_slow_requests(self) -> None:
        """A request trickled in (a header line every few seconds) is cut once it has taken
        `read_s`, so that stalled clients cannot keep every worker."""
        while not self._closing.wait(min(1.0, self.limits.read_s / 4)):
            now = time.monotonic()
            with self._open_lock:
                late = [c for c, t in self._reading.items() if now - t > self.limits.read_s]
                for conn in late:
                    del self._reading[conn]
            for conn in late:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)

    def close_connections(self) -> None:
        with self._open_lock:
            conns = list(self._open)
        for conn in conns:
            with contextlib.suppress(OSError):  # already gone
                conn.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        """Stop serving (from another thread than serve_forever's), then close."""
        self.shutdown()
        self.close()

    def close(self) -> None:
        """Cut kept-alive connections, then let the pool's workers finish (a restart never
        leaves one serving a kept-alive connection against a closed store)."""
        self._closing.set()
        self.close_connections()
        self.server_close()
        self._pool.shutdown(wait=True)
        self._deadlines.join()

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.warning("error serving %s", client_address, exc_info=True)


class BoundedHandler(BaseHTTPRequestHandler):
    """JSON answers, and a body read within the request's deadline."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # or every response waits ~40 ms for a delayed ACK
    server: BoundedHTTPServer

    def setup(self) -> None:
        super().setup()
        # An idle kept-alive connection must not pin a worker.
        self.connection.settimeout(self.server.limits.idle_s)

    def handle_one_request(self) -> None:
        # The wait for a kept-alive connection's next request counts too: idle_s < read_s.
        self.server.reading(self.connection, True)
        try:
            super().handle_one_request()
        finally:
            self.server.reading(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def _send(self, code: int, doc: Any, *, close: bool = False) -> None:
        body = json.dumps(doc, ensure_ascii=False).encode("utf-8")
        self.send_response(code)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        if close:
            # The request body may be unread: the connection cannot carry another request.
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def _read_body(self) -> bytes | None:
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            self._send(411, {"error": "Content-Length required"}, close=True)
            return None
        if int(length) > MAX_BODY_BYTES:
            self._send(413, {"error": f"body larger than {MAX_BODY_BYTES} bytes"}, close=True)
            return None
        # A body trickled in a byte at a time must not hold a worker for ever.
        deadline = time.monotonic() + self.server.limits.read_s
        chunks, left = [], int(length)
        while left > 0:
            if time.monotonic() > deadline:
                self._send(408, {"error": "the body took too long to arrive"}, close=True)
                return None
            chunk = self.rfile.read1(min(left, 65536))
            if not chunk:
                raise ConnectionError("the client went away mid-body")
            chunks.append(chunk)
            left -= len(chunk)
        self.server.reading(self.connection, False)  # what it asks may take its time
        return b"".join(chunks)
