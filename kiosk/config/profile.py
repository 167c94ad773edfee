"""Deployment profiles: TOML files validated at start (gov-hall, bank-branch, ...).

A broken profile stops start-up with one line naming the file, the key and the problem.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from devices.registry import SIMULATOR, simulator_config
from kiosk.config.catalogue import LocalizedText, load_catalogue
from kiosk.config.contrast import contrast_ratio
from kiosk.config.devices import Devices, key_path, with_configs
from kiosk.config.errors import ConfigError, describe_validation_error
from kiosk.config.settings import Timings

PROFILES_DIR = Path(__file__).with_name("profiles")


def _hex_colour(v: str) -> str:
    if not re.fullmatch(r"#[0-9A-Fa-f]{6}", v):
        raise ValueError("a colour is written #RRGGBB")
    return v.upper()


Colour = Annotated[str, AfterValidator(_hex_colour)]
Language = Literal["zh", "en"]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Terminal(_Strict):
    id: str = Field(pattern=r"^[A-Z0-9][A-Z0-9-]{2,31}$")
    """Terminal identifier known to the back office, e.g. SH-PD-0001."""
    name: LocalizedText
    """Shown in the top bar: the hall or branch name."""


class Branding(_Strict):
    primary: Colour
    """Colour of primary buttons and the top bar."""
    on_primary: Colour
    """Text on primary-coloured surfaces."""
    background: Colour
    """Screen background."""
    surface: Colour
    """Cards and secondary buttons."""
    text: Colour
    """Body text on background and surface."""
    logo: str | None = None
    """Logo image, relative to the profile file."""
    high_contrast: bool = False
    """Start in the high-contrast theme (light on dark)."""

    @model_validator(mode="after")
    def _readable(self) -> Branding:
        # UI.md: every text/background pair must reach 4.5:1, checked at start-up.
        pairs = {
            "text on background": (self.text, self.background),
            "text on surface": (self.text, self.surface),
            "on_primary on primary": (self.on_primary, self.primary),
        }
        for name, (fg, bg) in pairs.items():
            ratio = contrast_ratio(fg, bg)
            if ratio < 4.5:
                raise ValueError(f"{name} ({fg} on {bg}) has contrast {ratio:.2f}:1, need 4.5:1")
        return self


class Languages(_Strict):
    default: Language = "zh"
    """Language each session starts in."""
    available: tuple[Language, ...] = ("zh", "en")
    """Languages the citizen can switch to."""

    @model_validator(mode="after")
    def _default_available(self) -> Languages:
        if self.default not in self.available:
            raise ValueError(f"default language {self.default!r} is not in available")
        return self


class Hours(_Strict):
    counters: str = Field(default="09:00-17:00", pattern=r"^\d{2}:\d{2}-\d{2}:\d{2}$")
    """Opening hours of the staffed counters, shown on the attract screen."""
    maintenance_window: str | None = Field(default=None, pattern=r"^\d{2}:\d{2}-\d{2}:\d{2}$")
    """Daily window in which the terminal shows out-of-service for maintenance."""
    staffed: str | None = Field(default=None, pattern=r"^\d{2}:\d{2}-\d{2}:\d{2}$")
    """When staff are on duty to answer a call for help; unset: the counters' hours."""
    hotline: str = Field(default="12345", pattern=r"^[0-9-]{3,20}$")
    """The telephone number a citizen is given when nobody is on duty (12345: the city's
    government service hotline)."""
    continue_url: str | None = Field(default=None, pattern=r"^https://\S{4,200}$")
    """Where a citizen continues on their phone out of hours, shown as a QR code."""

    @field_validator("counters", "maintenance_window", "staffed")
    @classmethod
    def _real_times(cls, v: str | None) -> str | None:
        if v is not None:
            for hhmm in v.split("-"):
                h, m = int(hhmm[:2]), int(hhmm[3:])
                if h > 23 or m > 59:
                    raise ValueError(f"{hhmm} is not a time of day")
        return v

    def maintenance_minutes(self) -> tuple[int, int] | None:
        """(start, end) in minutes after midnight; end may be before start (past midnight)."""
        return _minutes(self.maintenance_window)

    def staffed_minutes(self) -> tuple[int, int]:
        window = _minutes(self.staffed or self.counters)
        assert window is not None
        return window

    @property
    def staffed_hours(self) -> str:
        return self.staffed or self.counters


def _minutes(window: str | None) -> tuple[int, int] | None:
    if window is None:
        return None
    start, end = (int(t[:2]) * 60 + int(t[3:]) for t in window.split("-"))
    return start, end


class KioskMode(_Strict):
    lockdown: bool = False
    """The app owns the panel: fullscreen and borderless, no system cursor, no key or gesture
    that leaves it (Escape, Alt+F4, F1's settings panel) but the staff entry, one input
    provider only (a touchscreen seen by two drivers taps twice). On in shipped profiles; the
    demo turns it off."""
    touch: str = Field(default="mouse,disable_multitouch", min_length=1, max_length=200)
    """The one Kivy input provider under lockdown, as Kivy's [input] section takes it (the
    default reads the panel as SDL's pointer; e.g. "mtdev,/dev/input/event3" for a raw
    multitouch device)."""


class StaffRole(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    """Role identifier."""
    name: LocalizedText
    """Shown on the staff screen."""
    auth: Literal["pin", "badge", "bank_teller_login"]
    """How staff in this role sign in."""
    may: tuple[Literal["assist", "load_locker", "view_queue", "retry_queue", "replace_paper",
                       "diagnose"], ...]
    """What the role may do."""


class BackOffice(_Strict):
    url: str | None = Field(default=None, pattern=r"^https?://[^\s]+$")
    """Base URL of the back office; empty in a demo profile means an embedded reference one."""
    token_file: str | None = None
    """File holding the terminal's bearer token (written at enrolment)."""
    citizen_key_file: str | None = None
    """File (0600) holding the citizen-hash key citizens are matched by (written at
    enrolment); empty: citizen-hash.key in the data directory."""
    qr_public_key_file: str | None = None
    """The back office's public key (PEM) for verifying citizens' identity QR codes offline
    (written at enrolment)."""
    receipt_qr_prefix: str = ""
    """Printed as a QR code on every receipt, followed by the tracking number (a status page)."""
    verify_tls: bool = True
    """Check the back office's TLS certificate (never off in production: `kiosk run` refuses)."""
    ca_file: str | None = None
    """A CA bundle (PEM) to check the back office's certificate against, instead of the
    system's (a government private CA)."""

    @property
    def tls_verify(self) -> bool | str:
        """What `requests` takes as `verify`: the CA bundle, or whether to check at all."""
        return self.ca_file or self.verify_tls


class Profile(_Strict):
    profile: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    """Name of the profile."""
    allow_simulators: bool = False
    """Only demo/test profiles may name simulators; production ones never."""
    terminal: Terminal
    """Who this terminal is."""
    branding: Branding
    """Name, colours and logo."""
    languages: Languages = Languages()
    """Citizen languages."""
    services: tuple[str, ...] = Field(min_length=1)
    """Service ids offered, in the order shown (see kiosk/config/catalogue/services.toml)."""
    devices: Devices = Devices()
    """Fitted devices: one table per kind (see `kiosk device list` for adapters and keys)."""
    hours: Hours = Hours()
    """Opening hours and maintenance window."""
    kiosk: KioskMode = KioskMode()
    """How the app holds the panel (lockdown)."""
    staff: tuple[StaffRole, ...] = ()
    """Staff roles and how they authenticate."""
    backoffice: BackOffice = BackOffice()
    """Where submissions go."""
    timings: Timings = Timings()
    """Overrides of the default delays and limits."""

    @field_validator("services")
    @classmethod
    def _services_known(cls, v: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        known = load_catalogue().ids()
        for i, sid in enumerate(v):
            if sid not in known:
                raise ValueError(f"services[{i}] = {sid!r} is not in the catalogue")
        if len(set(v)) != len(v):
            raise ValueError("a service is listed twice")
        return v

    @model_validator(mode="after")
    def _no_silent_simulators(self) -> Profile:
        if not self.allow_simulators:
            for kind, configs in self.devices.fitted():
                if any(c.adapter == SIMULATOR for c in configs):
                    raise ValueError(
                        f"devices.{kind} names the simulator but allow_simulators is false")
        return self


def resolve_profile_path(name_or_path: str) -> Path:
    """A shipped profile by name (gov-hall) or any TOML file by path."""
    p = Path(name_or_path)
    if p.suffix == ".toml" or p.exists():
        return p
    shipped = PROFILES_DIR / f"{name_or_path}.toml"
    if shipped.exists():
        return shipped
    names = ", ".join(sorted(f.stem for f in PROFILES_DIR.glob("*.toml")))
    raise ConfigError(f"{name_or_path}: no such profile (shipped: {names})")


def load_profile(name_or_path: str | Path) -> Profile:
    path = resolve_profile_path(str(name_or_path))
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"{path}: cannot read: {e.strerror}") from e
    except UnicodeDecodeError as e:
        line = path.read_bytes()[:e.start].count(b"\n") + 1
        raise ConfigError(f"{path}: line {line}: not UTF-8 text (byte 0x{e.object[e.start]:02x}"
                          "); save the profile as UTF-8") from e
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from e
    try:
        profile = Profile.model_validate(data)
    except ValidationError as e:
        raise ConfigError(describe_validation_error(
            path, e, where=lambda loc: key_path(loc, data))) from e
    if profile.branding.logo is not None:
        logo = (path.parent / profile.branding.logo).resolve()
        if not logo.is_file():
            raise ConfigError(f"{path}: branding.logo: file {profile.branding.logo} not found")
        # Screens get an absolute path: they do not know where the profile came from.
        branding = profile.branding.model_copy(update={"logo": str(logo)})
        profile = profile.model_copy(update={"branding": branding})
    return profile


def without_maintenance(profile: Profile) -> Profile:
    """The profile with no maintenance window: the demo and the simulator serve at any hour
    (and a test run at 03:10 finds them serving, as at any other time)."""
    hours = profile.hours.model_copy(update={"maintenance_window": None})
    return profile.model_copy(update={"hours": hours})


def without_lockdown(profile: Profile) -> Profile:
    """The profile in a window of its own, leavable: the demo, on a developer's desk."""
    return profile.model_copy(update={"kiosk": profile.kiosk.model_copy(
        update={"lockdown": False})})


def with_simulated_devices(
    profile: Profile, *, instant: bool = False,
    settings: Mapping[str, Mapping[str, Any]] | None = None,
) -> Profile:
    """The same profile with every fitted device replaced by its kind's simulator (kiosk demo;
    `instant` for headless runs); `settings` overrides simulator settings by kind."""
    settings = settings or {}
    simulated = {
        kind: tuple(simulator_config(kind, c, instant=instant, **settings.get(kind, {}))
                    for c in configs)
        for kind, configs in profile.devices.fitted()
    }
    return profile.model_copy(update={"devices": with_configs(profile.devices, simulated),
                                      "allow_simulators": True})
