"""The staff console: who is signed in, the alerts (each with what can be done about it), the
devices' statuses and the outbox, and the actions the role may take. Redrawn after every
action and every few seconds; closes when the staff session ends (signed out, timed out)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from kiosk.locker.loading import DoorJob
from kiosk.session import Session, SessionView
from kiosk.staff import StaffMember
from kiosk.staff.console import NEEDS, Alert, StaffConsole
from screens.base import KioskScreen
from screens.widgets import BigButton, ErrorText, Text, text_field

log = logging.getLogger(__name__)
PRINTERS = ("printer", "certificate_printer")


class StaffConsoleScreen(KioskScreen):
    kv_name = "staff_console"

    def open(self, console: StaffConsole, done: Callable[[], None], *,
             session: Session | None = None,
             back_to_citizen: Callable[[], None] | None = None) -> None:
        self._console, self._done, self._said = console, done, ""
        self._busy = False
        self._session, self._back = session, back_to_citizen
        self.redraw()

    def redraw(self) -> None:
        """Everything from the console now; leaves when nobody is signed in any more."""
        console = self._console
        member = console.desk.current()
        if member is None:
            self._done()
            return
        th, body = self.theme, self.ids.body
        body.clear_widgets()
        role = member.role.name.get(self.lang)
        body.add_widget(Text(theme=th, role="title", bold=True,
                             text=self.t("staff.console_title", staff=member.staff_id,
                                         role=role)))
        said = ErrorText(theme=th, text=self._said)
        body.add_widget(said)
        view = self._session.view() if self._session is not None else None
        if view is not None and view.assisted_by == member.staff_id:
            self._assist(view, member)
        body.add_widget(Text(theme=th, role="body", bold=True, text=self.t("staff.alerts")))
        alerts = console.alerts()
        if not alerts:
            body.add_widget(Text(theme=th, role="body", text=self.t("staff.no_alerts")))
        for alert in alerts:
            body.add_widget(Text(theme=th, role="body", text=self.alert_words(alert)))
            for button in self._fixes(alert, member.may):
                body.add_widget(button)
        if console.lockers is not None and member.may(NEEDS["load"]):
            self._locker_section()
        queue = console.queue()
        oldest = "" if queue.oldest_pending_s is None else self.t(
            "staff.oldest", minutes=int(queue.oldest_pending_s // 60))
        body.add_widget(Text(theme=th, role="body", bold=True, text=self.t("staff.queue_title")))
        body.add_widget(Text(theme=th, role="body", text=self.t(
            "staff.queue", pending=queue.pending, parked=queue.parked, oldest=oldest)))
        def retry_one(envelope_id: int) -> Callable[[], bool]:
            return lambda: console.retry(envelope_id)

        if member.may(NEEDS["retry_parked"]):
            for parked in console.parked():
                body.add_widget(Text(theme=th, role="small", text=self.t(
                    "staff.parked_line", kind=parked.kind, error=parked.error,
                    minutes=int(parked.age_s // 60))))
                body.add_widget(self._button("staff.retry_one", retry_one(parked.id),
                                             "secondary"))
        for action, key, run in (("force_sync", "staff.force_sync", console.force_sync),
                                 ("retry_parked", "staff.retry_parked", console.retry_parked)):
            if member.may(NEEDS[action]):
                body.add_widget(self._button(key, run, "secondary"))
        body.add_widget(Text(theme=th, role="body", bold=True, text=self.t("staff.devices")))
        for line in console.devices():
            key = "staff.device" if line.reason else "staff.device_no_reason"
            body.add_widget(Text(theme=th, role="small", text=self.t(
                key, name=line.name, state=line.state, reason=line.reason,
                minutes=int(line.for_s // 60))))
        if member.may("diagnose"):  # the self-test; a technician may leave the app
            self._selftest_section()
            body.add_widget(self._button("staff.quit_app", self._quit_app, "secondary"))
        out = BigButton(theme=th, kind="staff", title=self.t("staff.sign_out"))
        out.bind(on_release=lambda *_: self._sign_out())
        body.add_widget(out)
        self._label_scrollers()

    def _assist(self, view: SessionView, member: StaffMember) -> None:
        """The citizen being assisted: where they are, and what staff can do for them."""
        th, body = self.theme, self.ids.body
        body.add_widget(Text(theme=th, role="body", bold=True, text=self.t("staff.assist_title")))
        body.add_widget(Text(theme=th, role="body", text=self.t(
            "staff.assist_where", screen=self.t(f"where.{view.state.value}"))))
        session = self._session
        assert session is not None
        if view.staff_may_vouch:
            def vouch() -> bool:
                return self._console.desk.act("assist", "identity_vouched") and \
                    session.staff_vouch(member.staff_id, member.role.id)
            body.add_widget(self._button("staff.vouch", vouch))
        if view.staff_may_accept_expired:  # the way forward for an expired document
            def accept() -> bool:
                return self._console.desk.act("assist", "expired_document_accepted") and \
                    session.staff_accept_expired(member.staff_id, member.role.id)
            body.add_widget(self._button("staff.accept_expired", accept))

        def counter() -> bool:
            return self._console.desk.act("assist", "sent_to_counter") and \
                session.staff_to_counter(member.staff_id, member.role.id)
        body.add_widget(self._button("staff.to_counter", counter, "secondary"))
        if self._back is not None:
            back = self._back
            button = BigButton(theme=th, kind="secondary", title=self.t("staff.back_to_citizen"))
            button.bind(on_release=lambda *_: back())
            body.add_widget(button)

    def alert_words(self, alert: Alert) -> str:
        words = self.t(f"staff.alert.{alert.kind}", subject=alert.subject)
        return words + (self.t("staff.acknowledged") if alert.acknowledged else "")

    def _fixes(self, alert: Alert, may: Callable[[str], bool]) -> list[BigButton]:
        buttons = []
        if alert.kind in ("paper_low", "paper_out", "cover_open", "paper_jam") \
                and alert.subject in PRINTERS and may(NEEDS["paper_replaced"]):
            buttons.append(self._button("staff.paper_replaced",
                                        lambda: self._console.paper_replaced(alert.subject)))
        if alert.kind in ("overdue", "needs_staff") and may(NEEDS["retrieve"]):
            door = int(alert.subject)
            buttons.append(self._door_button("staff.retrieve",
                                             lambda: self._console.retrieve(door)))
        if not alert.acknowledged and may(NEEDS["acknowledge"]):
            buttons.append(self._button("staff.acknowledge",
                                        lambda: self._console.acknowledge(alert.key),
                                        "secondary"))
        return buttons

    def _locker_section(self) -> None:
        """Loading: the application number typed (or scanned into the field), then a free
        compartment opens; the door's result is said when it is shut."""
        th, body = self.theme, self.ids.body
        body.add_widget(Text(theme=th, role="body", bold=True, text=self.t("staff.locker")))
        field = text_field(th, self.t("staff.application_no"))
        field.bind(focus=lambda w, on: self.focused(w, on, "latin"))
        self._number: Any = field
        body.add_widget(field)
        body.add_widget(self._door_button(
            "staff.load", lambda: self._console.load(field.text)))

    def _door_button(self, key: str, run: Callable[[], DoorJob | None]) -> BigButton:
        """A door job, run off the UI thread (it waits for the door to be shut)."""
        button = BigButton(theme=self.theme, kind="primary", title=self.t(key))
        button.bind(on_release=lambda *_: self._door_job(run))
        return button

    def _door_job(self, run: Callable[[], DoorJob | None]) -> None:
        from kivy.clock import Clock

        if self._busy:
            return
        self._busy = True
        self._said = self.t("staff.door_working")
        self.redraw()

        def work() -> None:
            job: DoorJob | None
            try:
                job = run()
            except Exception:
                log.exception("staff locker job failed")
                job = DoorJob(False, None, "fault")
            Clock.schedule_once(lambda _dt: done(job), 0)

        def done(job: DoorJob | None) -> None:
            self._busy = False
            if job is None:
                self._said = self.t("staff.not_allowed")
            else:
                self._said = self.t(f"staff.door.{job.outcome}", door=job.label or "")
            self.redraw()

        threading.Thread(target=work, name="staff-door", daemon=True).start()

    def _selftest_section(self) -> None:
        """The same self-test as `kiosk provision selftest`, on this running terminal: every
        device exercised (a test receipt prints), back office, clock, outbox; each failure
        with what to do."""
        from kivy.clock import Clock

        th, body = self.theme, self.ids.body
        body.add_widget(Text(theme=th, role="body", bold=True, text=self.t("staff.selftest")))
        report = self._console.last_selftest
        if report is not None:
            body.add_widget(Text(theme=th, role="body", text=self.t(
                "staff.selftest_ready" if report.ok else "staff.selftest_not_ready",
                passed=sum(i.ok for i in report.items), total=len(report.items))))
            for item in report.items:
                key = "staff.selftest_ok" if item.ok else "staff.selftest_fail"
                body.add_widget(Text(theme=th, role="small", text=self.t(
                    key, name=item.name, detail=item.detail, do=item.do)))

        def run() -> None:
            if self._busy:
                return
            self._busy, self._said = True, self.t("staff.selftest_running")
            self.redraw()

            def work() -> None:
                try:
                    done = self._console.selftest() is not None
                except Exception:
                    log.exception("self-test failed")
                    done = False
                Clock.schedule_once(lambda _dt: finished(done), 0)

            def finished(done: bool) -> None:
                self._busy = False
                self._said = "" if done else self.t("staff.failed")
                self.redraw()

            threading.Thread(target=work, name="staff-selftest", daemon=True).start()

        button = BigButton(theme=th, kind="primary", title=self.t("staff.selftest_run"))
        button.bind(on_release=lambda *_: run())
        body.add_widget(button)

    def _button(self, key: str, run: Callable[[], Any], kind: str = "primary") -> BigButton:
        button = BigButton(theme=self.theme, kind=kind, title=self.t(key))
        button.bind(on_release=lambda *_: self._do(run))
        return button

    def _do(self, run: Callable[[], Any]) -> None:
        try:
            result = run()
        except Exception:  # a full disk, a locked database: said, never a crash
            log.exception("staff console action failed")
            result, self._said = None, self.t("staff.failed")
        else:
            self._said = self.t("staff.not_allowed") if result is False or result is None \
                else ""
        self.redraw()

    def typing(self) -> bool:
        """The application number field has the keyboard (a refresh would wipe it)."""
        field = getattr(self, "_number", None)
        return field is not None and self.holds_keyboard([field])

    def _quit_app(self) -> bool:
        """The staff entry's way out of the app: released from lockdown, then stopped (the
        service manager starts it again unless told not to)."""
        from kivy.app import App

        if not self._console.desk.act("diagnose", "quit_app"):
            return False
        app = App.get_running_app()
        if app is not None:
            lockdown = getattr(app, "lockdown", None)
            if lockdown is not None:
                lockdown.release()
            app.stop()
        return True

    def _sign_out(self) -> None:
        self._console.desk.sign_out()
        self.redraw()  # nobody signed in: the console closes

    def release_keyboard(self) -> None:
        field = getattr(self, "_number", None)
        if self.keyboard is not None and field is not None and self.holds_keyboard([field]):
            self.keyboard.detach()

    def wipe(self) -> None:
        super().wipe()
        self._said = ""
        self._number = None
