"""Arguments every command checks the same way, each refused with one line: a URL must be
http(s) with a host and a port in range; a port must be 0..65535."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import typer


def check_url(value: str | None) -> str | None:
    """An http(s) base URL with a host, or BadParameter saying what is wrong."""
    if value is None or value == "":
        return value
    try:
        parts = urlsplit(value)
        port = parts.port  # raises ValueError when out of range or not a number
    except ValueError as e:
        raise typer.BadParameter(f"{value!r} is not a usable URL: {e}") from e
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise typer.BadParameter(f"{value!r} is not an http:// or https:// URL with a host")
    if port == 0:
        raise typer.BadParameter(f"{value!r}: port 0 cannot be connected to")
    if any(c.isspace() for c in value):
        raise typer.BadParameter(f"{value!r} contains white space")
    return value


def check_database_url(value: str | None) -> str | None:
    """A postgresql:// URL with a host or a socket directory, or BadParameter."""
    if value is None or value == "":
        return value
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError when out of range
    except ValueError as e:
        raise typer.BadParameter(f"{value!r} is not a usable database URL: {e}") from e
    if parts.scheme not in ("postgresql", "postgres"):
        raise typer.BadParameter("only PostgreSQL is supported: postgresql://user@host/db "
                                 "(without --database: SQLite files in --data-dir)")
    if not parts.path.strip("/"):
        raise typer.BadParameter(f"{value!r} names no database (…/DBNAME)")
    return value


def UrlOpt(*names: str, **kwargs: Any) -> Any:
    """A typer.Option holding a back office's base URL."""
    return typer.Option(*names, callback=check_url, **kwargs)


def PortOpt(*names: str, **kwargs: Any) -> Any:
    """A typer.Option holding a TCP port (0: any free one)."""
    return typer.Option(*names, min=0, max=65535, **kwargs)
