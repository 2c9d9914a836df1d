"""What crosses the trust boundary: JSON and ``.npy`` records, read strictly by the parent.

Each side writes one JSON file and one file of ``.npy`` records one after the other (one
file, not one per array: the round trip of a check costs two files). Never pickle: the
parent reads only the files it names, checks each record's header (a real numeric dtype,
a bounded size) before reading its data, and rebuilds plain values. A malformed result
is the failure of that check only.
"""

from __future__ import annotations

import json
import math
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from .plan import Failure, Outcome, Unsupported

RESULT = "result.json"
VALUES = "values.npy"
MAX_JSON_BYTES = 4 << 20
MAX_ARRAY_BYTES = 256 << 20
MAX_NODES = 10_000
MAX_DEPTH = 32
"""How deeply values may nest in a result (a worker's ``plain`` stops at 7 levels)."""
MAX_DIMS = 32
MAX_INT = 1 << 63
"""Integers in a result lie in [-MAX_INT, MAX_INT): a worker's come from 64-bit arrays."""


class TransportError(Exception):
    """A result that breaks the format: reported as the failure of the check."""


def one_line(exc: BaseException) -> str:
    """An exception as one short line, its type and message: never a traceback."""
    try:
        text = " ".join(str(exc)[:400].split())[:200]
    except Exception:  # an exception whose message cannot be shown still has a type
        text = ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


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
    return [_read_record(f) for _ in range(count)]


def _read_header(f: BinaryIO) -> tuple[Any, bool, np.dtype]:
    """One record's header (shape, Fortran order, dtype), parsed by numpy: no data read."""
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
        return read_header(f)
    except Exception as exc:  # numpy's parser on hostile text: any failure is a bad header
        raise TransportError(f"a bad .npy header: {one_line(exc)}") from None


def _record_size(shape: Any, dtype: np.dtype) -> int:
    """The bytes of a record's data, computed exactly from a checked shape: a shape whose
    product overflows, wraps to zero or is negative never reaches numpy."""
    if dtype.kind not in "biuf" or dtype.hasobject or dtype.itemsize > 8:
        raise TransportError(f"array of dtype {dtype} is not a plain numeric array")
    if type(shape) is not tuple or len(shape) > MAX_DIMS:
        raise TransportError(f"a bad array shape {shape!r:.60}")
    if not all(type(n) is int and n >= 0 for n in shape):
        raise TransportError(f"a bad array shape {shape!r:.60}")
    # Python ints: exact, never wrapping; empty dimensions do not excuse huge others
    if math.prod(max(n, 1) for n in shape) * dtype.itemsize > MAX_ARRAY_BYTES:
        raise TransportError(f"a result array of shape {shape!r:.60} is too large")
    return math.prod(shape) * dtype.itemsize


def _read_record(f: BinaryIO) -> np.ndarray:
    """One ``.npy`` record: its header validated, then exactly its data."""
    shape, fortran, dtype = _read_header(f)
    size = _record_size(shape, dtype)
    data = f.read(size)
    if len(data) != size:
        raise TransportError("a result array is truncated")
    order = "F" if fortran is True else "C"
    return np.frombuffer(data, dtype=dtype).reshape(shape, order=order).copy()


def _scalar(v: Any) -> bool:
    """Whether ``v`` is a plain scalar a worker can send: None, a bool, a 64-bit int or a float."""
    if type(v) is int:
        return -MAX_INT <= v < MAX_INT
    return v is None or type(v) in (bool, float)


def _decode(node: Any, arrays: list[np.ndarray], budget: list[int], depth: int = 0) -> Any:
    budget[0] -= 1
    if budget[0] < 0:
        raise TransportError("result has too many values")
    if depth > MAX_DEPTH:
        raise TransportError(f"result values nest deeper than {MAX_DEPTH} levels")
    if not isinstance(node, dict) or "t" not in node:
        raise TransportError("malformed value")
    tag, v = node["t"], node.get("v")
    if tag == "array":
        index = node.get("index")
        if type(index) is not int or not 0 <= index < len(arrays):
            raise TransportError(f"bad array index {index!r:.20}")
        return arrays[index]
    if tag == "scalar" and _scalar(v):
        return v
    if tag == "unsupported" and isinstance(v, str):
        return Unsupported(v[:80])
    if tag == "dict" and isinstance(v, dict):
        return {str(k): _decode(x, arrays, budget, depth + 1) for k, x in v.items()}
    if tag == "list" and isinstance(v, list):
        return [_decode(x, arrays, budget, depth + 1) for x in v]
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
        with _open_plain(folder_fd, RESULT, MAX_JSON_BYTES) as f:
            raw = f.read(MAX_JSON_BYTES + 1)
        return decode_outcome(raw, lambda: _open_plain(folder_fd, VALUES, MAX_ARRAY_BYTES))
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


def decode_outcome(raw: bytes, records: Callable[[], BinaryIO]) -> Outcome:
    """An Outcome from a result's JSON and its ``.npy`` records (``records`` opens them,
    once the JSON is valid), or a TransportError. Any other exception while decoding (a
    case the checks here miss) is a TransportError too: a hostile answer costs its check,
    never the grader."""
    try:
        return _decode_outcome(raw, records)
    except TransportError:
        raise
    except Exception as exc:
        raise TransportError(f"a malformed result ({one_line(exc)})") from None


def _decode_outcome(raw: bytes, records: Callable[[], BinaryIO]) -> Outcome:
    try:
        data = json.loads(raw.decode())
    except (ValueError, RecursionError) as exc:  # a deeply nested document is garbage too
        raise TransportError(f"the result is not valid JSON: {one_line(exc)}") from None
    if not isinstance(data, dict) or not isinstance(data.get("values"), dict):
        raise TransportError("the result has no values")
    count = data.get("arrays")
    if type(count) is not int or not 0 <= count <= MAX_NODES:
        raise TransportError("the result has a bad array count")
    with records() as f:
        arrays = _read_records(f, count)
    budget = [MAX_NODES]
    values = {str(k): _decode(v, arrays, budget) for k, v in data["values"].items()}
    failure = _failure(data.get("failure"))
    return Outcome(values=values, failure=failure, status="error" if failure else "ok")


def _failure(record: Any) -> Failure | None:
    """The worker's record of the exception that stopped a plan: exact types only."""
    if record is None:
        return None
    fields = ("op", "type", "message", "trace")
    if not isinstance(record, dict) or set(record) != set(fields):
        raise TransportError("malformed failure record")
    op, kind, message, trace = (record[k] for k in fields)
    if type(op) is not int or not all(type(x) is str for x in (kind, message, trace)):
        raise TransportError("malformed failure record")
    return Failure(op=op, type=kind[:100], message=message[:500], trace=trace[:4000])
