"""The words of the UI, per language, from screens/locale/<lang>.toml."""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Mapping
from functools import cache
from pathlib import Path

from kiosk.config.catalogue import Service
from kiosk.session import Notice

LOCALE_DIR = Path(__file__).with_name("locale")
LANGUAGES = ("zh", "en")
log = logging.getLogger(__name__)


@cache
def catalogue(lang: str) -> dict[str, str]:
    return tomllib.loads((LOCALE_DIR / f"{lang}.toml").read_text(encoding="utf-8"))


def t(lang: str, key: str, **params: object) -> str:
    words = catalogue(lang if lang in LANGUAGES else "zh").get(key)
    if words is None:
        log.error("missing words for %s in %s", key, lang)
        words = catalogue("zh").get(key, key)
    return words.format(**params) if params else words


def notice_text(lang: str, notice: Notice, **extra: object) -> str:
    """A notice in words; a reason code among its parameters is put in words too (`reason`:
    why a service is not offered; `why`: why the back office refused, an unknown code in
    general words). A call for help says what happens at this hour (`when`), with the
    profile's staffed hours and hotline in `extra`."""
    if notice.key == "staff_called" and notice.param("when"):
        when = notice.param("when")
        return t(lang, f"notice.staff_called_{when}", **extra) if when == "after_hours" \
            else t(lang, f"notice.staff_called_{when}")
    params = dict(notice.params)
    if "reason" in params:
        params["reason"] = t(lang, f"reason.{params['reason']}")
    if "why" in params:
        known = f"why.{params['why']}"
        params["why"] = t(lang, known if known in catalogue(lang) else "why.other")
    return t(lang, f"notice.{notice.key}", **params)


def identify_words(lang: str, documents: tuple[str, ...]) -> tuple[str, str]:
    """(title, prompt) of the identify screen: an ID card, or every document accepted here."""
    if len(documents) <= 1:
        return t(lang, "identify.title"), t(lang, "identify.prompt")
    listed = t(lang, "identify.list_sep").join(t(lang, f"doc.{d}") for d in documents)
    how = "identify.place_or_qr" if "qr_code" in documents else "identify.place"
    return (t(lang, "identify.title_any"),
            t(lang, "identify.accepts", documents=listed) + "\n" + t(lang, how))


def submitted_words(lang: str, delivered: bool | None, offline: bool) -> str:
    """What the citizen is told of an application: submitted only once the back office has it;
    until then saved, and how it will go."""
    if delivered:
        return t(lang, "result.submitted")
    return t(lang, "result.saved_offline" if offline else "result.saved_sending")


def answers(lang: str, service: Service, values: Mapping[str, str]) -> list[tuple[str, str]]:
    """Each field of the service's form and what it holds, in words (a choice by its label,
    text as typed; "" when empty): what the confirm screen shows and the voice reads."""
    out = []
    for spec in service.fields:
        value = values.get(spec.name, "")
        shown = next((c.label.get(lang) for c in spec.choices if c.value == value), value)
        out.append((spec.label.get(lang), shown))
    return out
