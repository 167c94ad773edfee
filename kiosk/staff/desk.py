"""Who of the staff is signed in on this terminal, as what role, until when.

Sign-in is by the role's way in the profile (`auth`): a PIN (kiosk/records/staff_pins.py: a
slow salted hash, a lockout that grows after five wrong PINs); a staff badge and the bank's own
sign-on come through the same desk as they are fitted. A staff session ends when staff sign
out or after `staff_idle_s` without a touch. Every sign-in, failure, lockout, action and
sign-out is audited with the staff number, the role and the terminal; an action is allowed
only to a role that `may` do it (a refusal is audited too)."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from kiosk.config.profile import StaffRole
from kiosk.config.settings import Clock
from kiosk.records.audit import AuditLog
from kiosk.records.staff_pins import SignIn, StaffPins

Action = str  # one of StaffRole.may's values: assist, load_locker, view_queue, ...


class TellerSignOn(Protocol):
    """The bank's own staff sign-on (`bank_teller_login`): the reference back office stands
    in for it (backoffice/tellers.py)."""

    def teller_signs_on(self, teller: str, password: str) -> bool | None:
        """True or False; None when the bank cannot be asked."""
        ...


@dataclass(frozen=True)
class StaffMember:
    staff_id: str
    role: StaffRole
    how: str  # pin, badge, bank_teller_login

    def may(self, action: Action) -> bool:
        return action in self.role.may


@dataclass(frozen=True)
class StaffSignIn:
    ok: bool
    reason: str = ""  # unknown_staff, wrong_pin, locked, not_allowed, wrong_way, no_pins
    member: StaffMember | None = None
    locked_until: float | None = None  # wall-clock seconds
    tries_left: int | None = None


class StaffDesk:
    def __init__(self, roles: Sequence[StaffRole], pins: StaffPins | None, audit: AuditLog,
                 clock: Clock, terminal_id: str, idle_s: float = 120.0,
                 tellers: TellerSignOn | None = None,
                 badges: Callable[[], bytes | None] | None = None) -> None:
        self._roles = {r.id: r for r in roles}
        self._pins, self._audit, self._clock = pins, audit, clock
        self.terminal_id, self.idle_s = terminal_id, idle_s
        self._tellers = tellers
        self._badges = badges  # reads a badge on the identity readers (a device call)
        self._badge_seen: bytes | None = None
        self._lock = threading.Lock()
        self._member: StaffMember | None = None
        self._last = 0.0

    # ------------------------------------------------------------------ signing in
    def sign_in(self, staff_id: str, secret: str) -> StaffSignIn:
        """The sign-in screen's one form: a staff number with a PIN set on this terminal
        signs in by PIN; any other, by the bank's sign-on when a role here uses it."""
        known = self._pins is not None and self._pins.knows(staff_id)
        if not known and self.teller_role() is not None:
            return self.sign_in_teller(staff_id, secret)
        return self.sign_in_pin(staff_id, secret)

    def uses_badges(self) -> bool:
        return any(r.auth == "badge" for r in self._roles.values())

    def try_badge(self) -> StaffSignIn | None:
        """A badge on a reader signs in (each badge tried once while it lies there); None
        while there is none, or it was tried already. Off the UI thread: it reads a device."""
        if self._badges is None or not self.uses_badges():
            return None
        uid = self._badges()
        seen = None if uid is None else hashlib.sha256(uid).digest()  # not the card's UID
        if uid is None or seen == self._badge_seen:
            self._badge_seen = seen
            return None
        self._badge_seen = seen
        return self.sign_in_badge(uid)

    def forget_badge(self) -> None:
        self._badge_seen = None

    def sign_in_badge(self, uid: bytes) -> StaffSignIn:
        """A staff badge read on the identity layer's reader."""
        holder = self._pins.badge_holder(uid) if self._pins is not None else None
        if holder is None:
            return self._failed("", "unknown_badge", "badge")
        staff_id, role_id = holder
        role = self._roles.get(role_id)
        if role is None or role.auth != "badge":
            return self._failed(staff_id, "wrong_way", "badge")
        return self._signed_in(StaffMember(staff_id, role, "badge"))

    def teller_role(self) -> StaffRole | None:
        return next((r for r in self._roles.values() if r.auth == "bank_teller_login"), None)

    def sign_in_teller(self, teller: str, password: str) -> StaffSignIn:
        role = self.teller_role()
        if role is None or self._tellers is None:
            return self._failed(teller, "wrong_way", "bank_teller_login")
        answer = self._tellers.teller_signs_on(teller, password)
        if answer is None:
            return self._failed(teller, "sign_on_unreachable", "bank_teller_login")
        if not answer:
            return self._failed(teller, "unknown_staff", "bank_teller_login")
        return self._signed_in(StaffMember(teller, role, "bank_teller_login"))

    def sign_in_pin(self, staff_id: str, pin: str, *, for_action: Action | None = None
                    ) -> StaffSignIn:
        """A PIN sign-in; `for_action`: refused unless the role may do it."""
        if self._pins is None:
            return self._failed(staff_id, "no_pins", "pin")
        signed = self._pins.sign_in(staff_id, pin, self._clock.wall())
        if not signed.ok:
            return self._refused(staff_id, signed)
        role = self._roles.get(signed.role or "")
        if role is None:  # a PIN set for a role this profile no longer has
            return self._failed(staff_id, "unknown_staff", "pin")
        if role.auth != "pin":
            return self._failed(staff_id, "wrong_way", "pin")
        if for_action is not None and for_action not in role.may:
            return self._failed(staff_id, "not_allowed", "pin")
        return self._signed_in(StaffMember(staff_id, role, "pin"))

    def _refused(self, staff_id: str, signed: SignIn) -> StaffSignIn:
        if signed.reason == "locked" and signed.locked_until is not None:
            self._audit.record("staff_locked_out", staff_id=staff_id,
                               until=round(signed.locked_until), terminal_id=self.terminal_id)
        return self._failed(staff_id, signed.reason, "pin", signed.locked_until,
                            signed.tries_left)

    def _failed(self, staff_id: str, reason: str, how: str, locked_until: float | None = None,
                tries_left: int | None = None) -> StaffSignIn:
        self._audit.record("staff_sign_in_failed", staff_id=staff_id, reason=reason, how=how,
                           terminal_id=self.terminal_id)
        return StaffSignIn(False, reason, locked_until=locked_until, tries_left=tries_left)

    def _signed_in(self, member: StaffMember) -> StaffSignIn:
        with self._lock:
            before, self._member, self._last = self._member, member, self._clock.now()
        if before is not None and before != member:
            self._ended(before, "replaced")
        self._audit.record("staff_signed_in", staff_id=member.staff_id, role=member.role.id,
                           how=member.how, terminal_id=self.terminal_id)
        return StaffSignIn(True, member=member)

    # ------------------------------------------------------------------ the staff session
    def current(self) -> StaffMember | None:
        """Who is signed in now; a session idle past `idle_s` has ended (and is audited)."""
        with self._lock:
            member = self._member
            expired = member is not None and self._clock.now() - self._last > self.idle_s
            if expired:
                self._member = None
        if expired:
            assert member is not None
            self._ended(member, "timed_out")
            return None
        return member

    def touched(self) -> None:
        """Staff did something: the session's idle time starts again."""
        with self._lock:
            if self._member is not None:
                self._last = self._clock.now()

    def act(self, action: Action, what: str) -> bool:
        """Whether the signed-in member may do `action` now (audited either way); `what`
        names it for the log (e.g. "paper_replaced", no personal data)."""
        member = self.current()
        allowed = member is not None and member.may(action)
        self._audit.record("staff_action" if allowed else "staff_action_refused",
                           staff_id=member.staff_id if member else None,
                           role=member.role.id if member else None, action=action, what=what,
                           terminal_id=self.terminal_id)
        if allowed:
            self.touched()
        return allowed

    def sign_out(self) -> None:
        with self._lock:
            member, self._member = self._member, None
        if member is not None:
            self._ended(member, "signed_out")

    def _ended(self, member: StaffMember, reason: str) -> None:
        self._audit.record("staff_signed_out", staff_id=member.staff_id, role=member.role.id,
                           reason=reason, terminal_id=self.terminal_id)
