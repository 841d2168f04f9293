"""Personal data a customer gives when asked to verify (and an agent may echo back).

Card numbers pass the Luhn check, Singapore NRICs carry a valid check letter, Malaysian ids a
plausible birth date; emails use example domains. Only SG and MY customers give national ids.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from audits.checks.pii import luhn as luhn_valid  # the check's Luhn (13-19 digits); cards here have 16
from audits.generator.mix import MARKETS

_EMAIL_NAMES = ("alex", "sam", "mei", "budi", "siti", "jose", "anh", "nok", "ravi", "lee", "nur", "tan")
_EMAIL_DOMAINS = ("mail.example.com", "example.net", "inbox.example.org")
_PHONE_FORMATS = ("+65 9### ####", "+62 812-####-####", "+60 12-### ####", "+63 917 ### ####",
                  "+84 90 ### ####", "+66 81 ### ####", "+61 4## ### ###")  # fmt: skip


def _card(u: Any) -> str:
    body = ("4" if u() < 0.6 else "5") + f"{int(u() * 1e14):014d}"
    check = next(str(d) for d in range(10) if luhn_valid(body + str(d)))
    number = body + check
    return " ".join(number[i : i + 4] for i in range(0, 16, 4)) if u() < 0.5 else number


def nric_checksum(prefix: str, digits: str) -> str:
    """The check letter of a Singapore NRIC/FIN (S, T, F or G prefix and seven digits)."""
    total = sum(int(d) * w for d, w in zip(digits, (2, 7, 6, 5, 4, 3, 2), strict=True))
    total += 4 if prefix in "TG" else 0
    return ("JZIHGFEDCBA" if prefix in "ST" else "XWUTRQPNMLK")[total % 11]


def personal_data(u: Any, market: int) -> tuple[str, str]:
    """(kind, value): a card number, an email, a phone number or a national id."""
    r = u()
    if r < 0.3:
        return "card_number", _card(u)
    if r < 0.6:
        name = _EMAIL_NAMES[int(u() * len(_EMAIL_NAMES))]
        surname = _EMAIL_NAMES[int(u() * len(_EMAIL_NAMES))]
        domain = _EMAIL_DOMAINS[int(u() * len(_EMAIL_DOMAINS))]
        return "email", f"{name}.{surname}{int(u() * 100)}@{domain}"
    if r < 0.85 or MARKETS[market] not in ("SG", "MY"):
        fill = iter(f"{int(u() * 1e8):08d}")
        return "phone", "".join(next(fill) if c == "#" else c for c in _PHONE_FORMATS[market])
    if MARKETS[market] == "SG":
        prefix, digits = ("S" if u() < 0.7 else "T"), f"{int(u() * 1e7):07d}"
        return "national_id", prefix + digits + nric_checksum(prefix, digits)
    born = date(1960, 1, 1) + timedelta(days=int(u() * 16_000))
    return "national_id", f"{born:%y%m%d}-{1 + int(u() * 14):02d}-{int(u() * 10_000):04d}"
