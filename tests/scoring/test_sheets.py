"""The review sheet: RFC 4180 export, complete validation before any write, blank conversations counted."""

from __future__ import annotations

import csv
import io

import pytest

from audits.errors import ConfigError, InputError
from audits.scoring import SheetError, assign_reviews, export_sheet, import_sheet
from audits.scoring.sheets import COLUMNS
from tests.scoring.conftest import FAILING, PASSING, count, sample_score
from tests.scoring.test_reviews import add_check


@pytest.fixture
def queued(db, draw_id, catalogue):
    assign_reviews(db, draw_id, ["ann", "bob"], calibration_share=0.1, scorecards=catalogue)
    return db, draw_id


def read(path):
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def write(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def fill(rows, answers=None, skip=()):
    """Rows with `value` filled from PASSING (or `answers` per scorecard), except conversations in `skip`."""
    answers = answers or PASSING
    for row in rows:
        if row["conversation_id"] not in skip:
            row["value"] = answers[row["scorecard_id"]][row["item_id"]]
    return rows


def ann_items(con, d):
    return con.execute(
        "SELECT supplier, conversation_id, role, scorecard_id FROM review_assignments WHERE draw_id = ? "
        "AND reviewer = 'ann' ORDER BY supplier, conversation_id",
        [d],
    ).fetchall()


def test_the_sheet_has_one_row_per_item_and_scorecard_item_rfc4180_utf8(queued, tmp_path):
    con, d = queued
    items = ann_items(con, d)
    result = export_sheet(con, d, "ann", tmp_path / "ann.csv")
    per_card = {"bot": 4, "people": 2}
    assert result.conversations == len(items)
    assert result.rows == sum(per_card[card] for *_, card in items)
    raw = (tmp_path / "ann.csv").read_bytes()
    text = raw.decode("utf-8")  # UTF-8, no byte-order mark
    assert not raw.startswith(b"\xef\xbb\xbf") and "café" in text
    assert text.count("\r\n") >= result.rows + 1  # CRLF line ends
    assert '"Did the agent say it is an AI, ""clearly"", before its first answer?"' in text  # quotes doubled
    assert (
        '"Was the request resolved?\nAnswer na when nothing was asked."' in text
    )  # a field with a line break
    rows = read(tmp_path / "ann.csv")
    assert tuple(rows[0]) == COLUMNS and len(rows) == result.rows
    bot = next(r for r in rows if r["item_id"] == "resolved" and r["scorecard_id"] == "bot")
    assert (bot["allowed"], bot["value"], bot["comment"]) == ("yes|no|na", "", "")
    assert {(r["supplier"], r["conversation_id"]) for r in rows} == {(s, c) for s, c, *_ in items}


def test_a_filled_sheet_submits_every_conversation_and_counts_the_blank_ones(queued, tmp_path):
    con, d = queued
    items = ann_items(con, d)
    export_sheet(con, d, "ann", tmp_path / "ann.csv")
    blank = {items[0][1], items[1][1]}
    write(tmp_path / "filled.csv", fill(read(tmp_path / "ann.csv"), skip=blank))
    result = import_sheet(con, tmp_path / "filled.csv", "ann")
    assert (result.submitted, result.skipped_blank, result.unchanged) == (len(items) - 2, 2, 0)
    assert sorted(k.split("/")[2] for k in result.skipped) == sorted(blank)
    primaries = [(s, c) for s, c, role, _ in items if role == "primary" and c not in blank]
    assert count(con, "sample_scores") == len(primaries)
    assert sample_score(con, d, *primaries[0]) == (True, "ann")
    sources = con.execute("SELECT DISTINCT source FROM reviews").fetchall()
    assert sources == [("sheet:filled.csv",)]


def test_importing_the_same_answers_again_changes_nothing(queued, tmp_path):
    con, d = queued
    export_sheet(con, d, "ann", tmp_path / "ann.csv")
    write(tmp_path / "filled.csv", fill(read(tmp_path / "ann.csv")))
    first = import_sheet(con, tmp_path / "filled.csv", "ann")
    again = import_sheet(con, tmp_path / "filled.csv", "ann")
    assert (again.submitted, again.unchanged) == (0, first.submitted)
    assert count(con, "reviews") == first.submitted


def test_a_full_export_carries_the_current_answers_and_a_changed_one_resubmits(queued, tmp_path):
    con, d = queued
    export_sheet(con, d, "ann", tmp_path / "ann.csv")
    write(tmp_path / "filled.csv", fill(read(tmp_path / "ann.csv")))
    import_sheet(con, tmp_path / "filled.csv", "ann")
    assert export_sheet(con, d, "ann", tmp_path / "open.csv").conversations == 0
    export_sheet(con, d, "ann", tmp_path / "all.csv", include_submitted=True)
    rows = read(tmp_path / "all.csv")
    assert all(r["value"] for r in rows)
    target = rows[0]["conversation_id"]
    for r in rows:
        if r["conversation_id"] == target:
            r["value"] = FAILING[r["scorecard_id"]][r["item_id"]]
    write(tmp_path / "changed.csv", rows)
    result = import_sheet(con, tmp_path / "changed.csv", "ann")
    assert (result.submitted, result.unchanged) == (1, len({r["conversation_id"] for r in rows}) - 1)
    assert con.execute("SELECT count(*) FROM reviews WHERE superseded_by IS NOT NULL").fetchall() == [(1,)]


def test_every_problem_is_reported_with_line_and_column_and_nothing_is_written(queued, tmp_path):
    con, d = queued
    export_sheet(con, d, "ann", tmp_path / "ann.csv")
    rows = fill(read(tmp_path / "ann.csv"))
    convs = list(dict.fromkeys(r["conversation_id"] for r in rows))
    block = {c: [i for i, r in enumerate(rows) if r["conversation_id"] == c] for c in convs}
    bot = [c for c in convs if rows[block[c][0]]["scorecard_id"] == "bot"]
    rows[block[bot[0]][2]]["value"] = "maybe"  # a value not allowed
    rows[block[bot[1]][0]]["value"] = ""  # half filled
    rows[block[bot[2]][1]]["item_id"] = "made_up"  # not in the scorecard (so no_pii has no row)
    for i in block[bot[3]]:
        rows[i]["scorecard_version"] = "7"  # not the pinned version
    rows[block[bot[4]][0]]["conversation_id"] = "not-mine"  # unknown conversation
    dropped = block[bot[5]][3]  # a missing row: this conversation loses its last item
    for i in block[bot[6]]:
        rows[i]["value"] = ""
    rows[block[bot[6]][0]]["comment"] = "a comment without values"
    del rows[dropped]
    write(tmp_path / "bad.csv", rows)
    with pytest.raises(SheetError) as err:
        import_sheet(con, tmp_path / "bad.csv", "ann")
    problems = err.value.problems
    line = {}  # file line of each sheet row: the header is line 1, rows have no line breaks except one item
    text = (tmp_path / "bad.csv").read_text(encoding="utf-8")
    reader = csv.reader(io.StringIO(text, newline=""))
    next(reader)
    last = reader.line_num
    for i, _ in enumerate(reader):
        line[i], last = last + 1, reader.line_num
    at = {(ln, col) for ln, col, _ in problems}
    idx = lambda i: i if i < dropped else i - 1  # noqa: E731 (row index after the deletion)
    assert (line[idx(block[bot[0]][2])], "value") in at
    assert (line[idx(block[bot[1]][0])], "value") in at
    assert (line[idx(block[bot[2]][1])], "item_id") in at
    assert (line[idx(block[bot[2]][0])], "item_id") in at  # no row for item 'no_pii'
    assert {(line[idx(i)], "scorecard_version") for i in block[bot[3]]} <= at
    assert (line[idx(block[bot[4]][0])], "conversation_id") in at
    assert (line[idx(block[bot[5]][0])], "item_id") in at  # no row for the dropped item
    assert (line[idx(block[bot[6]][0])], "comment") in at
    assert (line[idx(block[bot[4]][1])], "item_id") in at  # the rest of that block lacks its first item
    assert len(problems) == 1 + 1 + 2 + 4 + 2 + 1 + 1  # nothing else is reported
    message = str(err.value)
    assert "nothing was imported" in message and "bad.csv:" in message
    assert (
        "'maybe' is not allowed for" in message and "other items of this conversation are filled" in message
    )
    assert "not in ann's queue" in message and "pinned to bot@1" in message
    assert count(con, "reviews") == count(con, "sample_scores") == 0
    assert con.execute("SELECT count(*) FROM review_assignments WHERE status = 'submitted'").fetchall() == [
        (0,)
    ]


def test_the_listing_stops_at_fifty_and_counts_the_rest(queued, tmp_path):
    con, d = queued
    export_sheet(con, d, "ann", tmp_path / "ann.csv")
    rows = read(tmp_path / "ann.csv")
    for r in rows:
        r["value"] = "wrong"
    write(tmp_path / "bad.csv", rows)
    with pytest.raises(SheetError) as err:
        import_sheet(con, tmp_path / "bad.csv", "ann")
    assert len(err.value.problems) == len(rows) > 50
    assert f"... and {len(rows) - 50} more problem(s)" in str(err.value)
    assert str(err.value).count("is not allowed") == 50


def test_a_missing_column_is_reported_on_the_header_line(queued, tmp_path):
    con, d = queued
    export_sheet(con, d, "ann", tmp_path / "ann.csv")
    rows = [{k: v for k, v in r.items() if k != "value"} for r in read(tmp_path / "ann.csv")]
    write(tmp_path / "bad.csv", rows)
    with pytest.raises(SheetError, match=r"bad.csv:1 \[value\]: required column is missing"):
        import_sheet(con, tmp_path / "bad.csv", "ann")


def test_a_row_with_the_wrong_number_of_fields_is_reported(queued, tmp_path):
    con, d = queued
    export_sheet(con, d, "ann", tmp_path / "ann.csv")
    lines = (tmp_path / "ann.csv").read_bytes().decode("utf-8").split("\r\n")
    lines[1] += ",extra"
    (tmp_path / "bad.csv").write_text("\r\n".join(lines), encoding="utf-8")
    with pytest.raises(SheetError, match=r"bad.csv:2 \[comment\]: 13 fields; the header has 12"):
        import_sheet(con, tmp_path / "bad.csv", "ann")


def test_a_sheet_that_is_not_utf8_is_refused(queued, tmp_path):
    con, _ = queued
    (tmp_path / "latin.csv").write_bytes(
        (",".join(COLUMNS) + "\r\n" + "caf\xe9," * 11 + "x").encode("latin-1")
    )
    with pytest.raises(InputError, match=r"latin.csv: not UTF-8 text \(invalid continuation byte at byte"):
        import_sheet(con, tmp_path / "latin.csv", "ann")


def test_columns_may_come_in_any_order_and_excel_byte_order_marks_are_accepted(queued, tmp_path):
    con, d = queued
    export_sheet(con, d, "ann", tmp_path / "ann.csv")
    rows = fill(read(tmp_path / "ann.csv"))
    rows = [dict(reversed(list(r.items()))) for r in rows]
    write(tmp_path / "filled.csv", rows)
    (tmp_path / "bom.csv").write_bytes(b"\xef\xbb\xbf" + (tmp_path / "filled.csv").read_bytes())
    result = import_sheet(con, tmp_path / "bom.csv", "ann")
    assert result.submitted == len(ann_items(con, d))


def test_another_reviewers_sheet_is_refused(queued, tmp_path):
    con, d = queued
    export_sheet(con, d, "ann", tmp_path / "ann.csv")
    write(tmp_path / "filled.csv", fill(read(tmp_path / "ann.csv")))
    with pytest.raises(SheetError, match="not in bob's queue"):
        import_sheet(con, tmp_path / "filled.csv", "bob")


def test_check_proposals_are_exported_with_personal_data_masked(queued, tmp_path):
    con, d = queued
    s, c = con.execute(
        "SELECT supplier, conversation_id FROM review_assignments WHERE draw_id = ? AND reviewer = 'ann' "
        "AND scorecard_id = 'bot' ORDER BY 1, 2 LIMIT 1",
        [d],
    ).fetchall()[0]
    add_check(con, s, c, "pii_echo", "fail", turn=3, evidence="Your card 4111 1111 1111 1111 is noted")
    add_check(con, s, c, "ai_disclosure", "fail", turn=1, evidence="=HYPERLINK(1)")
    export_sheet(con, d, "ann", tmp_path / "ann.csv")
    rows = {r["item_id"]: r for r in read(tmp_path / "ann.csv") if r["conversation_id"] == c}
    assert rows["no_pii"]["prefilled"] == "no"
    assert rows["no_pii"]["check_evidence"] == "pii_echo v1: fail at turn 3: Your card [card_number] is noted"
    assert "4111" not in (tmp_path / "ann.csv").read_text(encoding="utf-8")
    assert rows["disclosed"]["check_evidence"].startswith("ai_disclosure v1: fail at turn 1: =HYPERLINK")
    assert rows["tone"]["prefilled"] == rows["tone"]["check_evidence"] == ""


def test_exporting_for_a_reviewer_without_items_is_refused(queued, tmp_path):
    con, d = queued
    with pytest.raises(ConfigError, match="zed has no items in draw"):
        export_sheet(con, d, "zed", tmp_path / "x.csv")
