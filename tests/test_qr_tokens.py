"""Identity QR codes: tokens issued by the reference back office, drawn as QR codes, read back
with zxing-cpp and verified offline; forged, expired, replayed and malformed ones refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from backoffice import RunningBackOffice
from backoffice.qr_tokens import QrIssuer
from devices.camera.qr import decode_qr
from devices.id_reader.protocol import DocumentKind
from devices.id_reader.qr.token import TokenRefusal, TokenVerifier

ROOT = Path(__file__).resolve().parent.parent
ZHANG = {"id": "310115198001010024", "name": "张三", "sex": "1", "birth": "19800101"}


@pytest.fixture
def issuer(tmp_path: Path) -> QrIssuer:
    return QrIssuer(tmp_path)


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_a_token_verifies_once_and_gives_the_identity(issuer: QrIssuer) -> None:
    token, _ = issuer.issue(ZHANG, now=1_800_000_000)
    verifier = TokenVerifier(issuer.public_key_pem(), clock=Clock(1_800_000_060))
    check = verifier.verify(token)
    assert check.identity is not None and check.identity.kind is DocumentKind.QR_CODE
    assert (check.identity.id_number, check.identity.name, check.identity.sex) == (
        ZHANG["id"], "张三", "男")
    assert verifier.verify(token).refusal is TokenRefusal.REPLAYED  # a screenshot shown twice


def test_a_used_token_stays_used_after_a_restart_until_it_expires(issuer: QrIssuer,
                                                                   tmp_path: Path) -> None:
    from kiosk.records.used_tokens import UsedTokenStore

    token, expires = issuer.issue(ZHANG, now=1_800_000_000)
    other, _ = issuer.issue(ZHANG, now=1_800_000_000)
    store = UsedTokenStore(tmp_path / "used.db")
    first = TokenVerifier(issuer.public_key_pem(), clock=Clock(1_800_000_010), used=store)
    assert first.verify(token).identity is not None
    store.close()
    after_restart = TokenVerifier(issuer.public_key_pem(), clock=Clock(1_800_000_020),
                                  used=UsedTokenStore(tmp_path / "used.db"))
    assert after_restart.verify(token).refusal is TokenRefusal.REPLAYED
    assert after_restart.verify(other).identity is not None  # another token is not affected
    # Expired ids are forgotten (the token itself is refused as expired by then).
    store = UsedTokenStore(tmp_path / "used.db")
    assert store.first_use("fresh", expires + 100, now=expires + 1)
    import sqlite3

    with sqlite3.connect(tmp_path / "used.db") as db:
        assert [r[0] for r in db.execute("SELECT jti FROM used_tokens")] == ["fresh"]


def test_expired_and_future_tokens_are_refused(issuer: QrIssuer) -> None:
    token, expires = issuer.issue(ZHANG, now=1_800_000_000)
    assert TokenVerifier(issuer.public_key_pem(), clock=Clock(expires + 1)).verify(
        token).refusal is TokenRefusal.EXPIRED
    assert TokenVerifier(issuer.public_key_pem(), clock=Clock(1_799_999_000)).verify(
        token).refusal is TokenRefusal.NOT_YET_VALID


def test_a_token_from_another_key_or_altered_is_forged(issuer: QrIssuer, tmp_path: Path) -> None:
    (tmp_path / "other").mkdir()
    other = QrIssuer(tmp_path / "other")
    token, _ = other.issue(ZHANG, now=1_800_000_000)
    verifier = TokenVerifier(issuer.public_key_pem(), clock=Clock(1_800_000_001))
    assert verifier.verify(token).refusal is TokenRefusal.FORGED
    mine, _ = issuer.issue(ZHANG, now=1_800_000_000)
    head, body, sig = mine.split(".")
    altered_body = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
    assert verifier.verify(f"{head}.{altered_body}.{sig}").refusal in (
        TokenRefusal.FORGED, TokenRefusal.MALFORMED)


@given(st.text(max_size=300))
def test_random_text_is_refused_never_a_crash(text: str) -> None:
    verifier = TokenVerifier(QrIssuer(Path(_key_dir())).public_key_pem())
    assert verifier.verify(text).refusal is not None


_KEY_DIR: list[str] = []


def _key_dir() -> str:
    """One key for every example (made once: key generation is not what is tested)."""
    if not _KEY_DIR:
        import tempfile

        _KEY_DIR.append(tempfile.mkdtemp(prefix="qr-key-"))
    return _KEY_DIR[0]


@pytest.fixture
def backoffice(reference_backoffice: RunningBackOffice) -> RunningBackOffice:
    return reference_backoffice


def qr_png(token: str, path: Path) -> Path:
    import cv2
    import numpy as np
    import zxingcpp

    image = np.array(zxingcpp.create_barcode(token, zxingcpp.BarcodeFormat.QRCode)
                     .to_image(scale=6))
    framed = cv2.copyMakeBorder(image, 40, 40, 40, 40, cv2.BORDER_CONSTANT, value=255)
    cv2.imwrite(str(path), framed)
    return path


@pytest.mark.realstack
def test_back_office_token_as_a_qr_image_is_read_and_verified(backoffice: RunningBackOffice,
                                                              tmp_path: Path) -> None:
    issued = requests.post(backoffice.url + "/v1/qr-tokens", json=ZHANG, timeout=5,
                           headers=backoffice.headers).json()
    key = requests.get(backoffice.url + "/v1/qr-public-key", timeout=5).json()["public_key_pem"]
    import cv2

    frame = cv2.imread(str(qr_png(issued["token"], tmp_path / "qr.png")), cv2.IMREAD_GRAYSCALE)
    (text,) = decode_qr(frame)
    check = TokenVerifier(key.encode()).verify(text)
    assert check.identity is not None and check.identity.id_number == ZHANG["id"]
    bad = requests.post(backoffice.url + "/v1/qr-tokens", json={"name": "x"}, timeout=5,
                        headers=backoffice.headers)
    assert bad.status_code == 400


@pytest.mark.realstack
def test_kiosk_device_scan_verifies_and_refuses(backoffice: RunningBackOffice,
                                                tmp_path: Path) -> None:
    token = requests.post(backoffice.url + "/v1/qr-tokens", json=ZHANG, timeout=5,
                          headers=backoffice.headers).json()["token"]
    key = tmp_path / "qr.pub"
    key.write_text(requests.get(backoffice.url + "/v1/qr-public-key", timeout=5)
                   .json()["public_key_pem"])
    image = qr_png(token, tmp_path / "phone.png")

    def scan(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "kiosk.cli", "device", "scan", *args],
                              capture_output=True, text=True, timeout=60, cwd=ROOT)

    done = scan("--from", str(image), "--public-key", str(key), "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["id_number"] == "310115********0024" and ZHANG["id"] not in done.stdout
    forged_key = tmp_path / "other"
    forged_key.mkdir()
    (tmp_path / "other.pub").write_bytes(QrIssuer(forged_key).public_key_pem())
    forged = scan("--from", str(image), "--public-key", str(tmp_path / "other.pub"))
    assert forged.returncode == 1 and "signature does not verify" in forged.stderr
    blank = tmp_path / "blank.png"
    import cv2
    import numpy as np

    cv2.imwrite(str(blank), np.full((200, 200), 255, dtype=np.uint8))
    nothing = scan("--from", str(blank), "--public-key", str(key))
    assert nothing.returncode == 1 and "no QR code found" in nothing.stderr
    missing = scan("--from", str(tmp_path / "missing.png"), "--public-key", str(key))
    assert missing.returncode == 2
    gone = tmp_path / "missing.png"
    assert missing.stderr.strip().splitlines() == [f"kiosk: {gone}: no such file"]
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    unreadable = scan("--from", str(broken), "--public-key", str(key))
    assert unreadable.returncode == 2 and len(unreadable.stderr.strip().splitlines()) == 1


def test_a_citizen_identifies_by_showing_the_qr_code_to_the_camera(rig, issuer: QrIssuer,  # type: ignore[no-untyped-def]
                                                                   tmp_path: Path) -> None:
    from devices.camera.opencv.camera import OpencvCamera
    from devices.camera.opencv.frames import FrameSource
    from kiosk.config.catalogue import Intent
    from kiosk.health.monitor import HealthMonitor
    from kiosk.session import State
    from kiosk.terminal import with_qr_source

    wall = rig.clock.wall()
    token, _ = issuer.issue(ZHANG, now=wall)
    old, _ = issuer.issue(ZHANG, now=wall - 3600)
    phone = tmp_path / "phone.png"
    rig.refit("camera", OpencvCamera(FrameSource(str(qr_png(old, phone)))))
    verifier = TokenVerifier(issuer.public_key_pem(), clock=rig.clock.wall)
    devices = with_qr_source(rig.session.d.devices, verifier, 1.0)
    rig.health = HealthMonitor(devices)
    rig.session.d.devices, rig.session.d.statuses = devices, rig.health.by_kind
    s = rig.session
    s.touch()
    s.choose_intent(Intent.QUERY)  # 我要查: no face check needed after the QR
    rig.tick()
    assert s.state is State.IDENTIFY and s.view().notice.key == "id_qr_expired"
    before = phone.stat().st_mtime_ns
    qr_png(token, phone)  # the citizen refreshes the code in the app
    os.utime(phone, ns=(before + 10**9, before + 10**9))  # a new frame, whatever the fs clock
    rig.tick()
    assert s.state is State.DONE and s.view().outcome.output == "screen"
    assert any(e["event"] == "identity_read" and e["kind"] == "qr_code" for e in rig.audit.recent)
