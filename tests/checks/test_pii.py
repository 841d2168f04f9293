"""Personal-data patterns, in Python and in DuckDB SQL, agree and honour their checksums."""

from __future__ import annotations

import duckdb
import pytest

from audits.checks.pii import SQL_MACROS, find_pii, luhn, redact, sql_pii_kinds

# Published test card numbers (Stripe's and PayPal's testing documentation list these; they pass Luhn).
VALID_CARDS = ["4111 1111 1111 1111", "5555555555554444", "378282246310005", "4242-4242-4242-4242"]
CASES = [
    ("my card is 4111 1111 1111 1111", ["card_number"]),
    ("my card is 4111 1111 1111 1112", []),  # fails Luhn
    ("write to mei.tan+orders@inbox.example.org", ["email"]),
    ("call +65 9123 4567", ["phone"]),
    ("call 0812-3456-7890", ["phone"]),
    # S1234567D is the NRIC commonly used as a valid example; its check letter follows the published
    # weights 2,7,6,5,4,3,2 and the S/T letter table JZIHGFEDCBA.
    ("NRIC S1234567D", ["sg_nric"]),
    ("NRIC S1234567A", []),  # wrong check letter
    ("IC 850312-14-5678", ["my_mykad"]),
    ("IC 851312-14-5678", []),  # month 13
    ("NIK 3171014506890002", ["id_nik"]),
    ("PhilSys 1234-5678-9012", ["ph_id"]),
    ("Thai ID 1-1017-00230-59-7", ["th_id"]),  # check digit (11 - sum(d_i * (13 - i)) mod 11) mod 10
    ("Thai ID 1-1017-00230-59-3", []),
    ("Refunds take 5-10 business days; order #1234567; within 14 days", []),
    # found by a review: cards followed by an expiry date, dotted cards, phones in parentheses or with
    # dots, NRICs in lower case, Thai ids with spaces; and dates that are not phones
    ("card 4111 1111 1111 1111 12 25", ["card_number"]),
    ("card 4111.1111.1111.1111", ["card_number"]),
    ("call (212) 555-0123", ["phone"]),
    ("call 0812.3456.7890", ["phone"]),
    ("nric s1234567d", ["sg_nric"]),
    ("Thai ID 1 1017 00230 59 7", ["th_id"]),
    ("IC 850312145678", ["my_mykad"]),
    ("on 05-11-2026 and 05 11 2026", []),
]


@pytest.fixture(scope="module")
def sql() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for stmt in SQL_MACROS.split(";"):
        if stmt.strip():
            con.execute(stmt)
    return con


@pytest.mark.parametrize(("text", "kinds"), CASES)
def test_python_and_sql_find_the_same_kinds(
    sql: duckdb.DuckDBPyConnection, text: str, kinds: list[str]
) -> None:
    assert sorted({k for k, _ in find_pii(text)}) == kinds
    assert sorted(sql.execute(f"SELECT {sql_pii_kinds('$t')}", {"t": text}).fetchall()[0][0]) == kinds


@pytest.mark.parametrize("card", VALID_CARDS)
def test_published_test_cards_pass_luhn(sql: duckdb.DuckDBPyConnection, card: str) -> None:
    digits = card.replace(" ", "").replace("-", "")
    assert luhn(digits)
    assert sql.execute("SELECT pii_luhn(?)", [digits]).fetchall()[0][0] is True
    bad = digits[:-1] + str((int(digits[-1]) + 1) % 10)  # any one-digit change breaks Luhn
    assert not luhn(bad) and sql.execute("SELECT pii_luhn(?)", [bad]).fetchall()[0][0] is False


def test_redact_replaces_every_kind_and_keeps_the_rest() -> None:
    text = "Card 4111 1111 1111 1111, mail mei.tan@example.com, call +65 9123 4567, NRIC S1234567D; refund in 5-7 days."
    assert (
        redact(text) == "Card [card_number], mail [email], call [phone], NRIC [sg_nric]; refund in 5-7 days."
    )
    assert redact("nothing here, order #1234567") == "nothing here, order #1234567"


@pytest.mark.parametrize("phone", ["+62 812-3456-7890", "(021) 5550-1234-567", "+65 6123 4567"])
def test_phone_numbers_with_a_plus_or_brackets_are_not_cards_and_do_not_crash(phone: str) -> None:
    """Found in the demo data: a '+' or '(' in a digit group once made the card test raise ValueError."""
    from audits.checks.pii import card

    assert card(phone) is False
    assert "card" not in {k for k, _ in find_pii(f"call me on {phone}")}
    assert phone not in redact(f"call me on {phone}")
