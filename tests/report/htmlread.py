"""Reading the report's HTML back in tests: its tables per supplier section, as lists of dicts of cell text."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any


class ReportTables(HTMLParser):
    """Collects `tables[(supplier or "", table name)] = [{heading: cell text}, ...]` and the element ids."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.ids: set[str] = set()
        self._supplier = ""
        self._depth_section = 0
        self._table: str | None = None
        self._heads: list[str] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._in_head = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, Any]]) -> None:
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "section" and "data-supplier" in a:
            self._supplier = a["data-supplier"]
        elif tag == "table" and "data-table" in a:
            self._table = a["data-table"]
            self._heads = []
            self.tables[(self._supplier, self._table)] = []
        elif tag == "thead":
            self._in_head = True
        elif tag == "tr" and self._table:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "section":
            self._supplier = ""
        elif tag == "table":
            self._table = None
        elif tag == "thead":
            self._in_head = False
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table:
            if self._in_head:
                self._heads = self._row
            else:
                self.tables[(self._supplier, self._table)].append(
                    dict(zip(self._heads, self._row, strict=True))
                )
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def read(html: str) -> ReportTables:
    parser = ReportTables()
    parser.feed(html)
    parser.close()
    return parser
