"""The citizen session state machine, driven with fakes and a fake clock."""

from __future__ import annotations

import json

from devices.id_reader.protocol import ReadFailure
from devices.locker.protocol import DoorOutcome
from devices.printer.protocol import PrintFailure
from devices.status import DeviceStatus
from kiosk.config.catalogue import Intent
from kiosk.session import State
from tests.flows import (
    RECEIPT_SERVICE,
    identify,
    load_item,
    open_door_7,
    to_confirm_household_proof,
    to_confirm_receipt,
)


def test_household_proof_fits_four_taps_and_prints_the_certificate(rig, citizen):  # type: ignore[no-untyped-def]
    s = rig.session
    s.touch()
    s.choose_intent(Intent.APPLY)
    s.choose("household_proof")
    assert s.state is State.IDENTIFY
    identify(rig, citizen)
    assert s.state is State.CONFIRM  # no form: the data platform holds everything
    s.confirm()
    assert s.state is State.DONE
    (document,) = rig.certificate_printer.printed
    v = s.view()
    assert v.outcome.printed is True and v.outcome.serial_no == document.serial_no
    (issued,) = rig.certificates.issued.values()
    assert issued["serial"] == document.serial_no and document.pdf.startswith(b"%PDF")
    assert rig.printer.printed == []  # the certificate is what the citizen leaves with
    kinds = [e[0] for e in rig.sink.envelopes]
    assert kinds == ["certificate.printed"]  # nothing queued to issue it: it was, now
    assert citizen.id_number.encode() not in rig.sink.envelopes[0][1]


def test_a_receipt_application_goes_to_the_outbox_and_prints_its_receipt(rig, citizen):  # type: ignore[no-untyped-def]
    s = to_confirm_receipt(rig, citizen)
    s.confirm()
    assert s.state is State.DONE
    assert len(rig.sink.envelopes) == 1
    kind, payload, _key = rig.sink.envelopes[0]
    body = json.loads(payload)
    assert kind == "application.submit" and body["service_id"] == RECEIPT_SERVICE
    assert body["citizen"]["id_number"] == citizen.id_number
    assert rig.printer.printed and body["tracking_no"] in "\n".join(rig.printer.printed[0].lines)
    assert s.view().outcome.printed is True


def test_coffee_shop_group_form_requires_fields_then_submits(rig, citizen):  # type: ignore[no-untyped-def]
    s = rig.session
    s.touch()
    s.choose_intent(Intent.APPLY)
    assert "open_shop" in [c.id for c in s.view().choices]
    s.choose("open_shop")
    assert [c.id for c in s.view().choices] == ["open_coffee_shop", "open_restaurant"]
    s.choose("open_coffee_shop")
    identify(rig, citizen)
    assert s.state is State.FILL
    s.submit_form()
    assert s.state is State.FILL and set(s.view().errors) == {"shop_name", "shop_address",
                                                             "floor_area"}
    s.set_field("floor_area", "not-a-choice")
    assert s.view().errors["floor_area"] == "invalid_choice"
    s.set_field("shop_name", "晨光咖啡")
    s.set_field("shop_address", "世纪大道1号")
    s.set_field("floor_area", "lt50")
    s.submit_form()
    assert s.state is State.CONFIRM
    s.confirm()
    assert s.state is State.DONE
    assert json.loads(rig.sink.envelopes[0][1])["form"]["shop_name"] == "晨光咖啡"


def test_no_printer_hides_every_service_that_must_print(rig):  # type: ignore[no-untyped-def]
    rig.printer.set_status(DeviceStatus.fault("paper_out", "no paper"))
    rig.tick()
    s = rig.session
    s.touch()
    s.choose_intent(Intent.APPLY)
    reasons = {c.id: c.unavailable_reason for c in s.view().choices}
    assert reasons[RECEIPT_SERVICE] == "needs_printer"
    s.choose(RECEIPT_SERVICE)
    assert s.state is State.CHOOSE and s.view().notice.key == "service_unavailable"


def test_every_device_down_shows_out_of_service_then_recovers(rig):  # type: ignore[no-untyped-def]
    rig.reader.set_status(DeviceStatus.offline())
    rig.tick()
    assert rig.session.state is State.OUT_OF_SERVICE
    rig.reader.set_status(DeviceStatus.ready())
    rig.tick()
    assert rig.session.state is State.ATTRACT


def test_inactivity_countdown_ends_session_and_wipes_personal_data(rig, citizen):  # type: ignore[no-untyped-def]
    s = rig.session
    s.touch()
    s.set_language("en")
    s.choose_intent(Intent.APPLY)
    s.choose("open_shop")
    s.choose("open_coffee_shop")
    identify(rig, citizen)
    s.set_field("shop_name", "Dawn Coffee")
    assert s.view().masked_name == "张*"
    rig.tick(29)
    assert s.view().countdown_s is None
    rig.tick(2)
    assert 0 < s.view().countdown_s < 20
    rig.tick(20)
    assert s.state is State.GOODBYE
    v = s.view()
    assert v.masked_name is None and v.values == {} and v.service is None
    assert s.identity is None and s.face_frame is None
    assert citizen.name not in repr(v) and citizen.id_number not in repr(v)
    assert s.language == "en"  # the goodbye still speaks the citizen's language
    rig.reader.remove_card()  # the card is taken: the call-out goes, then the goodbye
    rig.tick()
    rig.tick(5)
    assert s.state is State.ATTRACT and s.language == "zh"


def test_citizen_can_extend_time_at_least_ten_times(rig):  # type: ignore[no-untyped-def]
    s = rig.session
    s.touch()
    for _ in range(10):
        rig.tick(45)
        assert s.view().countdown_s is not None
        s.extend_time()
        assert s.view().countdown_s is None
    assert s.view().extensions_left == 0
    rig.tick(45)
    s.extend_time()  # no more extensions: the countdown keeps running
    rig.tick(10)
    assert s.state is State.GOODBYE


def test_elder_mode_doubles_the_inactivity_limit(rig):  # type: ignore[no-untyped-def]
    s = rig.session
    s.touch()
    s.set_elder(True)
    rig.tick(59)
    assert s.view().countdown_s is None
    rig.tick(2)
    assert s.view().countdown_s is not None


def test_card_pulled_during_read_says_so_and_keeps_waiting(rig, citizen):  # type: ignore[no-untyped-def]
    s = rig.session
    s.touch()
    s.choose_intent(Intent.APPLY)
    s.choose("household_proof")
    rig.reader.fail_next(ReadFailure.CARD_PULLED)
    rig.tick()
    assert s.state is State.IDENTIFY and s.view().notice.key == "id_card_pulled"
    identify(rig, citizen)
    assert s.state is State.CONFIRM


def test_disk_full_on_submit_keeps_the_form_and_says_so(rig, citizen):  # type: ignore[no-untyped-def]
    s = to_confirm_receipt(rig, citizen)
    rig.sink.fail = True
    s.confirm()
    assert s.state is State.CONFIRM and s.view().notice.key == "submit_failed"
    rig.sink.fail = False
    s.confirm()
    assert s.state is State.DONE


def test_paper_out_mid_receipt_keeps_submission_and_offers_reprint(rig, citizen):  # type: ignore[no-untyped-def]
    s = to_confirm_receipt(rig, citizen)
    rig.printer.fail_next(PrintFailure.PAPER_OUT)
    s.confirm()
    v = s.view()
    assert v.state is State.DONE and v.outcome.printed is False and v.notice.key == "print_failed"
    assert len(rig.sink.envelopes) == 1  # submitted all the same
    s.reprint()
    assert s.view().outcome.printed is True and len(rig.sink.envelopes) == 1


def test_collect_opens_the_right_door_and_records_collection(rig, citizen):  # type: ignore[no-untyped-def]
    s = open_door_7(rig, citizen)
    assert s.view().outcome.door == 7
    assert rig.locker.opened == [7]
    rig.tick(30)  # door still open: no timeout while the citizen is taking the item
    assert s.state is State.HANDOVER
    rig.locker.citizen_takes_item_and_closes(7)
    rig.tick()
    assert s.state is State.DONE and rig.inventory.items() == []
    assert [e[0] for e in rig.sink.envelopes] == ["locker.collected"]


def test_jammed_door_is_reported_not_retried(rig, citizen):  # type: ignore[no-untyped-def]
    load_item(rig, 3, citizen, "证", "Cert")
    rig.locker.jam.add(3)
    s = rig.session
    s.touch()
    s.choose_intent(Intent.COLLECT)
    identify(rig, citizen)
    assert s.state is State.DONE and s.view().notice.key == "door_failed"
    assert rig.locker.opened == [] and rig.inventory.items() != []
    assert any(e["event"] == "locker_door_failed" and e["outcome"] == DoorOutcome.JAMMED
               for e in rig.audit.recent)


def test_nothing_to_collect_is_said_plainly(rig, citizen):  # type: ignore[no-untyped-def]
    s = rig.session
    s.touch()
    s.choose_intent(Intent.COLLECT)
    identify(rig, citizen)
    assert s.state is State.DONE and s.view().outcome.nothing_to_collect


def test_call_staff_from_any_screen_queues_one_event_without_personal_data(rig, citizen):  # type: ignore[no-untyped-def]
    s = to_confirm_household_proof(rig, citizen)
    s.call_staff()
    s.call_staff()
    calls = [e for e in rig.sink.envelopes if e[0] == "staff.call"]
    assert len(calls) == 1 and json.loads(calls[0][1])["screen"] == "confirm"
    assert citizen.id_number.encode() not in calls[0][1]
    assert s.view().staff_called


def test_query_without_back_office_says_it_cannot_ask(rig, citizen):  # type: ignore[no-untyped-def]
    s = rig.session
    s.touch()
    s.choose_intent(Intent.QUERY)
    rig.reader.present(citizen)
    rig.tick()
    assert s.state is State.DONE and s.view().outcome.applications is None


def test_back_walks_out_and_wipes(rig, citizen):  # type: ignore[no-untyped-def]
    s = to_confirm_household_proof(rig, citizen)
    s.back()
    assert s.state is State.CHOOSE
    s.back()
    assert s.state is State.HOME
    s.back()
    assert s.state is State.GOODBYE and s.identity is None


def test_maintenance_window_shows_out_of_service_with_the_end_time(rig):  # type: ignore[no-untyped-def]
    import time as _time

    t = _time.localtime(rig.clock.wall())
    now = t.tm_hour * 60 + t.tm_min
    rig.session.d.maintenance = (now, (now + 20) % 1440)
    rig.tick()
    v = rig.session.view()
    end = (now + 20) % 1440
    assert v.state is State.OUT_OF_SERVICE and v.notice.key == "maintenance"
    assert v.notice.param("until") == f"{end // 60:02d}:{end % 60:02d}"
    rig.tick(20 * 60)
    assert rig.session.state is State.ATTRACT


def test_receipt_carries_the_profile_status_qr(rig, citizen):  # type: ignore[no-untyped-def]
    rig.session.d.receipt_qr_prefix = "https://example.test/track?no="
    s = to_confirm_receipt(rig, citizen)
    s.confirm()
    tracking = s.view().outcome.tracking_no
    assert rig.printer.printed[0].qr_data == "https://example.test/track?no=" + tracking


def test_receipt_carries_the_branding_logo(rig, citizen):  # type: ignore[no-untyped-def]
    rig.session.d.receipt_logo = b"\x89PNG the hall's logo"
    s = to_confirm_receipt(rig, citizen)
    s.confirm()
    assert rig.printer.printed[0].logo == b"\x89PNG the hall's logo"


def test_card_left_in_the_reader_is_called_out_until_it_is_taken(rig, citizen):  # type: ignore[no-untyped-def]
    s = to_confirm_receipt(rig, citizen)  # the fake reader keeps the card "present"
    s.confirm()
    s.finish()
    assert s.view().card_left
    rig.reader.remove_card()
    rig.tick(1)
    assert s.state is State.GOODBYE and not s.view().card_left


def test_too_little_space_to_keep_a_submission_refuses_new_sessions_and_says_so(rig):  # type: ignore[no-untyped-def]
    free = [10 * 1024 * 1024 * 1024]
    rig.session.d.storage_free = lambda: free[0]
    rig.tick()
    assert rig.session.state is State.ATTRACT
    free[0] = rig.session.d.timings.min_free_bytes - 1  # filled up between two ticks
    rig.session.touch()
    v = rig.session.view()
    assert v.state is State.OUT_OF_SERVICE and v.notice.key == "storage_full"
    free[0] = rig.session.d.timings.min_free_bytes
    rig.tick()
    assert rig.session.state is State.ATTRACT
