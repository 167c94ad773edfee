"""`kiosk provision configure`: a shipped profile (or any profile file) made into this
terminal's, with its devices bound, each tested through its worker, and the result written
only once it validates like every profile.

The file is written to a temporary file beside the target, read back with load_profile (the
same validation `kiosk run` does), and only then renamed over the target: a profile that
would not start the terminal is never left in place. The technician's comments of the
starting profile go along where they still describe something; each device gets a line
saying how it was found and what its test answered, or that it was kept without a test.
"""

from __future__ import annotations

import copy
import os
import tempfile
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devices import registry
from kiosk.config.errors import ConfigError
from kiosk.config.profile import Profile, load_profile, resolve_profile_path
from provisioning import profile_toml
from provisioning.bindings import Binding, BindingError, Tested, from_finding
from provisioning.findings import Finding

Tester = Callable[[Binding], Tested]


@dataclass(frozen=True)
class Source:
    """The profile configure starts from."""

    name: str  # as the technician gave it: gov-hall, or a path
    raw: dict[str, Any]  # its TOML, as written (defaults not filled in)
    comments: dict[profile_toml.Path_, list[str]]
    profile: Profile  # validated

    def tables(self, kind: str) -> list[dict[str, Any]]:
        """Its `[devices.<kind>]` tables (a list, also for a kind fitted once)."""
        given = self.raw.get("devices", {}).get(kind)
        if given is None:
            return []
        return [dict(t) for t in given] if isinstance(given, list) else [dict(given)]

    def kept(self) -> dict[str, list[dict[str, Any]]]:
        return {k: self.tables(k) for k in registry.KIND_NAMES}


def load_source(name: str) -> Source:
    """A shipped profile by name or a file; ConfigError (one line) when it is not valid."""
    path = resolve_profile_path(name)
    profile = load_profile(path)
    text = path.read_text(encoding="utf-8")
    raw = tomllib.loads(text)
    if profile.branding.logo is not None:  # the written profile lives elsewhere
        raw.setdefault("branding", {})["logo"] = profile.branding.logo
    return Source(name, raw, profile_toml.comments_of(text), profile)


@dataclass
class Choice:
    """What goes into the written profile."""

    terminal_id: str | None = None  # None: the source's
    backoffice_url: str | None = None
    bound: dict[str, list[Tested]] = field(default_factory=dict)  # kind -> accepted; [] none
    dropped_untested: bool = False  # kinds not bound are left out instead of kept

    def kept_kinds(self, source: Source) -> list[str]:
        if self.dropped_untested:
            return []
        return [k for k in registry.KIND_NAMES if k not in self.bound and source.tables(k)]


def assemble(source: Source, choice: Choice) -> dict[str, Any]:
    """The new profile's data: the source's, with the terminal, back office and devices."""
    data = copy.deepcopy(source.raw)
    if choice.terminal_id:
        data.setdefault("terminal", {})["id"] = choice.terminal_id
    if choice.backoffice_url:
        data.setdefault("backoffice", {})["url"] = choice.backoffice_url
    devices: dict[str, Any] = {}
    for kind in registry.KIND_NAMES:
        if kind in choice.bound:
            tables = [t.binding.table() for t in choice.bound[kind]]
        elif choice.dropped_untested:
            tables = []
        else:
            tables = source.tables(kind)
        if tables:
            devices[kind] = tables if registry.kind(kind).many else tables[0]
    data["devices"] = devices
    return data


def comments(source: Source, choice: Choice, out: Path) -> dict[profile_toml.Path_, list[str]]:
    """The source's comments, but those about devices bound anew; a line for every device."""
    notes = {path: list(lines) for path, lines in source.comments.items()
             if not (path[:1] == ("devices",) and len(path) > 1 and path[1] in choice.bound)}
    when = time.strftime("%Y-%m-%d %H:%M")
    for kind, tested in choice.bound.items():
        lines = notes.setdefault(("devices", kind), [registry.kind(kind).title])
        for t in tested:
            lines.append(f"{t.binding.config.adapter if t.binding.config else kind}, "
                         f"{t.binding.origin}: tested {when}, {t.verdict()}")
    for kind in choice.kept_kinds(source):
        notes.setdefault(("devices", kind), []).append(
            f"Kept from {source.name} without a test: check it with "
            f"`kiosk device status {kind} --config {out}`.")
    return notes


def header(source: Source, out: Path) -> list[str]:
    return [f"This terminal's profile, written by `kiosk provision configure` from "
            f"{source.name} on {time.strftime('%Y-%m-%d %H:%M')}.",
            f"Check every device again with: kiosk device status --config {out}",
            "Device keys: `kiosk device list`. Edit with care: the file is checked at start."]


def write_profile(text: str, out: Path) -> Profile:
    """Write `text` to `out` only if it is a valid profile; ConfigError (one line) if not,
    with nothing left behind."""
    out = out.absolute()
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.stem}.", suffix=".toml")
    except OSError as e:
        raise ConfigError(f"{out}: cannot be written: {e.strerror or e}") from e
    tmp = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        tmp.chmod(0o644)  # a profile holds no secret: the token is a file of its own
        try:
            profile = load_profile(tmp)
        except ConfigError as e:
            raise ConfigError(str(e).replace(str(tmp), f"{out} (not written)")) from e
        tmp.replace(out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _sync_dir(out.parent)
    return profile


def _sync_dir(path: Path) -> None:
    """The rename survives a power cut once the directory is on disk too."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def save(source: Source, choice: Choice, out: Path) -> Profile:
    data = assemble(source, choice)
    text = profile_toml.dumps(data, comments(source, choice, out), header(source, out))
    return write_profile(text, out)


# ---------------------------------------------------------------- with flags, for scripts
@dataclass
class Settled:
    tried: list[Tested]
    bound: dict[str, list[Tested]]
    refused: list[Tested]


def settle(source: Source, explicit: Sequence[Binding], discovered: Sequence[Finding],
           tester: Tester) -> Settled:
    """Test every binding. Given ones are all tested; a kind fitted once with several found
    takes the first that passes; every found identity reader is bound. BindingError for
    bindings that cannot be together (two printers, a kind given and `none`)."""
    given: dict[str, list[Binding]] = {}
    for b in explicit:
        given.setdefault(b.kind, []).append(b)
    kept = source.kept()
    found: dict[str, list[Binding]] = {}
    for f in discovered:
        if f.bindable and f.kind is not None and f.kind not in given:
            found.setdefault(f.kind, []).append(from_finding(f, kept[f.kind]))
    tried: list[Tested] = []
    bound: dict[str, list[Tested]] = {}
    refused: list[Tested] = []
    for kind in registry.KIND_NAMES:
        many = registry.kind(kind).many
        if kind in given:
            bindings = given[kind]
            if any(b.config is None for b in bindings):
                if len(bindings) > 1:
                    raise BindingError(f"--bind {kind}=none cannot go with another {kind}")
                bound[kind] = []
                continue
            if len(bindings) > 1 and not many:
                raise BindingError(f"only one {kind} can be fitted; --bind it once")
            results = [tester(b) for b in bindings]
            tried += results
            refused += [t for t in results if not t.accepted]
            bound[kind] = [t for t in results if t.accepted]
        elif kind in found:
            results = []
            for b in found[kind]:
                results.append(tester(b))
                if results[-1].accepted and not many:
                    break
            tried += results
            accepted = [t for t in results if t.accepted]
            if many:
                refused += [t for t in results if not t.accepted]
            elif not accepted:
                refused += results
            bound[kind] = accepted
    return Settled(tried, bound, refused)

