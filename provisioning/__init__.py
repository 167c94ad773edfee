"""Technician tooling: device discovery, configuration wizard, enrolment, self-test and
readiness report. Nothing yet: these come with their own issues (see ARCHITECTURE.md)."""
