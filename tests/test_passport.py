"""ICAO 9303 passports: the MRZ key and BAC (the ICAO worked example), secure messaging, and a
virtual passport chip read through the real pcscd by the production PC/SC adapter."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.id_reader.pcsc.cards.bank import VirtualBankCard
from devices.id_reader.pcsc.cards.passport import VirtualPassport, td3
from devices.id_reader.pcsc.icao9303 import crypto
from devices.id_reader.pcsc.icao9303.mrz import MrzError, MrzKey, parse_td3
from devices.id_reader.pcsc.icao9303.sm import SessionKeys, SmError
from devices.id_reader.pcsc.reader import PcscReader
from devices.id_reader.protocol import DocumentKind, ReadFailure
from kiosk.demo.pcscd import pcscd, seen_empty
from tests.waits import wait_until

ROOT = Path(__file__).resolve().parent.parent
READER = "Virtual PCD 00 00"
MRZ = td3("ERIKSSON", "ANNA MARIA", "L898902C", "UTO", "690806", "F", "340623")
FACE = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 60 + b"\xff\xd9"  # a 15 KB "JPEG"


def test_icao_worked_example_gives_the_published_keys() -> None:
    key = MrzKey.parse("L898902C<3/6908061/9406236")
    assert key.seed_input() == "L898902C<369080619406236"
    seed = crypto.k_seed(key.seed_input())
    assert seed.hex().upper() == "239AB9CB282DAF66231DC5A4DF6BFBAE"
    assert crypto.derive(seed, crypto.ENC).hex().upper() == "AB94FDECF2674FDFB9B391F85D7F76F2"
    assert crypto.derive(seed, crypto.MAC).hex().upper() == "7962D9ECE03D1ACD4C76089DCE131543"


@pytest.mark.parametrize("text", ["L898902C/690806/940623", "l898902c<3/6908061/9406236",
                                  " L898902C / 690806 / 940623 "])
def test_mrz_key_takes_the_fields_with_or_without_check_digits(text: str) -> None:
    assert MrzKey.parse(text) == MrzKey("L898902C", "690806", "940623")


@pytest.mark.parametrize("text", ["L898902C<4/6908061/9406236", "L898902C/6908062/940623",
                                  "L898902C/690806", "L8989-02C/690806/940623"])
def test_a_wrong_check_digit_or_shape_is_refused(text: str) -> None:
    with pytest.raises(MrzError):
        MrzKey.parse(text)


def test_td3_is_parsed_and_its_check_digits_checked() -> None:
    parsed = parse_td3(MRZ)
    assert (parsed.surname, parsed.given_names, parsed.document_number) == (
        "ERIKSSON", "ANNA MARIA", "L898902C")
    with pytest.raises(MrzError, match="birth date"):
        parse_td3(MRZ[:57] + "7" + MRZ[58:])


@given(st.text(max_size=40))
def test_random_mrz_keys_are_a_key_or_an_mrz_error(text: str) -> None:
    with contextlib.suppress(MrzError):
        MrzKey.parse(text)


@given(st.binary(max_size=200))
def test_random_secure_messaging_answers_are_refused(answer: bytes) -> None:
    keys = SessionKeys(bytes(range(16)), bytes(range(16, 32)), 0)
    with contextlib.suppress(SmError):
        keys.unwrap(answer)
        raise AssertionError("an answer without the right MAC was accepted")


@pytest.fixture(scope="module")
def pcsc_daemon() -> Iterator[None]:
    with pcscd():
        yield


@pytest.fixture
def passport(pcsc_daemon: None) -> Iterator[VirtualPassport]:
    wait_until(lambda: seen_empty(READER), 10, "an empty reader")
    card = VirtualPassport(MRZ, FACE)
    yield card
    card.remove()


def reader_with(card: VirtualPassport | VirtualBankCard, key: str | None) -> PcscReader:
    reader = PcscReader(READER, ("passport", "bank_card"))
    assert reader.read().failure is ReadFailure.NO_CARD
    if key is not None:
        reader.set_access_key(MrzKey.parse(key))
    card.insert()
    wait_until(reader.card_present, 10, "the card in the virtual reader")
    return reader


@pytest.mark.realstack
def test_passport_is_read_through_pcscd_with_its_face(passport: VirtualPassport) -> None:
    result = reader_with(passport, "L898902C/690806/340623").read()
    assert result.ok and result.identity is not None
    who = result.identity
    assert who.kind is DocumentKind.PASSPORT and who.id_number == "L898902C"
    assert (who.name, who.sex, who.nationality) == ("ERIKSSON ANNA MARIA", "女", "UTO")
    assert (who.birth_date, who.valid_to) == ("19690806", "20340623")
    assert who.photo is not None and who.photo.format == "jpeg" and who.photo.data == FACE
    # the reader's look for the applet, then BAC's SELECT, GET CHALLENGE and MUTUAL
    # AUTHENTICATE; every file after that only under secure messaging
    assert [a[1] for a in passport.apdus[:4]] == [0xA4, 0xA4, 0x84, 0x82]
    assert all(apdu[0] & 0x0C == 0x0C for apdu in passport.apdus[4:])


@pytest.mark.realstack
def test_passport_without_its_details_asks_for_them(passport: VirtualPassport) -> None:
    assert reader_with(passport, None).read().failure is ReadFailure.ACCESS_KEY_NEEDED


@pytest.mark.realstack
def test_passport_with_wrong_details_is_access_denied(passport: VirtualPassport) -> None:
    result = reader_with(passport, "L898902C/690806/340624").read()
    assert result.failure is ReadFailure.ACCESS_DENIED


@pytest.mark.realstack
def test_read_id_reads_a_passport_with_the_mrz_key(passport: VirtualPassport) -> None:
    passport.insert()

    def read_id(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "kiosk.cli", "device", "read-id", "--reader", "pcsc",
             "--timeout", "10", *extra], capture_output=True, text=True, timeout=60, cwd=ROOT)

    done = read_id("--mrz-key", "L898902C<3/6908061/3406234", "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["kind"] == "passport" and doc["id_number"] == "********"  # masked
    assert "L898902C" not in done.stdout and "ERIKSSON" not in done.stdout
    assert doc["photo"] == f"jpeg, {len(FACE)} bytes"
    missing = read_id()
    assert missing.returncode == 1 and "--mrz-key" in missing.stderr
