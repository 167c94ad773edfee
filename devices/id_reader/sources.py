"""Several identity sources watched at once: every fitted reader is asked in the same round,
each on its own DeviceWorker; the first document presented wins and the other sources are told
to stop. Expected trouble comes back as a result (a failure code), never as an exception.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from devices.id_reader.protocol import IdReader, ReadFailure, ReadResult
from devices.worker import Called, DeviceWorker

# When no source has a document, the most telling failure is reported: a document that was
# there but could not be read beats "nothing yet", which beats a reader that is down (another
# source may still be fine).
_RANK = {ReadFailure.CARD_PULLED: 0, ReadFailure.UNREADABLE: 0, ReadFailure.INVALID_NUMBER: 0,
         ReadFailure.NO_CARD: 1, ReadFailure.DEVICE_FAULT: 2}


@dataclass(frozen=True)
class SourceRead:
    result: ReadResult
    source: str | None = None  # the worker that produced it
    problem: str | None = None  # the call's trouble (timeout, still_hung, error), if any


def _read(reader: IdReader) -> ReadResult:
    return reader.read()


def _read_with(key: object) -> Callable[[IdReader], ReadResult]:
    """A read that opens a passport's chip with the details typed: given to the reader, read
    and forgotten in the same call on its worker (no key lingers on the reader, and none can be
    lost in a queue behind a read that does not have it)."""
    def read(reader: IdReader) -> ReadResult:
        setter = getattr(reader, "set_access_key", None)  # only readers of passports have it
        if setter is None:
            return reader.read()
        setter(key)
        try:
            return reader.read()
        finally:
            setter(None)
    return read


def _stop(reader: IdReader) -> None:
    reader.stop()


def read_first_document(readers: Sequence[DeviceWorker[IdReader]], timeout_s: float,
                        access_key: object = None) -> SourceRead:
    """Ask every reader at once (each on its own worker) and take the first document; a
    passport's chip is opened with `access_key` (its typed MRZ details) when there is one."""
    nothing = ReadResult(failure=ReadFailure.DEVICE_FAULT)
    reading = _read if access_key is None else _read_with(access_key)
    pending = [(w, w.submit(reading, nothing, timeout_s=timeout_s, what="read")) for w in readers]
    answers: list[tuple[DeviceWorker[IdReader], Called[ReadResult]]] = [
        (w, p.wait()) for w, p in pending]
    winner = next(((w, c) for w, c in answers if c.value.identity is not None), None)
    if winner is not None:
        for w, _ in answers:
            if w is not winner[0]:
                w.submit(_stop, None, timeout_s=timeout_s, what="stop")  # not waited for
        read = winner[1].value
        assert read.identity is not None
        tagged = ReadResult(identity=replace(read.identity, source=winner[0].name))
        return SourceRead(tagged, winner[0].name)
    if not answers:
        return SourceRead(nothing)
    # Any other failure (expired, wrong card, a passport's details wanted...) is a document
    # that was there: it ranks first.
    w, called = min(answers, key=lambda a: _RANK.get(a[1].value.failure or ReadFailure.NO_CARD,
                                                     0))
    return SourceRead(called.value, w.name, called.problem)


def _card_present(reader: IdReader) -> bool:
    return reader.card_present()


def card_left(readers: Sequence[DeviceWorker[IdReader]], timeout_s: float) -> bool:
    """Whether a document is still on any reader (to call out a forgotten card)."""
    pending = [w.submit(_card_present, False, timeout_s=timeout_s, what="card present")
               for w in readers]
    return any([p.wait().value for p in pending])



def _badge(reader: IdReader) -> bytes | None:
    read = getattr(reader, "read_badge", None)  # only PC/SC readers read staff badges
    return None if read is None else read()


def read_badge(readers: Sequence[DeviceWorker[IdReader]], timeout_s: float) -> bytes | None:
    """A staff badge's UID from whichever reader has one on it, or None."""
    pending = [w.submit(_badge, None, timeout_s=timeout_s, what="badge") for w in readers]
    return next((uid for uid in (p.wait().value for p in pending) if uid), None)
