"""Technician tooling: device discovery, the configuration wizard, enrolment, the self-test
and its readiness report (`kiosk provision ...`)."""
