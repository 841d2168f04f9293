"""Reporting periods: a day, a range, an ISO week, a month; bad text named."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from audits.errors import ConfigError
from audits.period import Period, parse_period


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2026-11-05", "2026-11-05", "2026-11-05"),
        ("2026-11-01..2026-11-07", "2026-11-01", "2026-11-07"),
        ("2026-W45", "2026-11-02", "2026-11-08"),  # ISO 8601: week 45 of 2026 starts on Monday 2 November
        ("2020-W53", "2020-12-28", "2021-01-03"),  # a 53-week year crossing into the next
        ("2026-02", "2026-02-01", "2026-02-28"),
        ("2024-02", "2024-02-01", "2024-02-29"),
        ("2026-12", "2026-12-01", "2026-12-31"),
    ],
)
def test_parse_period(text, start, end):
    p = parse_period(text)
    assert (p.start, p.end) == (dt.date.fromisoformat(start), dt.date.fromisoformat(end))
    assert len(p.days) == (p.end - p.start).days + 1


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("2026-11-07..2026-11-01", "before it starts"),
        ("2026-13", "month 13"),
        ("2026-W54", "no ISO week 54"),
        ("yesterday", "'yesterday' is not a date"),
        ("2026-11-01..", "'' is not a date"),
    ],
)
def test_bad_periods_are_named(text, needle):
    with pytest.raises(ConfigError, match=needle):
        parse_period(text)


def test_where_takes_whole_utc_days():
    con = duckdb.connect()
    con.execute("CREATE TABLE t (ts TIMESTAMPTZ)")
    con.execute(
        "INSERT INTO t VALUES ('2026-11-01 00:00:00+00'), ('2026-11-01 23:59:59+00'), "
        "('2026-11-02 00:00:00+00'), ('2026-11-01 07:59:59+08'), ('2026-11-01 08:00:00+08')"
    )
    n = con.execute(
        f"SELECT count(*) FROM t WHERE {Period(dt.date(2026, 11, 1), dt.date(2026, 11, 1)).where('ts')}"
    )
    # 07:59:59+08 is 23:59:59 UTC on 31 October; 08:00:00+08 is midnight UTC on 1 November
    assert n.fetchall() == [(3,)]
