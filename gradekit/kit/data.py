"""A kit's public checks as plain data: one JSON file and one ``.npz`` of arrays.

The instructor's gradekit stores, for every public check, its spec, its plan and the
expected outcome the reference gives (and the outcome of every mutant of the same
component, to name misconceptions); the student's gradekit loads them and judges with
the same code as ``gradekit grade``. Values are trees of numbers, strings, lists, dicts,
arrays and gradekit's own dataclasses; loading builds nothing else and never unpickles.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import GradekitError
from ..sandbox.plan import Unsupported

FORMAT = 1
"""The version of the kit's data format; a kit of another version is refused."""
CHECKS = "checks.json"
ARRAYS = "arrays.npz"


class KitError(GradekitError):
    """A kit's data that cannot be read: the message names the file and the problem."""


def encode(value: Any, arrays: dict[str, np.ndarray]) -> Any:
    """``value`` as JSON-ready data; its arrays go into ``arrays`` under new keys."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            raise TypeError(f"cannot store an array of {value.dtype}")
        key = f"a{len(arrays)}"
        arrays[key] = value
        return {"$array": key}
    if isinstance(value, np.generic):
        return encode(value.item(), arrays)
    if isinstance(value, float) and not math.isfinite(value):
        return {"$float": repr(value)}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Unsupported):
        return {"$unsupported": value.type_name}
    if isinstance(value, list):
        return [encode(v, arrays) for v in value]
    if isinstance(value, tuple):
        return {"$tuple": [encode(v, arrays) for v in value]}
    if isinstance(value, dict):
        return {"$dict": [[encode(k, arrays), encode(v, arrays)] for k, v in value.items()]}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        cls = type(value)
        if not cls.__module__.startswith("gradekit."):
            raise TypeError(f"cannot store a {cls.__module__}.{cls.__qualname__}")
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        # A lazily computed field (a figure's reference run) is left out: None.
        fields = {k: None if callable(v) else v for k, v in fields.items()}
        return {
            "$data": f"{cls.__module__}:{cls.__qualname__}",
            "fields": {k: encode(v, arrays) for k, v in fields.items()},
        }
    raise TypeError(f"cannot store a {type(value).__name__}")


def _dataclass(name: str) -> type:
    """The gradekit dataclass named ``module:Qualname``; nothing else is ever built."""
    module, _, qualname = name.partition(":")
    if not module.startswith("gradekit.") or not qualname:
        raise ValueError(f"not a gradekit class: {name!r}")
    found: Any = importlib.import_module(module)
    for part in qualname.split("."):
        found = getattr(found, part)
    if not (isinstance(found, type) and dataclasses.is_dataclass(found)):
        raise ValueError(f"not a gradekit dataclass: {name!r}")
    return found


def decode(data: Any, arrays: Any) -> Any:
    """The value ``encode`` stored; ``arrays`` maps keys to arrays (an open ``.npz``)."""
    if isinstance(data, list):
        return [decode(v, arrays) for v in data]
    if not isinstance(data, dict):
        return data
    if set(data) == {"$array"}:
        return np.array(arrays[data["$array"]])
    if set(data) == {"$float"}:
        return float(data["$float"])
    if set(data) == {"$unsupported"}:
        return Unsupported(str(data["$unsupported"]))
    if set(data) == {"$tuple"}:
        return tuple(decode(v, arrays) for v in data["$tuple"])
    if set(data) == {"$dict"}:
        return {_key(decode(k, arrays)): decode(v, arrays) for k, v in data["$dict"]}
    if set(data) == {"$data", "fields"}:
        cls = _dataclass(data["$data"])
        obj = cls.__new__(cls)
        names = {f.name for f in dataclasses.fields(cls)}
        for name, value in data["fields"].items():
            if name not in names:
                raise ValueError(f"{data['$data']} has no field {name!r}")
            object.__setattr__(obj, name, decode(value, arrays))
        return obj
    raise ValueError(f"unknown record with keys {sorted(data)}")


def _key(value: Any) -> Any:
    """A decoded dict key: lists (from JSON) become tuples, so they stay hashable."""
    return tuple(_key(v) for v in value) if isinstance(value, list | tuple) else value


def save(folder: Path, document: dict[str, Any]) -> None:
    """Write ``document`` as ``checks.json`` and its arrays as ``arrays.npz`` in ``folder``."""
    arrays: dict[str, np.ndarray] = {}
    body = encode({"format": FORMAT, **document}, arrays)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / CHECKS).write_text(json.dumps(body, separators=(",", ":")))
    np.savez_compressed(folder / ARRAYS, **arrays)


def load(folder: Path) -> dict[str, Any]:
    """Read what ``save`` wrote, or raise KitError naming the file at fault."""
    file = folder / CHECKS
    try:
        body = json.loads(file.read_text())
    except OSError as exc:
        raise KitError(f"{file}: cannot be read: {exc.strerror}") from None
    except ValueError as exc:
        raise KitError(f"{file}: not valid JSON: {exc}") from None
    try:
        with np.load(folder / ARRAYS, allow_pickle=False) as arrays:
            document = decode(body, arrays)
    except OSError as exc:
        raise KitError(f"{folder / ARRAYS}: cannot be read: {exc}") from None
    except (ValueError, KeyError, TypeError, AttributeError, ImportError) as exc:
        raise KitError(f"{file}: not a kit's data: {exc}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise KitError(f"{file}: written by another version of gradekit's kits")
    return document
