"""Starting and stopping the reference back office: bound and opened (`make_server`), served
from a thread (tests, the demo, `kiosk simulate`) or from the calling thread until SIGTERM
(`kiosk backoffice`)."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from types import FrameType

from backoffice.certificates import DB_FILE as CERTIFICATES_DB
from backoffice.certificates import CertificateOffice
from backoffice.connections import Limits
from backoffice.db import Databases
from backoffice.faces import FaceMatcher, FaceSettings
from backoffice.lockers import DB_FILE as LOCKERS_DB
from backoffice.lockers import LockerOffice
from backoffice.qr_tokens import QrIssuer
from backoffice.secrets import BackOfficeSecrets
from backoffice.server import DB_FILE, BackOfficeHTTPServer
from backoffice.store import BackOfficeStore

log = logging.getLogger(__name__)


def make_server(
    host: str, port: int, data_dir: Path, token: str | None = None,
    faces: FaceSettings | None = None, limits: Limits | None = None,
    database: str | None = None,
) -> BackOfficeHTTPServer:
    """Bind (port 0 picks a free port) and open the stores; does not serve yet. Its keys and
    token are files of data_dir (several processes of one back office share it); its records
    are SQLite files there too, or the PostgreSQL database `database` names. Without
    `token`, terminals present the one made at first start (data_dir's terminal.token)."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    data_dir.chmod(0o700)
    keys = BackOfficeSecrets(data_dir, token)
    dbs = Databases(data_dir, database)
    try:
        store = BackOfficeStore(dbs.open(DB_FILE), citizen_hash=keys.citizen_hash,
                                cipher=keys.fernet)
        certificates = CertificateOffice(data_dir, dbs.open(CERTIFICATES_DB), keys.citizen_hash)
        lockers = LockerOffice(dbs.open(LOCKERS_DB))
        return BackOfficeHTTPServer((host, port), store, keys, QrIssuer(data_dir),
                                    certificates, lockers, FaceMatcher(faces), limits,
                                    databases=dbs)
    except BaseException:
        dbs.close()
        raise


class RunningBackOffice:
    def __init__(self, server: BackOfficeHTTPServer) -> None:
        self.server = server
        self.store = server.store
        host, port = server.server_address[:2]
        self.host = str(host)
        self.port = int(port)
        self.url = f"http://{self.host}:{self.port}"
        self.secrets = server.secrets
        self.token = server.secrets.token
        self.headers = {"Authorization": f"Bearer {self.token}"}  # a terminal's
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05},
            name=f"backoffice-{self.port}", daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving, cut kept-alive connections, join handler threads, close the store."""
        self.server.stop()
        self._thread.join()


def start_in_thread(
    host: str, port: int, data_dir: Path, token: str | None = None,
    faces: FaceSettings | None = None, limits: Limits | None = None,
    database: str | None = None,
) -> RunningBackOffice:
    return RunningBackOffice(make_server(host, port, data_dir, token, faces, limits, database))


def serve_forever(host: str, port: int, data_dir: Path, token: str | None = None,
                  faces: FaceSettings | None = None, database: str | None = None) -> None:
    """Serve in the calling thread until Ctrl-C or SIGTERM, then shut down cleanly."""
    server = make_server(host, port, data_dir, token, faces, database=database)

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, on_sigterm)
    log.info("reference back office on http://%s:%d", *server.server_address[:2])
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        log.info("reference back office stopping")
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        server.close()
