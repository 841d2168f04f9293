"""Helpers the platform adapters share: reading a JSON export, checking its shape, writing records.

Only the standard library is used here: adapters turn a platform's export into interchange records
(one JSON object each); typing, checking and storing those records is the loader's job.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from audits.errors import AdapterError

_JSON_TYPE_NAMES = {
    dict: "an object",
    list: "an array",
    str: "a string",
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    type(None): "null",
}


def type_name(value: object) -> str:
    """How a JSON value's type reads in an error message ('an object', 'null', ...)."""
    return _JSON_TYPE_NAMES.get(type(value), type(value).__name__)


def read_json(path: Path) -> Any:
    """The parsed JSON document in `path`; an AdapterError when it cannot be read or parsed."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AdapterError(str(path), f"cannot be read: {exc.strerror or exc}") from exc
    try:
        return json.loads(data)
    except UnicodeDecodeError as exc:
        raise AdapterError(str(path), "not valid UTF-8 text") from exc
    except json.JSONDecodeError as exc:
        raise AdapterError(
            str(path), f"not valid JSON: {exc.msg} (column {exc.colno})", line=exc.lineno
        ) from exc


def read_text(path: Path) -> str:
    """The UTF-8 text of `path` (a byte order mark dropped); an AdapterError when it cannot be read."""
    try:
        return path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise AdapterError(str(path), f"cannot be read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise AdapterError(str(path), "not valid UTF-8 text") from exc


def json_array_with(path: Path, marker: bytes, head_bytes: int = 64 * 1024) -> bool:
    """Whether a file looks like a JSON array whose items have key `marker` (e.g. b'"convo_id"'):
    its first non-blank byte is `[` and the marker occurs in its first `head_bytes` bytes.

    A cheap sniff for choosing a folder's files; the adapter checks the shape when it loads.
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(head_bytes)
    except OSError:
        return False
    return head.removeprefix(b"\xef\xbb\xbf").lstrip()[:1] == b"[" and marker in head


def require(
    container: dict[str, Any],
    key: str,
    types: type | tuple[type, ...],
    *,
    path: Path,
    line: int | None,
    field: str,
    what: str,
) -> Any:
    """`container[key]`, which must exist and be of `types`; otherwise an AdapterError naming it.

    `field` is the key's full path in the item (e.g. `traj[3].role`), `what` the expected type in
    words. Booleans are not accepted where numbers are (JSON keeps them apart; Python does not).
    """
    if key not in container:
        raise AdapterError(str(path), f"missing key {key!r} (expected {what})", line=line, field=field)
    value = container[key]
    bad_bool = isinstance(value, bool) and bool not in (types if isinstance(types, tuple) else (types,))
    if not isinstance(value, types) or bad_bool:
        raise AdapterError(
            str(path), f"expected {what}, got {type_name(value)}", line=line, field=field
        )  # fmt: skip
    return value


def slug(text: str, sep: str = "-") -> str:
    """Lower-case ASCII letters and digits, every other run of characters one `sep`: 'Book flight' -> 'book-flight'."""
    return re.sub(r"[^a-z0-9]+", sep, text.lower()).strip(sep)


def encode(record: dict[str, Any]) -> bytes:
    """One interchange record as UTF-8 JSON bytes (a single line: JSON escapes newlines in strings)."""
    return json.dumps(record, ensure_ascii=False).encode()
