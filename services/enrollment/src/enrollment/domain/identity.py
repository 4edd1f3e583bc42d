"""National ID numbers (GB 11643-1999) and continuing-education numbers."""

from __future__ import annotations

from datetime import date

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CODES = "10X98765432"


class InvalidIdNumber(ValueError):
    """The text is not a valid 18-character national ID number."""


def normalize_id_number(raw: str) -> str:
    """Validate an 18-character ID number and return it with a trailing ``x`` upper-cased.

    Checks the shape, the birth date and the check digit; 15-character legacy numbers are refused."""
    value = raw.strip().upper()
    if len(value) != 18 or not value[:17].isdigit() or not (value[17].isdigit() or value[17] == "X"):
        raise InvalidIdNumber("ID number must be 18 characters: 17 digits and a digit or X")
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError as exc:
        raise InvalidIdNumber("ID number has an impossible birth date") from exc
    if born.year < 1900:
        raise InvalidIdNumber("ID number has an impossible birth date")
    total = sum(int(digit) * weight for digit, weight in zip(value[:17], _WEIGHTS, strict=True))
    if _CHECK_CODES[total % 11] != value[17]:
        raise InvalidIdNumber("ID number check digit does not match")
    return value


def check_digit(first_seventeen: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(first_seventeen, _WEIGHTS, strict=True))
    return _CHECK_CODES[total % 11]


def gender_from_id_number(id_number: str) -> str:
    """The 17th digit is odd for men, even for women."""
    return "male" if int(id_number[16]) % 2 else "female"


def ce_number(year: int, sequence: int) -> str:
    """继续教育学号: the year of registration and a six-digit sequence within that year."""
    if not 0 < sequence < 1_000_000:
        raise ValueError("sequence out of range")
    return f"{year:04d}{sequence:06d}"


def initial_password(id_number: str) -> str:
    """New teachers sign in first with the last six characters of their ID number (told by SMS)."""
    return id_number[-6:]
