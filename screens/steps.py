"""Where am I in the task: the step indicator's steps (身份核验 → 填写 → 确认 → 完成)."""

from __future__ import annotations

from kiosk.session import SessionView, State

STEP_OF = {State.IDENTIFY: "identify", State.CONSENT: "identify", State.VERIFY: "identify",
           State.FILL: "fill", State.CONFIRM: "confirm", State.SUBMITTING: "done",
           State.HANDOVER: "done", State.DONE: "done"}


def task_steps(view: SessionView) -> tuple[list[str], int] | None:
    """The steps of the task under way and which one this is; None outside a task."""
    step = STEP_OF.get(view.state)
    if step is None or view.service is None:
        return None
    service = view.service
    if service.intent.value != "apply":
        names = ["identify", "done"]
    else:
        names = ["identify", *(["fill"] if service.fields else []), "confirm", "done"]
    return names, names.index(step) if step in names else len(names) - 1
