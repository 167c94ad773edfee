"""The status query step: the citizen's applications from the back office, or None."""

from __future__ import annotations

from kiosk.config.catalogue import load_catalogue
from kiosk.session.ports import ApplicationDirectory
from kiosk.session.view import ApplicationSummary


def query_applications(directory: ApplicationDirectory | None,
                       who: str) -> tuple[ApplicationSummary, ...] | None:
    """None when the back office cannot be asked (offline, an error, garbage)."""
    found = directory.applications_for(who) if directory is not None else None
    if found is None:
        return None
    titles = {s.id: s.title for s in load_catalogue().service}
    return tuple(
        ApplicationSummary(
            tracking_no=str(a.get("tracking_no", "")),
            service_id=str(a.get("service_id", "")),
            status=str(a.get("status", "")),
            title=titles.get(str(a.get("service_id", ""))),
        )
        for a in found
    )
