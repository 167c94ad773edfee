"""`kiosk device read-id` as a technician runs it: a real process, the real SAM adapter, its
wire peer on a pty in this process."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from devices.id_reader.sam.peer import SamCard, SamReaderPeer
from tests.test_sam_reader import ZHANG

pytestmark = pytest.mark.realstack
ROOT = Path(__file__).resolve().parent.parent


def read_id(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kiosk.cli", "device", "read-id", *args],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)


@pytest.fixture
def peer() -> Iterator[SamReaderPeer]:
    p = SamReaderPeer()
    yield p
    p.close()


def test_reads_the_card_masked_unless_asked(peer: SamReaderPeer) -> None:
    peer.insert(SamCard.of(ZHANG))
    masked = read_id("--port", peer.port, "--json", "--timeout", "5")
    assert masked.returncode == 0, masked.stderr
    doc = json.loads(masked.stdout)
    assert doc["id_number"] == "310115********0024" and doc["name"] == "张*"
    assert ZHANG.id_number not in masked.stdout and ZHANG.address not in masked.stdout
    assert doc["kind"] == "resident_id" and doc["usable"] and doc["photo"] == "wlt, 1024 bytes"
    full = read_id("--port", peer.port, "--json", "--show-pii", "--timeout", "5")
    assert json.loads(full.stdout)["id_number"] == ZHANG.id_number


def test_no_document_exits_1_within_the_timeout_with_one_line(peer: SamReaderPeer) -> None:
    done = read_id("--port", peer.port, "--timeout", "1")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"kiosk: no document was presented on {peer.port} within 1 s"]


def test_a_pulled_card_and_a_silent_reader_each_say_so(peer: SamReaderPeer) -> None:
    peer.insert(SamCard.of(ZHANG))
    peer.pull_on_next_read = True
    pulled = read_id("--port", peer.port, "--timeout", "5")
    assert pulled.returncode == 1 and "taken away while it was read" in pulled.stderr
    peer.silent.set()
    silent = read_id("--port", peer.port, "--timeout", "5")
    assert silent.returncode == 1 and "cannot be used" in silent.stderr
    assert "not_answering" in silent.stderr and len(silent.stderr.strip().splitlines()) == 1


def test_a_profile_without_that_reader_is_one_line(tmp_path: Path) -> None:
    shipped = (ROOT / "kiosk" / "config" / "profiles" / "gov-hall.toml").read_text()
    without = shipped.replace('[[devices.id_reader]]\nadapter = "pcsc"\n'
                              'documents = ["passport"]\n', "")
    assert without != shipped
    (tmp_path / "sam-only.toml").write_text(without.replace('profile = "gov-hall"',
                                                            'profile = "sam-only"'))
    done = read_id("--config", str(tmp_path / "sam-only.toml"), "--reader", "pcsc")
    assert done.returncode == 2
    assert done.stderr.strip() == "kiosk: profile sam-only fits no pcsc reader"
