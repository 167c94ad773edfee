"""A simulated citizen for `kiosk demo` on a headless machine: taps through the screens at a
human pace (through the same intents a finger would send), so the demo shows every step."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from typing import Any

from kivy.clock import Clock

from kiosk.config.catalogue import Intent, LocalizedText, Service
from kiosk.session import SessionView, State
from screens.intents import Intents

PAUSE_S = 2.5
# What the citizen does, in turn: a proof, a coffee shop, a collection, a status check.
ERRANDS = (("apply", "household_proof"), ("apply", "open_coffee_shop"),
           ("collect", "collect_certificate"), ("query", "check_applications"))


class DemoCitizen:
    def __init__(self, intents: Intents, services: Mapping[str, Service]) -> None:
        self.intents = intents
        self.services = services
        self._errands: Iterator[tuple[str, str]] = itertools.cycle(
            [e for e in ERRANDS if e[1] in services])
        self._errand = next(self._errands)
        self._last: tuple[State, str | None, LocalizedText | None] | None = None
        self._event: Any = None

    def see(self, view: SessionView) -> None:
        """Called with every view; acts once per new screen, after a pause."""
        key = (view.state, view.service.id if view.service else None, view.group_title)
        if key == self._last:
            return
        self._last = key
        if self._event is not None:
            self._event.cancel()
        self._event = Clock.schedule_once(lambda _dt: self._act(view), PAUSE_S)

    def _act(self, view: SessionView) -> None:
        intent, service_id = self._errand
        service = self.services[service_id]
        i = self.intents
        if view.state is State.ATTRACT:
            i.touch()
        elif view.state is State.HOME:
            i.choose_intent(Intent(intent))
        elif view.state is State.CHOOSE:
            i.choose(service.group if service.group and view.group_title is None
                     else service_id)
        elif view.state is State.FILL:
            for f in service.fields:
                i.set_field(f.name, f.choices[0].value if f.choices else "Demo")
            i.submit_form()
        elif view.state is State.CONFIRM:
            i.confirm()
        elif view.state is State.CONSENT:
            i.consent_face(True)
        elif view.state is State.RATE:
            i.rate(5)
        elif view.state is State.DONE:
            self._errand = next(self._errands)
            i.finish()
