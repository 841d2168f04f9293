"""Personal data patterns: what the `pii_echo` check finds in agent turns (and redaction will remove).

Each kind is a regular expression (RE2 syntax, so DuckDB's `regexp_extract_all` and Python's `re`
read it the same) and, where the format has one, a checksum that a candidate must pass:

=============  ==============================================================  ===========================
kind           format                                                          validated by
=============  ==============================================================  ===========================
card_number    13-19 digits, grouped by spaces, dots or dashes                 Luhn (a valid Thai id wins)
email          local@domain.tld                                                -
phone          +CC, (area) or a leading 0, then 8-15 digits in all             digit count, not a date
sg_nric        S/T/F/G + 7 digits + letter, any case (Singapore NRIC/FIN)      check letter
my_mykad       YYMMDD-PB-###G, dashes optional (Malaysia)                      month and day
id_nik         16 digits, province code 11-94 (Indonesia NIK)                  birth date field
ph_id          PhilSys 4-4-4, SSS 2-7-1, UMID 4-7-1 (Philippines)              no leading 0 (phones have one)
th_id          13 digits, 1-4-5-2-1 with dashes, spaces or none (Thailand)     mod-11 check digit
=============  ==============================================================  ===========================

`SQL_MACROS` defines the checksums as DuckDB macros; `sql_pii_kinds(expr)` is a SQL expression
giving the list of kinds found in a text expression; `find_pii(text)` is the same in Python, for
tests and for redacting single strings.
"""

from __future__ import annotations

import re
from collections.abc import Callable

CARD = r"(?:\d[ .-]?){12,18}\d"
EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
PHONE = r"(?:\+\d{1,3}|\(\d{1,4}\)|\b0)[ .-]?\(?\d{1,4}\)?(?:[ .-]?\d{2,5}){1,4}"
SG_NRIC = r"\b[STFGstfg]\d{7}[A-Za-z]\b"
MY_MYKAD = r"\b\d{6}-?\d{2}-?\d{4}\b"
ID_NIK = r"\b\d{16}\b"
PH_ID = r"\b(?:\d{4}-\d{4}-\d{4}|\d{2}-\d{7}-\d|\d{4}-\d{7}-\d)\b"
TH_ID = r"\b\d[ -]?\d{4}[ -]?\d{5}[ -]?\d{2}[ -]?\d\b"

PATTERNS: dict[str, str] = {
    "card_number": CARD,
    "email": EMAIL,
    "phone": PHONE,
    "sg_nric": SG_NRIC,
    "my_mykad": MY_MYKAD,
    "id_nik": ID_NIK,
    "ph_id": PH_ID,
    "th_id": TH_ID,
}
KINDS: tuple[str, ...] = tuple(PATTERNS)

SQL_MACROS = r"""
CREATE OR REPLACE TEMP MACRO pii_digits(s) AS regexp_replace(s, '[^0-9]', '', 'g');
CREATE OR REPLACE TEMP MACRO pii_dig(s, pos) AS ascii(substr(s, (pos)::BIGINT, 1)) - 48;
CREATE OR REPLACE TEMP MACRO pii_luhn(d) AS
    length(d) BETWEEN 13 AND 19 AND list_sum(list_transform(range(length(d)), lambda i:
        CASE WHEN i % 2 = 0 THEN pii_dig(d, length(d) - i)
             WHEN pii_dig(d, length(d) - i) * 2 > 9 THEN pii_dig(d, length(d) - i) * 2 - 9
             ELSE pii_dig(d, length(d) - i) * 2 END)) % 10 = 0;
CREATE OR REPLACE TEMP MACRO pii_card_groups(g) AS list_bool_or(list_transform(range(1, len(g) + 1), lambda k:
    (length(array_to_string(g[1:k], '')) BETWEEN 13 AND 19 AND pii_luhn(array_to_string(g[1:k], '')))
    OR (length(array_to_string(g[k:], '')) BETWEEN 13 AND 19 AND pii_luhn(array_to_string(g[k:], '')))));
CREATE OR REPLACE TEMP MACRO pii_card(m) AS pii_card_groups(string_split_regex(m, '[ .-]'));
CREATE OR REPLACE TEMP MACRO pii_date(s) AS regexp_matches(s, '^\d{1,2}[-/. ]\d{1,2}[-/. ]\d{2,4}$');
CREATE OR REPLACE TEMP MACRO pii_nric(s) AS
    substr(CASE WHEN s[1] IN ('S', 'T') THEN 'JZIHGFEDCBA' ELSE 'XWUTRQPNMLK' END,
        (1 + (list_sum(list_transform(range(7), lambda i: pii_dig(s, i + 2) * [2, 7, 6, 5, 4, 3, 2][i + 1]))
              + CASE WHEN s[1] IN ('T', 'G') THEN 4 ELSE 0 END) % 11)::BIGINT, 1) = s[9];
CREATE OR REPLACE TEMP MACRO pii_mykad(s) AS
    pii_digits(s)[3:4]::INTEGER BETWEEN 1 AND 12 AND pii_digits(s)[5:6]::INTEGER BETWEEN 1 AND 31;
CREATE OR REPLACE TEMP MACRO pii_nik(s) AS
    s[1:2]::INTEGER BETWEEN 11 AND 94 AND (s[7:8]::INTEGER % 40) BETWEEN 1 AND 31
    AND s[9:10]::INTEGER BETWEEN 1 AND 12;
CREATE OR REPLACE TEMP MACRO pii_thai(d) AS
    length(d) = 13 AND (11 - list_sum(list_transform(range(12), lambda i: pii_dig(d, i + 1) * (13 - i))) % 11)
        % 10 = pii_dig(d, 13);
CREATE OR REPLACE TEMP MACRO pii_phone(s) AS length(pii_digits(s)) BETWEEN 8 AND 15;
"""


def sql_pii_kinds(expr: str) -> str:
    """A SQL expression: the list of personal-data kinds found in the text `expr` (empty when none).

    Needs `SQL_MACROS` defined on the connection. Candidates that fail their checksum do not count.
    """

    def found(kind: str, test: str) -> str:
        return (
            f"CASE WHEN len(list_filter(regexp_extract_all({expr}, '{PATTERNS[kind]}'), "
            f"lambda m: {test})) > 0 THEN ['{kind}'] ELSE [] END"
        )

    parts = [
        found("card_number", "pii_card(m) AND NOT pii_thai(pii_digits(m))"),
        f"CASE WHEN regexp_matches({expr}, '{EMAIL}') THEN ['email'] ELSE [] END",
        found("phone", "pii_phone(m) AND NOT pii_card(m) AND NOT pii_date(m)"),
        found("sg_nric", "pii_nric(upper(m))"),
        found("my_mykad", "pii_mykad(m)"),
        found("id_nik", "pii_nik(m) AND NOT pii_card(m)"),
        found("ph_id", "NOT starts_with(m, '0')"),
        found("th_id", "pii_thai(pii_digits(m))"),
    ]
    return "list_concat(" + ", ".join(parts) + ")"


def luhn(digits: str) -> bool:
    """The Luhn check that payment card numbers pass (13 to 19 digits)."""
    if not 13 <= len(digits) <= 19:
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def card(text: str) -> bool:
    """A card number in a run of digit groups: the whole run, or its first or last groups, 13-19 digits
    passing Luhn (so a card number written before or after an expiry date or a CVV is still found)."""
    groups = [_digits(g) for g in re.split(r"[ .-]", text)]  # "+62" or "(021)": the digits only
    for k in range(1, len(groups) + 1):
        for part in ("".join(groups[:k]), "".join(groups[k - 1 :])):
            if 13 <= len(part) <= 19 and luhn(part):
                return True
    return False


def _date(s: str) -> bool:
    return re.fullmatch(r"\d{1,2}[-/. ]\d{1,2}[-/. ]\d{2,4}", s) is not None


def _nric(s: str) -> bool:
    s = s.upper()
    weights = (2, 7, 6, 5, 4, 3, 2)
    total = sum(int(d) * w for d, w in zip(s[1:8], weights, strict=True))
    total += 4 if s[0] in "TG" else 0
    return ("JZIHGFEDCBA" if s[0] in "ST" else "XWUTRQPNMLK")[total % 11] == s[8]


def _thai(d: str) -> bool:
    if len(d) != 13:
        return False
    total = sum(int(d[i]) * (13 - i) for i in range(12))
    return (11 - total % 11) % 10 == int(d[12])


def _digits(s: str) -> str:
    return re.sub(r"\D", "", s)


_VALID: dict[str, Callable[[str], bool]] = {
    "card_number": lambda m: card(m) and not _thai(_digits(m)),
    "phone": lambda m: 8 <= len(_digits(m)) <= 15 and not card(m) and not _date(m),
    "sg_nric": _nric,
    "my_mykad": lambda m: 1 <= int(_digits(m)[2:4]) <= 12 and 1 <= int(_digits(m)[4:6]) <= 31,
    "id_nik": lambda m: (
        11 <= int(m[:2]) <= 94 and 1 <= int(m[6:8]) % 40 <= 31 and 1 <= int(m[8:10]) <= 12 and not luhn(m)
    ),
    "ph_id": lambda m: not m.startswith("0"),
    "th_id": lambda m: _thai(_digits(m)),
}
_COMPILED = {kind: re.compile(p, re.ASCII) for kind, p in PATTERNS.items()}


def find_pii(text: str) -> list[tuple[str, str]]:
    """(kind, matched text) for every personal-data match in `text` that passes its checksum."""
    out: list[tuple[str, str]] = []
    for kind, rx in _COMPILED.items():
        valid = _VALID.get(kind, lambda m: True)
        out.extend((kind, m.group(0)) for m in rx.finditer(text) if valid(m.group(0)))
    return out


def redact(text: str) -> str:
    """`text` with every personal-data match replaced by its kind in brackets, e.g. "[email]"."""
    spans: list[tuple[int, int, str]] = []
    for kind, rx in _COMPILED.items():
        valid = _VALID.get(kind, lambda m: True)
        spans.extend((m.start(), m.end(), kind) for m in rx.finditer(text) if valid(m.group(0)))
    out, pos = [], 0
    for start, end, kind in sorted(spans, key=lambda s: (s[0], -(s[1] - s[0]))):
        if start < pos:  # inside a span already replaced
            continue
        out += [text[pos:start], f"[{kind}]"]
        pos = end
    return "".join(out) + text[pos:]
