"""Device fakes and simulators behave as their protocols say, including their trouble."""

from __future__ import annotations

from devices.camera.protocol import FaceOutcome
from devices.camera.simulator import SimulatedCamera
from devices.id_reader.gb11643 import check_digit, is_valid, mask
from devices.id_reader.protocol import ReadFailure
from devices.id_reader.simulator import DEMO_CITIZENS, SimulatedIdReader
from devices.locker.protocol import DoorOutcome
from devices.locker.simulator import SimulatedLocker
from devices.printer.protocol import PrintFailure, Receipt
from devices.printer.simulator import SimulatedPrinter
from devices.status import DeviceState, DeviceStatus


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_gb11643_check_digit_matches_the_standard_example() -> None:
    assert check_digit("11010519491231002") == "X"
    assert is_valid("11010519491231002X") and is_valid("11010519491231002x")
    assert not is_valid("110105194912310021") and not is_valid("1101051949123")
    assert mask("11010519491231002X") == "110105********002X"
    assert all(is_valid(c.id_number) for c in DEMO_CITIZENS)


def test_simulated_reader_presents_a_card_after_the_delay_then_takes_it_back() -> None:
    clock = Clock()
    reader = SimulatedIdReader(present_after_s=1.5, remove_after_s=2.0, clock=clock)
    assert reader.read().failure is ReadFailure.NO_CARD
    clock.t = 1.6
    first = reader.read()
    assert first.ok and first.identity == DEMO_CITIZENS[0]
    assert reader.card_present()
    clock.t = 4.0
    assert not reader.card_present()


def test_simulated_reader_can_be_told_the_card_was_pulled() -> None:
    clock = Clock()
    reader = SimulatedIdReader(present_after_s=0, clock=clock)
    reader.fail_next(ReadFailure.CARD_PULLED)
    assert reader.read().failure is ReadFailure.CARD_PULLED
    assert reader.read().ok


def test_simulated_reader_offline_is_a_device_fault_not_an_exception() -> None:
    reader = SimulatedIdReader(present_after_s=0)
    reader.set_status(DeviceStatus.offline())
    assert reader.read().failure is ReadFailure.DEVICE_FAULT


def test_simulated_printer_runs_low_then_out_of_paper(tmp_path) -> None:  # type: ignore[no-untyped-def]
    printer = SimulatedPrinter(tmp_path, paper_receipts=3, low_at=2)
    assert printer.status().state is DeviceState.READY
    assert printer.print_receipt(Receipt("回执", ("办件编号: X",))).ok
    assert printer.status().state is DeviceState.DEGRADED  # paper low: still offered
    assert printer.print_receipt(Receipt("r")).ok and printer.print_receipt(Receipt("r")).ok
    assert printer.status() == DeviceStatus.fault("paper_out", "receipt paper is out")
    assert printer.print_receipt(Receipt("r")).failure is PrintFailure.PAPER_OUT
    texts = sorted(tmp_path.glob("receipt-*.txt"))
    assert len(texts) == 3 and "办件编号: X" in texts[0].read_text(encoding="utf-8")


def test_simulated_locker_door_closes_after_the_citizen_takes_the_item() -> None:
    clock = Clock()
    locker = SimulatedLocker(4, close_after_s=3.0, clock=clock)
    assert locker.open_door(9) is DoorOutcome.NO_SUCH_DOOR
    assert locker.open_door(2) is DoorOutcome.OPENED
    state = locker.door_state(2)
    assert state is not None and state.is_open and state.item_present
    clock.t = 3.1
    state = locker.door_state(2)
    assert state is not None and not state.is_open and not state.item_present


def test_simulated_locker_jam_is_reported_not_retried() -> None:
    locker = SimulatedLocker(4)
    locker.jam(3)
    assert locker.open_door(3) is DoorOutcome.JAMMED
    state = locker.door_state(3)
    assert state is not None and not state.is_open


def test_simulated_camera_captures_a_face_after_the_delay_and_reads_qr_codes() -> None:
    clock = Clock()
    camera = SimulatedCamera(face_after_s=1.0, clock=clock)
    assert camera.check_face().outcome is FaceOutcome.PENDING
    clock.t = 1.2
    check = camera.check_face()
    assert check.outcome is FaceOutcome.CAPTURED and check.best_frame
    assert camera.scan_qr() is None
    camera.show_qr("https://example.test/qr")
    assert camera.scan_qr() == "https://example.test/qr"
    camera.set_status(DeviceStatus.fault("usb_reset", "camera reset"))
    assert camera.check_face().outcome is FaceOutcome.FAULT
