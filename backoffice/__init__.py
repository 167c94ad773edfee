"""Reference back office: a small HTTP server and SQLite store implementing the kiosk contract."""

from backoffice.running import RunningBackOffice, make_server, serve_forever, start_in_thread
from backoffice.server import BackOfficeHTTPServer
from backoffice.store import BackOfficeStore

__all__ = [
    "BackOfficeHTTPServer",
    "BackOfficeStore",
    "RunningBackOffice",
    "make_server",
    "serve_forever",
    "start_in_thread",
]
