"""Services as data: the models of services.toml and the loader."""

from __future__ import annotations

import tomllib
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from devices.registry import KIND_NAMES
from kiosk.config.errors import ConfigError, describe_validation_error

CATALOGUE_FILE = Path(__file__).with_name("services.toml")


class Intent(StrEnum):
    APPLY = "apply"  # 我要办
    COLLECT = "collect"  # 我要取
    QUERY = "query"  # 我要查


NETWORK = "network"


def _known_need(need: str) -> str:
    if need != NETWORK and need not in KIND_NAMES:
        raise ValueError(f"{need!r} is neither a device kind ({', '.join(KIND_NAMES)}) "
                         f"nor {NETWORK!r}")
    return need


Need = Annotated[str, AfterValidator(_known_need)]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LocalizedText(_Strict):
    zh: str = Field(min_length=1)
    """Simplified Chinese (the default language)."""
    en: str = Field(min_length=1)
    """English."""

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


class Choice(_Strict):
    value: str
    """What is submitted."""
    label: LocalizedText
    """What the citizen reads on the button."""


class FieldSpec(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    """Key in the submitted form."""
    kind: Literal["text", "choice"]
    """text: typed on the on-screen keyboard; choice: one big button per option."""
    label: LocalizedText
    """The question, in plain words."""
    required: bool = True
    """Whether the form can be confirmed without it."""
    choices: tuple[Choice, ...] = ()
    """The options of a choice field (at most six fit a screen)."""
    max_length: int = Field(default=60, gt=0)
    """Longest accepted text answer."""

    @model_validator(mode="after")
    def _choices_match_kind(self) -> FieldSpec:
        if self.kind == "choice" and not 2 <= len(self.choices) <= 6:
            raise ValueError("a choice field needs 2 to 6 choices")
        if self.kind == "text" and self.choices:
            raise ValueError("a text field takes no choices")
        return self


class ServiceGroup(_Strict):
    id: str
    """Identifier used by services' `group`."""
    intent: Intent
    """Which home button leads here."""
    title: LocalizedText
    """Shown on the button."""
    summary: LocalizedText
    """One line under the title."""


class Service(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    """Stable identifier, used by profiles and in envelopes."""
    intent: Intent
    """Which home button leads here."""
    title: LocalizedText
    """What the citizen says: plain words."""
    summary: LocalizedText
    """One line under the title."""
    group: str | None = None
    """A group shown as one button on the service list (e.g. 我要开店)."""
    needs: tuple[Need, ...] = ()
    """Devices (and "network") without which this service is not offered."""
    output: Literal["receipt", "certificate", "locker", "screen"]
    """What the citizen leaves with."""
    issues: Literal["certificate"] | None = None
    """"certificate": the back office issues the document on the spot (a serial number and a
    verification code), printed here on A4; the citizen leaves with the certificate itself."""
    face_check: bool = True
    """Whether a live face capture follows the identity document."""
    fields: tuple[FieldSpec, ...] = ()
    """Only what the data-sharing platform does not already hold."""

    @model_validator(mode="after")
    def _issues_what_it_hands_over(self) -> Service:
        if (self.issues == "certificate") != (self.output == "certificate"):
            raise ValueError('a service hands over a certificate (output = "certificate") '
                             'exactly when it issues one (issues = "certificate")')
        if self.issues == "certificate":
            missing = {"certificate_printer", "network"} - set(self.needs)
            if missing:
                raise ValueError("a service that issues certificates needs "
                                 + " and ".join(sorted(missing)))
        return self


class Catalogue(_Strict):
    group: tuple[ServiceGroup, ...] = ()
    """Groups of services shown as one button."""
    service: tuple[Service, ...]
    """All services this software knows."""

    @model_validator(mode="after")
    def _references_resolve(self) -> Catalogue:
        ids = [s.id for s in self.service]
        if len(ids) != len(set(ids)):
            raise ValueError("service ids must be unique")
        groups = {g.id for g in self.group}
        for s in self.service:
            if s.group is not None and s.group not in groups:
                raise ValueError(f"service {s.id} names unknown group {s.group}")
        return self

    def get(self, service_id: str) -> Service:
        for s in self.service:
            if s.id == service_id:
                return s
        raise KeyError(service_id)

    def ids(self) -> set[str]:
        return {s.id for s in self.service}

    def group_by_id(self, group_id: str) -> ServiceGroup:
        for g in self.group:
            if g.id == group_id:
                return g
        raise KeyError(group_id)


@cache
def load_catalogue(path: Path = CATALOGUE_FILE) -> Catalogue:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return Catalogue.model_validate(data)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from e
    except ValidationError as e:
        raise ConfigError(describe_validation_error(path, e)) from e
