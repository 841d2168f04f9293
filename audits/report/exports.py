"""Every table of a report as CSV and Parquet files: `<name>.csv` and `<name>.parquet` per table.

The files hold exactly the rows the HTML shows (text already redacted), with typed columns: rates as
fractions (0.853, not "85.3%"), seconds as numbers (`inf` for a hand-off that never happened), dates and
times as such. The terms table also carries each term's figures as a JSON text column.

Transcript text is untrusted: in the CSV files (meant for spreadsheets) a text cell that a spreadsheet
would read as a formula (starting with =, +, -, @, a tab or a carriage return) gets a leading ', as the
review sheet does. The Parquet files keep every value exactly.
"""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from audits.report.build import Report

FORMULA_START = r"^[=+\-@\t\r]"


def csv_safe(data: pa.Table) -> pa.Table:
    """`data` with every text cell that starts like a spreadsheet formula prefixed with '."""
    columns = []
    for column in data.columns:
        if pa.types.is_string(column.type):
            risky = pc.match_substring_regex(column, FORMULA_START)
            column = pc.if_else(risky, pc.binary_join_element_wise("'", column, ""), column)
        columns.append(column)
    return pa.table(columns, names=data.column_names)


def write_exports(report: Report, out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write every table of `report` to `out_dir` (created if needed); returns the files written, sorted."""
    import pyarrow.csv as pacsv  # noqa: PLC0415
    import pyarrow.parquet as pq  # noqa: PLC0415

    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, table in report.tables().items():
        data = table.to_arrow()
        csv_path, parquet_path = folder / f"{name}.csv", folder / f"{name}.parquet"
        pacsv.write_csv(csv_safe(data), csv_path)
        pq.write_table(data, parquet_path)
        written += [csv_path, parquet_path]
    return sorted(written)
