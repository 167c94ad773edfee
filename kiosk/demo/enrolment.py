"""The demo's and simulator's stand-in for enrolment: a back office to talk to, the bearer
token it takes, and the citizen-hash key it matches citizens by, copied into the terminal's
data directory (0600) as `kiosk provision enroll` will do for a real terminal."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from kiosk.config.errors import ConfigError
from kiosk.records.citizen_key import FILE_NAME as CITIZEN_KEY_FILE
from kiosk.records.citizen_key import write_private

if TYPE_CHECKING:
    from backoffice import RunningBackOffice

TOKEN_FILE = "terminal.token"


class Reachable(Protocol):
    """A back office and what lets a terminal in (BackOfficeAccess, a RunningBackOffice)."""

    @property
    def url(self) -> str: ...

    @property
    def headers(self) -> dict[str, str]: ...


@dataclass(frozen=True)
class BackOfficeAccess:
    url: str
    token_file: Path | None = None
    citizen_key_file: Path | None = None

    @classmethod
    def of(cls, running: RunningBackOffice) -> BackOfficeAccess:
        """A reference back office running here, with what it made for terminals."""
        return cls(running.url, running.secrets.token_file, running.secrets.citizen_key_file)

    @cached_property
    def headers(self) -> dict[str, str]:
        """What a terminal sends to be let in (nothing when no token is known)."""
        if self.token_file is None:
            return {}
        token = self.token_file.read_text(encoding="ascii").strip()
        return {"Authorization": f"Bearer {token}"}

    def enrol(self, terminal_dir: Path) -> tuple[str | None, str | None]:
        """The token and key, kept in the terminal's data directory readable by it alone;
        (token file, key file) as TerminalOptions takes them. An unknown one stays None: the
        terminal's own (data directory's) is used."""
        terminal_dir.mkdir(parents=True, exist_ok=True)
        kept: list[str | None] = []
        for source, name in ((self.token_file, TOKEN_FILE),
                             (self.citizen_key_file, CITIZEN_KEY_FILE)):
            if source is None:
                kept.append(None)
                continue
            try:
                secret = source.read_bytes()
            except OSError as e:
                raise ConfigError(f"{source}: cannot be read: {e.strerror}") from e
            target = terminal_dir / name
            if source.resolve() != target.resolve():
                write_private(target, secret)  # a kill -9 meanwhile leaves it whole
            target.chmod(0o600)
            kept.append(str(target))
        return kept[0], kept[1]


@contextmanager
def backoffice_at(url: str | None, data_dir: Path, *, token_file: Path | None = None,
                  citizen_key_file: Path | None = None) -> Iterator[BackOfficeAccess]:
    """The given back office (with the token and key it issued, when given), or an embedded
    reference one on loopback under data_dir/backoffice for the duration."""
    if url:
        yield BackOfficeAccess(url, token_file, citizen_key_file)
        return
    from backoffice.running import start_in_thread

    running = start_in_thread("127.0.0.1", 0, data_dir / "backoffice")
    try:
        yield BackOfficeAccess.of(running)
    finally:
        running.stop()
