"""Adapters: platform exports (tau-bench, ABCD) turned into interchange records for the loader.

    adapter_lines(fmt, path)     -> (kind, [record bytes])   what `load_file` stages for one file
    adapter_files(fmt, folder)   -> [Path]                    the folder's files that adapter reads

Each record is one JSON object (UTF-8) in the interchange format, and record N comes from item N of
the source file (its Nth trajectory, conversation, policy section or handbook subflow), so the
loader's line numbers in quarantine point at the item. A file without the shape its adapter expects
raises `AdapterError` naming the file, the item (`line`) and the key (`field`); a record whose
values break the contract is quarantined by the loader like any other.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from audits.adapters import abcd, tau_bench
from audits.errors import ConfigError, InputError

ADAPTERS = ("tau-bench", "abcd")
_MODULES = {"tau-bench": tau_bench, "abcd": abcd}


def _module(fmt: str) -> ModuleType:
    """The adapter module for `fmt`; a ConfigError for an unknown one."""
    if fmt not in _MODULES:
        raise ConfigError(f"unknown adapter {fmt!r}; expected one of {', '.join(ADAPTERS)}")
    return _MODULES[fmt]


def adapter_lines(fmt: str, path: Path) -> tuple[str, list[bytes]]:
    """(kind, records) of one platform file: kind is `conversations` or `kb_articles`.

    tau-bench: a `.md` file is the policy (KB articles), any other a trajectories array. ABCD: by
    content, an array of conversations or guidelines.json (with its kb.json and ontology.json).
    """
    module = _module(fmt)
    path = Path(path)
    if not path.is_file():
        raise InputError(str(path), "no such file")
    return module.lines(path)


def adapter_files(fmt: str, folder: Path) -> list[Path]:
    """The files under `folder` (recursively, sorted) that the `fmt` adapter loads.

    tau-bench: policies (`*wiki*.md`) and `.json` arrays of trajectories. ABCD: `.json` arrays of
    conversations and `guidelines*.json`; never kb.json or ontology.json (read as guidelines'
    companions). LICENSE, README and other files are skipped. A file is judged by its name and its
    first 64 KiB only (an array whose items carry `task_id`, or `convo_id`), so a damaged export of
    the right kind is still listed and fails loudly, naming the item, when it is loaded.
    """
    module = _module(fmt)
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(str(folder), "no such folder")
    return sorted(p for p in folder.rglob("*") if p.is_file() and module.understands(p))
