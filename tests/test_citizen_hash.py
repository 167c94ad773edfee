"""The brute force that recovered a citizen's ID number from a plain SHA-256 in seconds, tried
against what the terminal and the back office keep now (keyed hashes): it finds nothing
without the key, while the same search against the old value finds the number (so the
search itself is sound)."""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from stdnum.cn import ric

from backoffice import start_in_thread
from backoffice.server import DB_FILE
from kiosk.records.citizen_key import CitizenKey
from kiosk.records.locker_store import SCRYPT, LockerInventory

VICTIM = "110101198007140027"  # 东城区, born 1980-07-14


def candidates(region: str = "110101", year: int = 1980) -> Iterator[str]:
    """Every valid resident ID number of one district and one birth year (366 x 1000): what
    an attacker who knows roughly where and when a citizen was born would try."""
    day = datetime.date(year, 1, 1)
    while day.year == year:
        for seq in range(1000):
            body = f"{region}{day:%Y%m%d}{seq:03d}"
            yield body + ric.calc_check_digit(body + "0")  # (it skips the last digit)
        day += datetime.timedelta(days=1)


def plain_search(targets: set[str]) -> set[str]:
    """The search of the old scheme: SHA-256 of each candidate."""
    return {c for c in candidates() if hashlib.sha256(c.encode()).hexdigest() in targets}


@pytest.mark.realstack
def test_the_back_offices_stored_citizen_hash_does_not_give_the_id_number_away(
        tmp_path: Path) -> None:
    assert ric.is_valid(VICTIM)
    bo = start_in_thread("127.0.0.1", 0, tmp_path)
    try:
        application = {"tracking_no": "T-1", "service_id": "household_proof",
                       "terminal_id": "SH-PD-0001", "form": {}, "submitted_at": 1.0,
                       "citizen": {"id_number": VICTIM, "name": "王芳"}}
        answer = requests.post(bo.url + "/v1/envelopes", timeout=10, headers=bo.headers,
                               json={"envelopes": [{
                                   "idempotency_key": "k-1", "kind": "application.submit",
                                   "payload_b64": base64.b64encode(
                                       json.dumps(application).encode()).decode()}]})
        assert answer.json()["results"][0]["status"] == "accepted"
        # What the terminal sends when the citizen asks 我要查, and what a log might show.
        asked = CitizenKey.from_file(bo.secrets.citizen_key_file).citizen_hash(VICTIM)
    finally:
        bo.stop()
    with sqlite3.connect(tmp_path / DB_FILE) as db:
        stolen = {row[0] for row in db.execute("SELECT citizen_hash FROM applications")}
    assert stolen == {asked}
    assert plain_search(stolen) == set()  # 366,000 candidates: nothing
    old = hashlib.sha256(VICTIM.encode()).hexdigest()
    assert plain_search({old}) == {VICTIM}  # the same search breaks the old value


def test_the_locker_files_hashes_need_the_terminals_key_to_be_searched(tmp_path: Path) -> None:
    key = CitizenKey.random()
    store = LockerInventory(tmp_path / "locker.db", key)
    store.load(3, "APP-3", "证", "Cert", VICTIM, now=0.0, keep_s=10.0)
    store.close()
    with sqlite3.connect(tmp_path / "locker.db") as db:
        salt, digest = db.execute("SELECT assignee_salt, assignee_hash FROM items").fetchone()
    nearby = [c for c in candidates() if c[6:14] == "19800714"][:200]  # the birthday known
    assert VICTIM in nearby
    # Without the key: salted scrypt of each candidate, as a file without a key would be.
    unkeyed = [c for c in nearby if hashlib.scrypt(c.encode(), salt=salt, **SCRYPT) == digest]
    assert unkeyed == []
    # With the stolen key as well (both files), the search would work: the key is what
    # stands in the way, and it is kept 0600 apart from the locker file.
    keyed = LockerInventory(tmp_path / "locker.db", key)
    assert [c for c in nearby if keyed.for_identity(c)] == [VICTIM]
    keyed.close()


def test_the_key_file_is_refused_when_others_can_read_it(tmp_path: Path) -> None:
    from kiosk.config.errors import ConfigError

    path = tmp_path / "citizen-hash.key"
    CitizenKey.random().write(path)
    assert path.stat().st_mode & 0o777 == 0o600
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="readable by others"):
        CitizenKey.from_file(path)
    with pytest.raises(ConfigError, match="not enrolled"):
        CitizenKey.from_file(tmp_path / "missing.key")
