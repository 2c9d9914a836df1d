"""What crosses the trust boundary: JSON and ``.npy`` files, read strictly by the parent.

Never pickle: the parent reads only files it names itself, checks each ``.npy`` header
(a real numeric dtype, a bounded size) before loading it with ``allow_pickle=False``,
and rebuilds plain values. A malformed result is the failure of that check only.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from .plan import Failure, Outcome, Unsupported

RESULT = "result.json"
MAX_JSON_BYTES = 4 << 20
MAX_ARRAY_BYTES = 256 << 20
MAX_NODES = 10_000
_NPY_NAME = re.compile(r"v\d{1,6}\.npy")


class TransportError(Exception):
    """A result that breaks the format: reported as the failure of the check."""


def write_plan(folder: Path, ops: list[dict[str, Any]], arrays: dict[str, np.ndarray]) -> None:
    """Write a plan for the worker: ``plan.json`` and one ``.npy`` per input array."""
    folder.mkdir(parents=True, exist_ok=True)
    for key, value in arrays.items():
        np.save(folder / f"{key}.npy", value, allow_pickle=False)
    (folder / "plan.json").write_text(json.dumps({"ops": ops, "arrays": sorted(arrays)}))


def read_plan(folder: Path) -> tuple[list[dict[str, Any]], dict[str, np.ndarray]]:
    """The worker's side of ``write_plan``."""
    data = json.loads((folder / "plan.json").read_text())
    arrays = {key: np.load(folder / f"{key}.npy", allow_pickle=False) for key in data["arrays"]}
    return data["ops"], arrays


def _encode(value: Any, folder: Path, counter: list[int]) -> Any:
    if isinstance(value, np.ndarray):
        name = f"v{counter[0]}.npy"
        counter[0] += 1
        np.save(folder / name, value, allow_pickle=False)
        return {"t": "array", "file": name}
    if isinstance(value, Unsupported):
        return {"t": "unsupported", "v": value.type_name}
    if isinstance(value, dict):
        return {"t": "dict", "v": {k: _encode(v, folder, counter) for k, v in value.items()}}
    if isinstance(value, list):
        return {"t": "list", "v": [_encode(v, folder, counter) for v in value]}
    if value is None or isinstance(value, bool | int | float):
        return {"t": "scalar", "v": value}
    return {"t": "unsupported", "v": type(value).__name__}


def write_outcome(folder: Path, outcome: Outcome) -> None:
    """The worker's answer: every saved value, arrays as ``.npy``, the rest as JSON."""
    counter = [0]
    values = {k: _encode(v, folder, counter) for k, v in outcome.values.items()}
    failure = vars(outcome.failure) if outcome.failure else None
    (folder / RESULT).write_text(json.dumps({"values": values, "failure": failure}))


def _load_array(folder: Path, name: Any) -> np.ndarray:
    if not isinstance(name, str) or not _NPY_NAME.fullmatch(name):
        raise TransportError(f"bad array file name {name!r:.40}")
    path = folder / name
    with path.open("rb") as f:
        version = np.lib.format.read_magic(f)
        read_header = {
            (1, 0): np.lib.format.read_array_header_1_0,
            (2, 0): np.lib.format.read_array_header_2_0,
        }.get(version)
        if read_header is None:
            raise TransportError(f"unsupported .npy version {version}")
        shape, _, dtype = read_header(f)  # the header only: no data is read yet
        if dtype.kind not in "biuf" or dtype.hasobject:
            raise TransportError(f"array of dtype {dtype} is not a plain numeric array")
        if int(np.prod(shape, dtype=np.int64)) * dtype.itemsize > MAX_ARRAY_BYTES:
            raise TransportError(f"array of shape {shape} is larger than allowed")
    array = np.load(path, allow_pickle=False)
    if type(array) is not np.ndarray:
        raise TransportError("not an ndarray")
    return array


def _decode(node: Any, folder: Path, budget: list[int]) -> Any:
    budget[0] -= 1
    if budget[0] < 0:
        raise TransportError("result has too many values")
    if not isinstance(node, dict) or "t" not in node:
        raise TransportError("malformed value")
    tag, v = node["t"], node.get("v")
    if tag == "array":
        return _load_array(folder, node.get("file"))
    if tag == "scalar" and (v is None or type(v) in (bool, int, float)):
        return v
    if tag == "unsupported" and isinstance(v, str):
        return Unsupported(v[:80])
    if tag == "dict" and isinstance(v, dict):
        return {str(k): _decode(x, folder, budget) for k, x in v.items()}
    if tag == "list" and isinstance(v, list):
        return [_decode(x, folder, budget) for x in v]
    raise TransportError(f"malformed value of tag {tag!r:.20}")


def read_outcome(folder: Path) -> Outcome:
    """The parent's side: rebuild an Outcome, or raise TransportError if it is malformed."""
    path = folder / RESULT
    if not path.is_file():
        raise TransportError("the worker wrote no result")
    if path.stat().st_size > MAX_JSON_BYTES:
        raise TransportError("the result is larger than allowed")
    try:
        data = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise TransportError(f"the result is not valid JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("values"), dict):
        raise TransportError("the result has no values")
    budget = [MAX_NODES]
    values = {str(k): _decode(v, folder, budget) for k, v in data["values"].items()}
    failure = data.get("failure")
    if failure is not None:
        try:
            failure = Failure(
                op=int(failure["op"]),
                type=str(failure["type"])[:100],
                message=str(failure["message"])[:500],
                trace=str(failure["trace"])[:4000],
            )
        except (KeyError, TypeError, ValueError):
            raise TransportError("malformed failure record") from None
    return Outcome(values=values, failure=failure, status="error" if failure else "ok")
