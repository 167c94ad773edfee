"""GB 11643-1999 citizen identification numbers: the ISO 7064 MOD 11-2 check digit."""

from __future__ import annotations

import re

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_SHAPE = re.compile(r"^\d{17}[\dX]$")


def check_digit(first17: str) -> str:
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("need the first 17 digits")
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def is_valid(id_number: str) -> bool:
    """Shape and check digit; the date and region are not checked here."""
    n = id_number.strip().upper()
    return bool(_SHAPE.match(n)) and check_digit(n[:17]) == n[17]


def mask(id_number: str) -> str:
    """110105********002X: what a screen or a receipt may show."""
    n = id_number.strip()
    if len(n) <= 10:
        return "*" * len(n)
    return n[:6] + "*" * (len(n) - 10) + n[-4:]
