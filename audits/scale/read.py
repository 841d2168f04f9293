"""Query the partitioned output as if it were one warehouse: views over the Parquet parts."""

from __future__ import annotations

from pathlib import Path

import duckdb

from audits.scale.layout import PART_FILE, TABLES, parquet_source

VIEWS = (*TABLES, "kb_articles")


def open_outputs(out_dir: str | Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB (in UTC) with a view per table over OUT's parts (tables without parts are left out).

    `quarantine` includes the KB's and the unplaced lines' parts; `conversations` and `check_results`
    hold the merged values once the merge pass has run.
    """
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for table in VIEWS:
        if any((Path(out_dir) / table).glob(f"**/{PART_FILE}")):
            con.execute(f"CREATE VIEW {table} AS SELECT * FROM {parquet_source(out_dir, table)}")
    return con
