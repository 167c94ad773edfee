"""Session steps: reading a document, checking a face, printing, opening and watching a locker
door, asking the back office. Each runs off the session lock and returns a result; only the
machine (machine.py) changes state from it."""

from kiosk.session.steps.runner import InlineSteps, StepRunner, ThreadedSteps

__all__ = ["InlineSteps", "StepRunner", "ThreadedSteps"]
