"""`kiosk device read-id`: a technician's check of an identity reader, through the same
adapter and DeviceWorker as a session, with personal data masked unless asked for."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

from devices.id_reader.gb11643 import mask
from devices.id_reader.pcsc.config import PcscConfig
from devices.id_reader.pcsc.icao9303.mrz import MrzError, MrzKey
from devices.id_reader.pcsc.reader import PcscReader
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
    ReadFailure.ACCESS_KEY_NEEDED: "a passport: give its details with --mrz-key DOCNO/BIRTH/EXPIRY",
    ReadFailure.ACCESS_DENIED: "the passport refused the --mrz-key details (check them)",
}


def _reader(profile: Profile | None, reader: str, port: str | None,
            mrz_key: str | None) -> tuple[str, IdReader]:
    """The reader to ask, or raise ValueError with a one-line reason."""
    if port is not None:
        if reader != "sam":
            raise ValueError("--port is for a SAM reader (--reader sam)")
        return port, ResidentIdSamReader(SerialLink(port, baudrate=115200),
                                         read_card_already_there=True)
    configs = [c for c in (profile.devices.configs("id_reader") if profile else ())
               if c.adapter == ADAPTERS[reader]]
    if reader == "pcsc":
        config = configs[0] if configs else None
        if profile is not None and config is None:
            raise ValueError(f"profile {profile.profile} fits no pcsc reader")
        name = config.reader if isinstance(config, PcscConfig) else None
        pcsc = PcscReader(name, ("passport", "bank_card"), read_card_already_there=True)
        if mrz_key is not None:
            try:
                pcsc.set_access_key(MrzKey.parse(mrz_key))
            except MrzError as e:
                raise ValueError(f"--mrz-key: {e}") from e
        return name or "the first PC/SC reader", pcsc
    if not configs:
        assert profile is not None
        raise ValueError(f"profile {profile.profile} fits no {ADAPTERS[reader]} reader")
    config = configs[0]
    assert isinstance(config, SamSerialConfig)
    return config.port, ResidentIdSamReader(SerialLink(config.port, baudrate=config.baudrate),
                                            read_card_already_there=True)


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
                as_json: bool, show_pii: bool,
                mrz_key: str | None = None) -> tuple[int, list[str]]:
    """(exit code, lines to print)."""
    try:
        where, device = _reader(profile, reader, port, mrz_key)
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
