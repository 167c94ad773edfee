"""The machine-readable zone: check digits, the BAC key it yields, and the TD3 (passport)
layout DG1 carries."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

_WEIGHTS = (7, 3, 1)


class MrzError(ValueError):
    """An MRZ or MRZ key that does not hold together."""


def _value(c: str) -> int:
    if c.isdigit():
        return int(c)
    if "A" <= c <= "Z":
        return ord(c) - ord("A") + 10
    if c == "<":
        return 0
    raise MrzError(f"{c!r} cannot stand in an MRZ")


def check_digit(field: str) -> str:
    return str(sum(_value(c) * _WEIGHTS[i % 3] for i, c in enumerate(field)) % 10)


@dataclass(frozen=True)
class MrzKey:
    """What BAC needs: document number, birth date and expiry (YYMMDD), each with its check
    digit, as the data page prints them."""

    document_number: str
    birth_date: str
    expiry: str

    @classmethod
    def parse(cls, text: str) -> MrzKey:
        """`DOCNO/BIRTH/EXPIRY`, with or without their check digits and filler: L898902C,
        L898902C<3, 690806 or 6908061."""
        parts = [p.strip().upper() for p in text.split("/")]
        if len(parts) != 3:
            raise MrzError("an MRZ key is DOCNO/BIRTH/EXPIRY")
        number, birth, expiry = parts
        if len(number) > 9 and number[9:].isdigit():  # given with its check digit
            number, digit = number[:9], number[9]
            if check_digit(number.ljust(9, "<")) != digit:
                raise MrzError(f"check digit {digit} does not match {number}")
        number = number.rstrip("<")
        if not re.fullmatch(r"[A-Z0-9]{1,9}", number):
            raise MrzError(f"{number!r} is not a document number")
        return cls(number, _date(birth, "birth date"), _date(expiry, "expiry"))

    def seed_input(self) -> str:
        """The string whose SHA-1 gives K_seed."""
        number = self.document_number.ljust(9, "<")
        return (number + check_digit(number) + self.birth_date + check_digit(self.birth_date)
                + self.expiry + check_digit(self.expiry))


def _date(text: str, what: str) -> str:
    if len(text) == 7 and text.isdigit():  # YYMMDD + check digit
        if check_digit(text[:6]) != text[6]:
            raise MrzError(f"the {what}'s check digit does not match")
        text = text[:6]
    if not (len(text) == 6 and text.isdigit()):
        raise MrzError(f"the {what} is YYMMDD")
    return text


@dataclass(frozen=True)
class Td3:
    document_code: str
    issuing_state: str
    surname: str
    given_names: str
    document_number: str
    nationality: str
    birth_date: str  # YYMMDD
    sex: str  # M, F or <
    expiry: str  # YYMMDD


def parse_td3(mrz: str) -> Td3:
    """A passport's two 44-character lines (DG1 holds them as one 88-character string);
    every check digit is verified."""
    if len(mrz) != 88:
        raise MrzError(f"a TD3 MRZ has 88 characters, not {len(mrz)}")
    line1, line2 = mrz[:44], mrz[44:]
    names = line1[5:].rstrip("<").split("<<", 1)
    fields = {"document number": line2[0:10], "birth date": line2[13:20],
              "expiry": line2[21:28]}
    for what, field in fields.items():
        if check_digit(field[:-1]) != field[-1]:
            raise MrzError(f"the {what}'s check digit does not match")
    return Td3(
        document_code=line1[0:2].rstrip("<"), issuing_state=line1[2:5].rstrip("<"),
        surname=names[0].replace("<", " ").strip(),
        given_names=(names[1] if len(names) > 1 else "").replace("<", " ").strip(),
        document_number=line2[0:9].rstrip("<"), nationality=line2[10:13].rstrip("<"),
        birth_date=line2[13:19], sex=line2[20], expiry=line2[21:27],
    )


def full_date(yymmdd: str, *, future: bool) -> str:
    """YYYYMMDD: expiry dates lie ahead (20xx), birth dates behind (this century or the last)."""
    yy = int(yymmdd[:2])
    this_year = dt.date.today().year % 100
    century = 2000 if future or yy <= this_year else 1900
    return f"{century + yy:04d}{yymmdd[2:]}"
