"""Reference back office: a small HTTP server and SQLite store implementing the kiosk contract."""

from kiosk.backoffice.server import (
    BackOfficeHTTPServer,
    RunningBackOffice,
    make_server,
    serve_forever,
    start_in_thread,
)
from kiosk.backoffice.store import BackOfficeStore, citizen_hash

__all__ = [
    "BackOfficeHTTPServer",
    "BackOfficeStore",
    "RunningBackOffice",
    "citizen_hash",
    "make_server",
    "serve_forever",
    "start_in_thread",
]
