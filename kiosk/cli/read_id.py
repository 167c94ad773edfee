"""`kiosk device read-id`: a technician's check of an identity reader, through the same
adapter and DeviceWorker as a session, with personal data masked unless asked for."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

from devices.id_reader.gb11643 import mask
from devices.id_reader.protocol import Identity, IdReader, ReadFailure
from devices.id_reader.sam.config import SamSerialConfig
from devices.id_reader.sam.reader import ResidentIdSamReader
from devices.id_reader.validity import refusal
from devices.links import SerialLink
from devices.worker import DeviceWorker
from kiosk.config.profile import Profile
from kiosk.session.snapshot import mask_name

ADAPTERS = {"sam": "sam_serial", "pcsc": "pcsc"}
POLL_S = 0.2
WHY = {
    ReadFailure.CARD_PULLED: "the card was taken away while it was read",
    ReadFailure.UNREADABLE: "the card could not be read (bad frames or an unknown card)",
    ReadFailure.WRONG_CARD: "the card is not an identity document",
    ReadFailure.INVALID_NUMBER: "the document's number fails its check digit",
    ReadFailure.EXPIRED: "the document has expired",
}


def _reader(profile: Profile | None, reader: str, port: str | None) -> tuple[str, IdReader]:
    """The reader to ask, or raise ValueError with a one-line reason."""
    if port is not None:
        if reader != "sam":
            raise ValueError("--port is for a SAM reader (--reader sam)")
        return port, ResidentIdSamReader(SerialLink(port, baudrate=115200),
                                         read_card_already_there=True)
    assert profile is not None
    configs = [c for c in profile.devices.configs("id_reader") if c.adapter == ADAPTERS[reader]]
    if not configs:
        raise ValueError(f"profile {profile.profile} fits no {ADAPTERS[reader]} reader")
    config = configs[0]
    if isinstance(config, SamSerialConfig):
        return config.port, ResidentIdSamReader(SerialLink(config.port,
                                                           baudrate=config.baudrate),
                                                read_card_already_there=True)
    raise ValueError(f"{config.adapter} is not available in this build yet")


def describe(identity: Identity, show_pii: bool) -> dict[str, Any]:
    return {
        "kind": identity.kind.value,
        "name": identity.name if show_pii else mask_name(identity.name),
        "name_latin": identity.name_latin if show_pii else mask_name(identity.name_latin),
        "id_number": identity.id_number if show_pii else mask(identity.id_number),
        "sex": identity.sex,
        "birth_date": identity.birth_date if show_pii else identity.birth_date[:4] + "****",
        "address": identity.address if show_pii else ("***" if identity.address else ""),
        "nationality": identity.nationality,
        "ethnic_group": identity.ethnic_group,
        "issuer": identity.issuer,
        "valid_from": identity.valid_from,
        "valid_to": identity.valid_to,
        "photo": f"{identity.photo.format}, {len(identity.photo.data)} bytes"
        if identity.photo else "",
        "usable": (refused := refusal(identity, dt.date.today())) is None,
        "refused": refused.value if refused else "",
    }


def run_read_id(profile: Profile | None, *, reader: str, port: str | None, timeout_s: float,
                as_json: bool, show_pii: bool) -> tuple[int, list[str]]:
    """(exit code, lines to print)."""
    try:
        where, device = _reader(profile, reader, port)
    except ValueError as e:
        return 2, [f"kiosk: {e}"]
    worker = DeviceWorker("id_reader", "id_reader", device, call_timeout_s=min(5.0, timeout_s))
    deadline = time.monotonic() + timeout_s
    try:
        status = worker.refresh().status
        if not status.usable:
            return 1, [f"kiosk: the reader on {where} cannot be used: {status.state} "
                       f"({status.reason}): {status.message}"]
        while time.monotonic() < deadline:
            result = worker.call(lambda r: r.read(), None, what="read")
            read = result.value
            if read is None or read.failure is ReadFailure.DEVICE_FAULT:
                status = worker.refresh().status
                return 1, [f"kiosk: the reader on {where} stopped answering: "
                           f"{status.reason or 'device_fault'}"]
            if read.identity is not None:
                doc = describe(read.identity, show_pii)
                if as_json:
                    return 0, [json.dumps(doc, ensure_ascii=False)]
                return 0, [f"{k}: {v}" for k, v in doc.items() if v]
            if read.failure is not ReadFailure.NO_CARD:
                assert read.failure is not None
                return 1, [f"kiosk: {WHY.get(read.failure, read.failure.value)}"]
            time.sleep(POLL_S)  # a technician's wait for a card: a real device, real time
        return 1, [f"kiosk: no document was presented on {where} within {timeout_s:g} s"]
    finally:
        worker.stop()
