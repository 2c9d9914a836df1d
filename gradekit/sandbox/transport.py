"""What crosses the trust boundary: JSON and ``.npy`` records, read strictly by the parent.

Each side writes one JSON file and one file of ``.npy`` records one after the other (one
file, not one per array: the round trip of a check costs two files). Never pickle: the
parent reads only the files it names, checks each record's header (a real numeric dtype,
a bounded size) before reading its data, and rebuilds plain values. A malformed result
is the failure of that check only.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from .plan import Failure, Outcome, Unsupported

RESULT = "result.json"
VALUES = "values.npy"
MAX_JSON_BYTES = 4 << 20
MAX_ARRAY_BYTES = 256 << 20
MAX_NODES = 10_000


class TransportError(Exception):
    """A result that breaks the format: reported as the failure of the check."""


ARRAYS = "arrays.npy"


def _write_records(path: Path, arrays: list[np.ndarray]) -> None:
    with path.open("wb") as f:
        for array in arrays:
            np.lib.format.write_array(f, np.ascontiguousarray(array), allow_pickle=False)


def write_plan(folder: Path, ops: list[dict[str, Any]], arrays: dict[str, np.ndarray]) -> None:
    """Write a plan for the worker: ``plan.json`` and its input arrays as ``.npy`` records."""
    folder.mkdir(parents=True, exist_ok=True)
    names = sorted(arrays)
    _write_records(folder / ARRAYS, [arrays[k] for k in names])
    (folder / "plan.json").write_text(json.dumps({"ops": ops, "arrays": names}))


def read_plan(folder: Path) -> tuple[list[dict[str, Any]], dict[str, np.ndarray]]:
    """The worker's side of ``write_plan``."""
    data = json.loads((folder / "plan.json").read_text())
    with (folder / ARRAYS).open("rb") as f:
        arrays = {k: np.lib.format.read_array(f, allow_pickle=False) for k in data["arrays"]}
    return data["ops"], arrays


def _encode(value: Any, arrays: list[np.ndarray]) -> Any:
    if isinstance(value, np.ndarray):
        arrays.append(value)
        return {"t": "array", "index": len(arrays) - 1}
    if isinstance(value, Unsupported):
        return {"t": "unsupported", "v": value.type_name}
    if isinstance(value, dict):
        return {"t": "dict", "v": {k: _encode(v, arrays) for k, v in value.items()}}
    if isinstance(value, list):
        return {"t": "list", "v": [_encode(v, arrays) for v in value]}
    if value is None or isinstance(value, bool | int | float):
        return {"t": "scalar", "v": value}
    return {"t": "unsupported", "v": type(value).__name__}


def write_outcome(folder: Path, outcome: Outcome) -> None:
    """The worker's answer: every saved value, arrays as ``.npy`` records, the rest as JSON."""
    arrays: list[np.ndarray] = []
    values = {k: _encode(v, arrays) for k, v in outcome.values.items()}
    failure = vars(outcome.failure) if outcome.failure else None
    _write_records(folder / VALUES, arrays)
    (folder / RESULT).write_text(
        json.dumps({"values": values, "arrays": len(arrays), "failure": failure})
    )


def _read_records(f: BinaryIO, count: int) -> list[np.ndarray]:
    """``count`` arrays from a file of ``.npy`` records, each header checked before its data."""
    arrays = []
    for _ in range(count):
        try:
            version = np.lib.format.read_magic(f)
        except ValueError:
            raise TransportError("a result array is not in the .npy format") from None
        read_header = {
            (1, 0): np.lib.format.read_array_header_1_0,
            (2, 0): np.lib.format.read_array_header_2_0,
        }.get(version)
        if read_header is None:
            raise TransportError(f"unsupported .npy version {version}")
        try:
            shape, fortran, dtype = read_header(f)  # the header only: no data read yet
        except ValueError as exc:
            raise TransportError(f"a bad .npy header: {exc}") from None
        if dtype.kind not in "biuf" or dtype.hasobject or dtype.itemsize > 8:
            raise TransportError(f"array of dtype {dtype} is not a plain numeric array")
        size = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        data = f.read(size)
        if len(data) != size:
            raise TransportError("a result array is truncated")
        order = "F" if fortran else "C"
        arrays.append(np.frombuffer(data, dtype=dtype).reshape(shape, order=order).copy())
    return arrays


def _decode(node: Any, arrays: list[np.ndarray], budget: list[int]) -> Any:
    budget[0] -= 1
    if budget[0] < 0:
        raise TransportError("result has too many values")
    if not isinstance(node, dict) or "t" not in node:
        raise TransportError("malformed value")
    tag, v = node["t"], node.get("v")
    if tag == "array":
        index = node.get("index")
        if type(index) is not int or not 0 <= index < len(arrays):
            raise TransportError(f"bad array index {index!r:.20}")
        return arrays[index]
    if tag == "scalar" and (v is None or type(v) in (bool, int, float)):
        return v
    if tag == "unsupported" and isinstance(v, str):
        return Unsupported(v[:80])
    if tag == "dict" and isinstance(v, dict):
        return {str(k): _decode(x, arrays, budget) for k, x in v.items()}
    if tag == "list" and isinstance(v, list):
        return [_decode(x, arrays, budget) for x in v]
    raise TransportError(f"malformed value of tag {tag!r:.20}")


def read_outcome(folder: Path) -> Outcome:
    """The parent's side: rebuild an Outcome, or raise TransportError if it is malformed.

    The folder is the worker's: every file is opened without following links and must be
    a regular file, so a link planted there cannot make the parent read another file.
    """
    try:
        folder_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        raise TransportError("the worker wrote no result folder") from None
    try:
        return _read_outcome(folder_fd)
    finally:
        os.close(folder_fd)


def _open_plain(folder_fd: int, name: str, limit: int) -> BinaryIO:
    """Open a regular file of the worker's folder: never a link, a fifo or a device."""
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=folder_fd)
    except OSError:
        raise TransportError(f"the worker wrote no {name} (or a link in its place)") from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or st.st_size > limit:
        os.close(fd)
        raise TransportError(f"{name} is not a plain file of an allowed size")
    return os.fdopen(fd, "rb")


def _read_outcome(folder_fd: int) -> Outcome:
    with _open_plain(folder_fd, RESULT, MAX_JSON_BYTES) as f:
        raw = f.read(MAX_JSON_BYTES + 1)
    try:
        data = json.loads(raw.decode())
    except (ValueError, UnicodeDecodeError) as exc:
        raise TransportError(f"the result is not valid JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("values"), dict):
        raise TransportError("the result has no values")
    count = data.get("arrays")
    if type(count) is not int or not 0 <= count <= MAX_NODES:
        raise TransportError("the result has a bad array count")
    with _open_plain(folder_fd, VALUES, MAX_ARRAY_BYTES) as f:
        arrays = _read_records(f, count)
    budget = [MAX_NODES]
    values = {str(k): _decode(v, arrays, budget) for k, v in data["values"].items()}
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
