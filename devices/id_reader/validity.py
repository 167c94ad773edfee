"""Whether a read document may be used today: a valid number, and not expired."""

from __future__ import annotations

import datetime as dt

from devices.id_reader.gb11643 import is_valid
from devices.id_reader.protocol import DocumentKind, Identity, ReadFailure

NO_END = "长期"
_CHECKED_NUMBERS = (DocumentKind.RESIDENT_ID, DocumentKind.HMT_RESIDENCE_PERMIT,
                    DocumentKind.QR_CODE)  # identity QR tokens carry a resident ID number


def refusal(identity: Identity, today: dt.date) -> ReadFailure | None:
    """Why this document cannot be used, or None. Resident ID cards and Hong Kong/Macau/Taiwan
    residence permits carry a GB 11643 number with its check digit; every document with an end
    date is refused the day after it."""
    if identity.kind in _CHECKED_NUMBERS and not is_valid(identity.id_number):
        return ReadFailure.INVALID_NUMBER
    end = identity.valid_to.strip()
    if end and end != NO_END:
        try:
            until = dt.datetime.strptime(end, "%Y%m%d").date()
        except ValueError:
            return ReadFailure.UNREADABLE  # a date the card cannot really carry
        if until < today:
            return ReadFailure.EXPIRED
    return None
