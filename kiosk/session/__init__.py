"""The citizen session state machine and what screens see of it."""

from kiosk.session.machine import Session
from kiosk.session.ports import ApplicationDirectory, SessionDeps
from kiosk.session.view import Notice, Outcome, SessionView, State

__all__ = [
    "ApplicationDirectory", "Notice", "Outcome", "Session", "SessionDeps", "SessionView", "State",
]
