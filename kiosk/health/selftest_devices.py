"""What the self-test does with each kind of device once its own self-test says it is usable:
read a test card if one is on the reader, print a test receipt or certificate, read the doors
(and open and close one only after the technician says yes), look for a face or a QR code.
Each gives (ok, what was found, what to do when not ok); nothing personal is kept."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from devices.worker import DeviceWorker
from kiosk.config.profile import Profile

Outcome = tuple[bool, str, str]
CAMERA_LOOKS = 20  # frames looked at for a face or a QR code
DOOR_CLOSE_WAIT_S = 60.0


def test_print_job(profile: Profile, kind: str) -> Callable[[Any], Any]:
    """A receipt with Chinese text and a QR code, or an A4 test certificate."""
    from devices.certificate_printer.protocol import CertificateDocument
    from devices.printer.protocol import Receipt
    from kiosk.session.steps.certificate_pdf import render_certificate

    when = time.strftime("%Y-%m-%d %H:%M:%S")
    if kind == "printer":
        receipt = Receipt("打印测试 Print test", (f"终端 Terminal: {profile.terminal.id}",
                                                  f"时间 Time: {when}", "中文 GB18030 汉字测试"),
                          f"KIOSK-PRINT-TEST {profile.terminal.id} {when}", "测试完成 Test done")
        return lambda p: p.print_receipt(receipt)
    pdf = render_certificate({
        "serial": "TEST", "verification_code": "TEST", "title_zh": "打印测试",
        "title_en": "Print test", "issuer": profile.terminal.name.get("zh"),
        "holder": "测试", "district": profile.terminal.id, "issued_at": time.time()},
        profile.backoffice.url or "http://127.0.0.1")
    document = CertificateDocument("TEST", "打印测试 Print test", pdf)
    return lambda p: p.print_certificate(document)


def exercise(worker: DeviceWorker[Any], profile: Profile, *, confirm: Callable[[str], bool],
             test_door: int | None, timeout_s: float) -> Outcome:
    if worker.kind == "id_reader":
        return _card(worker, timeout_s)
    if worker.kind in ("printer", "certificate_printer"):
        return _print(worker, profile, timeout_s)
    if worker.kind == "locker":
        return _doors(worker, confirm, test_door, timeout_s)
    if worker.kind == "camera":
        return _look(worker, timeout_s)
    return True, "answers its self-test", ""


def _card(worker: DeviceWorker[Any], timeout_s: float) -> Outcome:
    present = worker.call(lambda r: r.card_present(), False, timeout_s=timeout_s,
                          what="card present").value
    if not present:
        return True, "ready; no test card presented (put one on to test a read)", ""
    result = worker.call(lambda r: r.read(), None, timeout_s=timeout_s * 2, what="test read")
    read = result.value
    if read is None:
        return False, f"the test card could not be read ({result.problem})", \
            "take the card off, put it back, and run again; if it fails again, check the reader"
    kind = read.identity.kind.value if read.identity is not None else None
    del read  # whose card it was is not the test's business
    if kind is None:
        return False, "a card is there but the read failed", \
            "use a known good test card; clean the reader's window"
    return True, f"test card read: a {kind}", ""


def _print(worker: DeviceWorker[Any], profile: Profile, timeout_s: float) -> Outcome:
    what = "certificate" if worker.kind == "certificate_printer" else "receipt"
    done = worker.call(test_print_job(profile, worker.kind), None, timeout_s=timeout_s * 3,
                       what=f"test {what}")
    result = done.value
    if result is None:
        return False, f"the test {what} did not finish ({done.problem})", \
            "check the printer's power and cable, then run again"
    if not result.ok:
        return False, f"the test {what} failed: {result.failure} {result.detail}".strip(), \
            "load paper / close the cover / clear the jam as the printer shows, then run again"
    return True, f"test {what} printed", ""


def _doors(worker: DeviceWorker[Any], confirm: Callable[[str], bool], door: int | None,
           timeout_s: float) -> Outcome:
    states = worker.call(lambda lk: lk.door_states(), None, timeout_s=timeout_s,
                         what="door states").value
    if not states:
        return False, "the doors could not be read", \
            "check the RS-485 cable and the boards' addresses"
    silent = sorted(d for d, s in states.items() if s is None)
    opened = sorted(d for d, s in states.items() if s is not None and s.is_open)
    text = f"{len(states)} doors read"
    if silent:
        return False, f"{text}; no answer for doors {silent[:10]}", \
            "check the board behind those doors (power, address switches, cable)"
    if opened:
        text += f"; open now: {opened[:10]}"
    if door is None:
        return True, text + "; no compartment opened (give one to test a door)", ""
    if not confirm(f"Open compartment {door} for the test? Keep hands clear."):
        return True, text + f"; compartment {door} not opened (not confirmed)", ""
    outcome = worker.call(lambda lk: lk.open_door(door), None, timeout_s=timeout_s * 2,
                          what="test door").value
    if outcome is None or str(outcome) != "opened":
        return False, f"compartment {door} did not open ({outcome})", \
            "check that lock's wiring and the door sensor; clear anything holding the door"
    confirm(f"Compartment {door} is open. Close its door, then say yes.")
    deadline = time.monotonic() + DOOR_CLOSE_WAIT_S
    while time.monotonic() < deadline:
        state = worker.call(lambda lk: lk.door_state(door), None, timeout_s=timeout_s,
                            what="test door closed").value
        if state is not None and not state.is_open:
            return True, text + f"; compartment {door} opened and closed", ""
        time.sleep(0.5)
    return False, f"compartment {door} opened but does not read closed", \
        "close the door firmly; if it is closed, check the door sensor"


def _look(worker: DeviceWorker[Any], timeout_s: float) -> Outcome:
    for _ in range(CAMERA_LOOKS):
        code = worker.call(lambda c: c.scan_qr(), None, timeout_s=timeout_s,
                           what="test QR").value
        if code:
            return True, "frame grabbed; a QR code was found", ""
        face = worker.call(lambda c: c.check_face(), None, timeout_s=timeout_s,
                           what="test face").value
        if face is not None and str(face.outcome) == "captured":
            return True, "frame grabbed; a face was found", ""
        if face is not None and str(face.outcome) == "fault":
            return False, "the camera gives no usable frame", \
                "check the camera's cable and that nothing covers the lens"
    return False, "frames grabbed, but no face or QR code was found in them", \
        "stand in front of the camera (or hold up a QR code) and run again; check the " \
        "lighting and the lens"
