"""A worker's catalog, as the parent accepts it: bounded, known, plain data.

``gradekit list FILE`` asks the worker what the submission registers; everything in the
answer is hostile data, so it is checked field by field and cleaned for a terminal.
"""

from __future__ import annotations

from typing import Any

from ..components import KINDS
from ..report.safe import without_controls

CATALOG_ENTRIES = 500
"""The most components a worker's catalog may list; a longer list is garbage."""
NAME_CHARS = 100
SUMMARY_CHARS = 200
_ENTRY_KEYS = frozenset({"kind", "name", "summary", "missing", "todo"})


def plain(text: str, limit: int) -> str:
    """``text`` on one line without control or format characters (escape sequences, bidi
    overrides, lone surrogates), cut to ``limit`` characters: safe to show in a terminal."""
    line = " ".join(without_controls(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "\u2026"


def validate_catalog(reply: Any) -> list[dict[str, Any]]:
    """A worker's catalog as bounded, known, plain data; ValueError saying what is wrong."""
    if not isinstance(reply, list):
        raise ValueError("not a list of components")
    if len(reply) > CATALOG_ENTRIES:
        raise ValueError(f"more than {CATALOG_ENTRIES} components")
    entries = [_validate_entry(item) for item in reply]
    if len({(e["kind"], e["name"]) for e in entries}) != len(entries):
        raise ValueError("a component is listed twice")
    return entries


def _validate_entry(item: Any) -> dict[str, Any]:
    """One catalog entry, field by field: a known kind, strings, that kind's methods."""
    if not isinstance(item, dict) or set(item) != _ENTRY_KEYS:
        raise ValueError(f"a component is not an object of {', '.join(sorted(_ENTRY_KEYS))}")
    kind = item["kind"]
    if not isinstance(kind, str) or kind not in KINDS:
        raise ValueError("a component of an unknown kind")
    if not (isinstance(item["name"], str) and isinstance(item["summary"], str)):
        raise ValueError("a name or summary that is not a string")
    name = plain(item["name"], NAME_CHARS)
    if not name:
        raise ValueError("a component without a name")
    methods = KINDS[kind].methods
    lists: dict[str, list[str]] = {}
    for key in ("missing", "todo"):
        value = item[key]
        if not isinstance(value, list) or not all(isinstance(m, str) for m in value):
            raise ValueError(f"{key} is not a list of method names")
        if not set(value) <= set(methods):
            raise ValueError(f"{key} names a method that {kind} do not have")
        lists[key] = [m for m in methods if m in value]
    summary = plain(item["summary"], SUMMARY_CHARS)
    return {"kind": kind, "name": name, "summary": summary, **lists}
