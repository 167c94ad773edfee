"""GB 11643-1999 citizen identification numbers, through python-stdnum (`stdnum.cn.ric`).

The check digit (ISO 7064 MOD 11-2) and the birth date are checked. The region code is not
checked against stdnum's table of counties: that table dates each county, and a number
assigned where a district was later renamed or merged (310115, Pudong, for people born before
1992) would be refused although the card is genuine.
"""

from __future__ import annotations

import re
from typing import Any

_SHAPE = re.compile(r"^\d{17}[\dX]$")


def _ric() -> Any:
    """stdnum's module, imported at the first number checked (not at every start: its util
    pulls in pydoc and unicodedata)."""
    from stdnum.cn import ric

    return ric


def check_digit(first17: str) -> str:
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("need the first 17 digits")
    digit: str = _ric().calc_check_digit(first17 + "0")  # stdnum wants a placeholder digit
    return digit


def is_valid(id_number: str) -> bool:
    """Shape, check digit and a real birth date."""
    from stdnum.exceptions import ValidationError

    ric = _ric()
    n = ric.compact(id_number)
    if not _SHAPE.match(n) or ric.calc_check_digit(n) != n[17]:
        return False
    try:
        ric.get_birth_date(n)
    except ValidationError:
        return False
    return True


def mask(id_number: str) -> str:
    """110105********002X: what a screen or a receipt may show."""
    n = id_number.strip()
    if len(n) <= 10:
        return "*" * len(n)
    return n[:6] + "*" * (len(n) - 10) + n[-4:]
