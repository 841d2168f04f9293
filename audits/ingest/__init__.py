"""Ingest: exports into the warehouse under the data contract.

`load_paths` is the entry point. A file is staged (read into temporary tables, typed, with every
problem noted per record), checked against the contract (`contract.py`, a Great Expectations suite
enforced in SQL and cross-checked by Great Expectations), then written in one transaction with its
derived columns (`derive.py`). A file is all or nothing, and a file loaded twice changes nothing.
"""

from audits.ingest.load import LoadResult, format_load_summary, load_file, load_paths

__all__ = ["LoadResult", "format_load_summary", "load_file", "load_paths"]
