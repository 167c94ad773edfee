"""Outbox: durability, idempotency, claim semantics, encryption at rest, retention."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from offline_queue import Envelope, FernetCipher, Outbox


class FakeClock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _fill(outbox: Outbox, n: int, prefix: str = "k") -> list[Envelope]:
    return [outbox.enqueue("test.kind", f"payload {i}".encode(), f"{prefix}{i}") for i in range(n)]


WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from offline_queue import FernetCipher, Outbox

    d = Path(sys.argv[1])
    outbox = Outbox(d / "outbox.db", cipher=FernetCipher.from_key_file(d / "key"))
    i = 0
    while True:
        key = f"key-{i}"
        outbox.enqueue("test.kind", f"secret {i}".encode(), key)
        print(key, flush=True)
        i += 1
    """
)


def test_enqueue_survives_kill_9_of_writer(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert proc.stdout is not None
    acknowledged: list[str] = []
    try:
        for line in proc.stdout:
            if line.endswith("\n"):
                acknowledged.append(line.strip())
            if len(acknowledged) >= 300:
                break
        os.kill(proc.pid, signal.SIGKILL)
        # Keys printed between our last read and the kill count too: they were acknowledged.
        acknowledged += [ln.strip() for ln in proc.stdout if ln.endswith("\n")]
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert len(acknowledged) >= 300

    outbox = Outbox(tmp_path / "outbox.db", cipher=FernetCipher.from_key_file(tmp_path / "key"))
    stored = {e.idempotency_key: e for e in outbox.list(limit=1_000_000)}
    missing = [k for k in acknowledged if k not in stored]
    assert missing == []
    assert stored["key-7"].payload == b"secret 7"


def test_enqueue_same_key_twice_returns_existing_and_adds_nothing(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.db")
    first = outbox.enqueue("a.kind", b"first", "same-key")
    again = outbox.enqueue("b.kind", b"second", "same-key")
    assert again == first
    assert again.payload == b"first"
    assert outbox.stats().pending == 1


def test_claim_takes_due_envelopes_oldest_first_and_skips_future_ones(tmp_path: Path) -> None:
    clock = FakeClock()
    outbox = Outbox(tmp_path / "o.db", clock=clock)
    envs = _fill(outbox, 5)
    first = outbox.claim(2, lease_s=30)
    assert [e.id for e in first] == [envs[0].id, envs[1].id]
    assert all(e.status == "in_flight" for e in first)
    assert outbox.retry_later(envs[2].id, "not yet", 0) is False  # not in flight: refused
    second = outbox.claim(1, lease_s=30)
    assert outbox.retry_later(second[0].id, "boom", delay_s=10)
    rest = outbox.claim(10, lease_s=30)
    assert [e.id for e in rest] == [envs[3].id, envs[4].id]  # envs[2] waits 10 s
    clock.now += 10
    (retried,) = outbox.claim(10, lease_s=30)
    assert retried.id == envs[2].id
    assert retried.attempts == 1
    assert retried.last_error == "boom"


def test_two_threads_claiming_never_get_the_same_envelope(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.db")
    _fill(outbox, 400)
    claimed: dict[str, list[int]] = {"a": [], "b": []}
    # A barrier every round makes both threads claim at the same moment each time, so the
    # race is exercised on every round instead of one thread draining everything alone.
    rounds = threading.Barrier(2)

    def worker(name: str) -> None:
        for _ in range(70):  # 70 rounds * 2 threads * 3 > 400
            rounds.wait(timeout=10)
            claimed[name].extend(e.id for e in outbox.claim(3, lease_s=60))

    threads = [threading.Thread(target=worker, args=(n,)) for n in claimed]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    ids = claimed["a"] + claimed["b"]
    assert len(ids) == 400
    assert len(set(ids)) == 400
    assert len(claimed["a"]) >= 150 and len(claimed["b"]) >= 150


def test_crashed_workers_leases_return_to_pending_at_open(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.db")
    _fill(outbox, 3)
    assert len(outbox.claim(3, lease_s=3600)) == 3
    outbox.close()  # the process dies without acking

    observer = Outbox(tmp_path / "o.db", recover_leases=False)
    assert observer.stats().in_flight == 3  # a read-only tool must not steal live leases
    observer.close()

    reopened = Outbox(tmp_path / "o.db")
    assert reopened.stats().pending == 3
    assert len(reopened.claim(10, lease_s=60)) == 3


def test_expired_lease_is_reclaimed_by_next_claim(tmp_path: Path) -> None:
    clock = FakeClock()
    outbox = Outbox(tmp_path / "o.db", clock=clock)
    _fill(outbox, 2)
    assert len(outbox.claim(2, lease_s=30)) == 2
    assert outbox.claim(2, lease_s=30) == []
    clock.now += 31
    assert len(outbox.claim(2, lease_s=30)) == 2


def test_payload_is_encrypted_at_rest(tmp_path: Path) -> None:
    marker = b"ID-110101199003077777-PLAINTEXT"
    cipher = FernetCipher.from_key_file(tmp_path / "key")
    outbox = Outbox(tmp_path / "o.db", cipher=cipher)
    outbox.enqueue("application.submit", b'{"id": "' + marker + b'"}', "k1")
    (env,) = outbox.claim(1, lease_s=30)
    assert marker in env.payload
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("o.db*"))
    assert b"application.submit" in raw  # sanity: we are looking at the right bytes
    assert marker not in raw


def test_wrong_key_fails_clearly_at_open(tmp_path: Path) -> None:
    Outbox(tmp_path / "o.db", cipher=FernetCipher.from_key_file(tmp_path / "key1")).close()
    with pytest.raises(ValueError, match="different key"):
        Outbox(tmp_path / "o.db", cipher=FernetCipher.from_key_file(tmp_path / "key2"))
    with pytest.raises(ValueError, match="encrypted"):
        Outbox(tmp_path / "o.db")


def test_key_file_is_created_0600_and_reused(tmp_path: Path) -> None:
    key = tmp_path / "key"
    a = FernetCipher.from_key_file(key)
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    b = FernetCipher.from_key_file(key)
    assert b.decrypt(a.encrypt(b"x")) == b"x"


def test_corrupt_key_file_raises_value_error_naming_the_file(tmp_path: Path) -> None:
    key = tmp_path / "outbox.key"
    key.write_bytes(b"not a fernet key\n")
    with pytest.raises(ValueError, match=r"outbox\.key"):
        FernetCipher.from_key_file(key)


def test_rejected_envelope_stays_parked_until_staff_unparks(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.db")
    (env,) = _fill(outbox, 1)
    outbox.claim(1, lease_s=30)
    assert outbox.park(env.id, "HTTP 422: bad form")
    assert outbox.claim(1, lease_s=30) == []
    (parked,) = outbox.list("parked")
    assert parked.last_error == "HTTP 422: bad form"
    assert outbox.unpark(env.id)
    assert outbox.unpark(env.id) is False
    assert [e.id for e in outbox.claim(1, lease_s=30)] == [env.id]


def test_purge_removes_only_old_delivered_and_keeps_pending_and_parked(tmp_path: Path) -> None:
    clock = FakeClock()
    outbox = Outbox(tmp_path / "o.db", clock=clock)
    envs = _fill(outbox, 4)
    outbox.claim(4, lease_s=30)
    outbox.ack([envs[0].id])
    outbox.park(envs[1].id, "rejected")
    outbox.retry_later(envs[2].id, "offline", 0)
    clock.now += 100
    outbox.ack([envs[3].id])  # delivered only just now
    assert outbox.purge_delivered(older_than_s=50) == 1
    left = {e.idempotency_key: e.status for e in outbox.list()}
    assert left == {"k1": "parked", "k2": "pending", "k3": "delivered"}


def test_stats_count_statuses_and_oldest_undelivered_age(tmp_path: Path) -> None:
    clock = FakeClock()
    outbox = Outbox(tmp_path / "o.db", clock=clock)
    assert outbox.stats().oldest_pending_age_s is None
    envs = _fill(outbox, 3)
    clock.now += 42
    outbox.claim(1, lease_s=30)
    outbox.ack([envs[2].id])
    stats = outbox.stats()
    assert (stats.pending, stats.in_flight, stats.delivered, stats.parked) == (1, 1, 1, 0)
    assert stats.oldest_pending_age_s == pytest.approx(42)


def test_list_rejects_unknown_status(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown status"):
        Outbox(tmp_path / "o.db").list("lost")
