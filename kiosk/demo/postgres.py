"""A private PostgreSQL server (Debian's postgresql package) for the tests and benchmarks that
run the reference back office on a real engine: a new cluster in a temporary directory,
listening on loopback only with a port of its own, trusting local connections (it holds
test data only), stopped and removed afterwards. Started as the `postgres` user when run as
root (initdb refuses root)."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

START_S = 60.0


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries here (bootstrap.sh installs Debian's postgresql)."""


def _bin_dir() -> Path:
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").is_file():
            return candidate
    raise PostgresUnavailable("PostgreSQL's server is not installed (apt install postgresql)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    def __init__(self, *, fsync: bool = True, max_connections: int = 200) -> None:
        self._bin = _bin_dir()
        self._root = Path(tempfile.mkdtemp(prefix="kiosk-pg-"))
        self.data = self._root / "data"
        self.port = _free_port()
        self._as: list[str] = []
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self._root, user.pw_uid, user.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]
        try:
            self._run("initdb", "-D", str(self.data), "--auth=trust", "--username=kiosk",
                      "--encoding=UTF8", "--no-instructions")
            durable = "on" if fsync else "off"
            options = (f"-c listen_addresses=127.0.0.1 -c port={self.port} "
                       f"-c unix_socket_directories={self._root} -c fsync={durable}"
                       f" -c max_connections={max_connections} -c shared_buffers=64MB")
            self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l",
                      str(self._root / "server.log"), "-w", "-t", str(int(START_S)), "start")
        except BaseException:
            self._remove()
            raise

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run([*self._as, str(self._bin / tool), *args], capture_output=True,
                              text=True, timeout=START_S + 30, cwd=self._root)
        if done.returncode != 0:
            log = self._root / "server.log"
            tail = log.read_text(errors="replace")[-800:] if log.exists() else ""
            raise RuntimeError(f"{tool} failed: {done.stderr.strip()[-800:]} {tail}")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://kiosk@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A new empty database; its URL."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        self._remove()

    def _remove(self) -> None:
        shutil.rmtree(self._root, ignore_errors=True)


@contextlib.contextmanager
def postgres_server(**options: object) -> Iterator[PostgresServer]:
    server = PostgresServer(**options)  # type: ignore[arg-type]
    try:
        yield server
    finally:
        server.stop()
