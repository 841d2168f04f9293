"""Reading scorecard files, the catalogue of a folder, and which scorecard scores a conversation.

YAML is read with YAML 1.2's booleans (only true/false; `yes`, `no`, `on`, `off` stay strings, so a
scale `values: [yes, no]` means what it says) and duplicate keys are errors. A file that does not
parse names the file, line and column from yaml's mark.

The catalogue (`load_scorecards`) is keyed by (id, version). Two files with the same id and version
are an error naming both; so are two versions of one id that are the same number spelled twice
("2026.01" and "2026.1").

Choosing a scorecard (`scorecard_for`): the current version of an id is its newest one. Older
versions stay in the catalogue to re-score old work, but are never chosen for new scoring, so a
channel dropped by the newest version is dropped for good. Among the ids whose current version
applies to the conversation's channel and handler, exactly one must remain (or `scorecard_id` names it).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from audits.errors import ConfigError
from audits.scorecards.model import Scorecard, version_key
from audits.scorecards.parse import parse_scorecard

PathLike = str | os.PathLike[str]
SHIPPED_FOLDER = Path(__file__).resolve().parents[2] / "scorecards"  # the repository's scorecards/


def default_folder() -> Path:
    """$QA_AUDIT_SCORECARDS, else ./scorecards when it exists, else the scorecards shipped with the code."""
    env = os.environ.get("QA_AUDIT_SCORECARDS")
    if env:
        return Path(env)
    here = Path("scorecards")
    return here if here.is_dir() else SHIPPED_FOLDER


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans and duplicate keys refused."""

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        if isinstance(node, yaml.MappingNode):
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                if isinstance(key, list | dict):
                    continue  # the base class refuses unhashable keys with its own message
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        "while reading a mapping",
                        node.start_mark,
                        f"duplicate key {key!r}",
                        key_node.start_mark,
                    )
                seen.add(key)
        return super().construct_mapping(node, deep=deep)  # type: ignore[arg-type]


_BOOL = "tag:yaml.org,2002:bool"
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != _BOOL]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def read_yaml(path: PathLike) -> Any:
    """Parse a YAML file; ConfigError names the file (and the line and column when yaml knows them)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: cannot read the scorecard: {exc}") from exc
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{p}:{mark.line + 1}:{mark.column + 1}" if mark else str(p)
        what = " ".join(x for x in (exc.context, exc.problem) if x)
        raise ConfigError(f"{where}: not valid YAML: {what}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{p}: not valid YAML: {exc}") from exc


def load_scorecard(path: PathLike) -> Scorecard:
    """Read and validate one scorecard file; ConfigError names the file and the key on any problem."""
    return parse_scorecard(read_yaml(path), str(path))


def _files(where: PathLike | Iterable[PathLike]) -> list[Path]:
    if isinstance(where, str | os.PathLike):
        folder = Path(where)
        if not folder.is_dir():
            raise ConfigError(f"{folder}: no such scorecard folder")
        files = sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
        if not files:
            raise ConfigError(f"{folder}: no scorecard files (*.yaml, *.yml) in this folder")
        return files
    unique: dict[Path, Path] = {}
    for p in map(Path, where):
        unique.setdefault(p.resolve(), p)
    return list(unique.values())


def load_scorecards(
    where: PathLike | Iterable[PathLike] | None = None,
) -> dict[tuple[str, str], Scorecard]:
    """Every scorecard in a folder (*.yaml, *.yml) or a list of files, keyed (id, version).

    `where` None: `default_folder()` ($QA_AUDIT_SCORECARDS, ./scorecards, or the shipped ones).
    """
    catalogue: dict[tuple[str, str], Scorecard] = {}
    for path in _files(default_folder() if where is None else where):
        card = load_scorecard(path)
        key = (card.id, card.version)
        if key in catalogue:
            raise ConfigError(
                f"scorecard {card.label} is defined twice: in {catalogue[key].source} and in {card.source}; "
                "give one of them another version"
            )
        for other in catalogue.values():
            if other.id == card.id and version_key(other.version) == version_key(card.version):
                raise ConfigError(
                    f"scorecard {card.id} versions {other.version!r} ({other.source}) and {card.version!r} "
                    f"({card.source}) are the same number; give one of them another version"
                )
        catalogue[key] = card
    return catalogue


def current_versions(catalogue: Mapping[Any, Scorecard] | Iterable[Scorecard]) -> dict[str, Scorecard]:
    """The newest version of each scorecard id."""
    cards = catalogue.values() if isinstance(catalogue, Mapping) else catalogue
    newest: dict[str, Scorecard] = {}
    for card in cards:
        have = newest.get(card.id)
        if have is None or version_key(card.version) > version_key(have.version):
            newest[card.id] = card
    return newest


def scorecard_for(
    catalogue: Mapping[Any, Scorecard] | Iterable[Scorecard],
    channel: str,
    handler: str,
    *,
    scorecard_id: str | None = None,
) -> Scorecard:
    """The current version of the one scorecard that applies to `channel` and `handler` (or of `scorecard_id`)."""
    current = current_versions(catalogue)
    if scorecard_id is not None:
        if scorecard_id not in current:
            raise ConfigError(
                f"no scorecard {scorecard_id!r}; the catalogue has {', '.join(sorted(current)) or 'none'}"
            )
        card = current[scorecard_id]
        if not card.applies(channel, handler):
            raise ConfigError(
                f"scorecard {card.label} ({card.source}) does not apply to channel {channel!r} and handler "
                f"{handler!r}: it covers channels {', '.join(card.channels)} and handlers {', '.join(card.handlers)}"
            )
        return card
    fits = sorted((c for c in current.values() if c.applies(channel, handler)), key=lambda c: c.id)
    if not fits:
        raise ConfigError(
            f"no scorecard applies to channel {channel!r} and handler {handler!r} "
            f"(the catalogue has {', '.join(sorted(current)) or 'none'})"
        )
    if len(fits) > 1:
        raise ConfigError(
            f"{len(fits)} scorecards apply to channel {channel!r} and handler {handler!r} "
            f"({', '.join(c.label for c in fits)}); name one with scorecard_id"
        )
    return fits[0]
