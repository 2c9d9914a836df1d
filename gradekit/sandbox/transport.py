"""What crosses the trust boundary: JSON and ``.npy`` records, read strictly by the parent.

The parent writes a class's plans once into one file (``write_book``). The worker answers
each plan on its pipe with a fixed frame (``FRAME``: the task and two sizes), then two
buffers (``encode_outcome``): a JSON document of the saved values and the ``.npy``
records of their arrays, one after the other. Never pickle: the parent matches each
record's header against the one text numpy writes for a plain numeric array, checks its
size before reading its data, and rebuilds plain values. A malformed result is the
failure of that check only.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from .plan import Failure, Outcome, Unsupported

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


def _record(array: np.ndarray) -> tuple[bytes, memoryview]:
    """One array as a ``.npy`` (1.0) record: its header, the very text numpy writes, and
    its data, not copied."""
    if not array.flags.c_contiguous:  # (ascontiguousarray would make a 0-d array 1-d)
        array = array.copy(order="C")
    header = _header_of(array.dtype.str, array.shape)
    return header, memoryview(array).cast("B") if array.size else memoryview(b"")


@functools.lru_cache(maxsize=1024)
def _header_of(descr: str, shape: tuple[int, ...]) -> bytes:
    """The ``.npy`` header of a C-ordered array: made once per dtype and shape."""
    text = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape!r}, }}"
    text += " " * (-(len(text) + 11) % 64) + "\n"  # the whole header a multiple of 64 bytes
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text.encode()


def record_parts(arrays: list[np.ndarray]) -> list[bytes | memoryview]:
    """Arrays as ``.npy`` records one after the other, as pieces to write in turn."""
    return [part for array in arrays for part in _record(array)]


def _records(arrays: list[np.ndarray]) -> bytes:
    """Arrays as ``.npy`` records one after the other: one buffer, parsed in one pass."""
    return b"".join(record_parts(arrays))


Book = list[tuple[list[dict[str, Any]], dict[str, np.ndarray]]]
"""Plans as a worker holds them: each plan's ops and input arrays by name."""


def encode_book(plans: Book) -> bytes:
    """Plans as one buffer: a JSON line (each plan's ops and array names), then every
    plan's input arrays as ``.npy`` records."""
    names = [sorted(arrays) for _, arrays in plans]
    index = [{"ops": ops, "arrays": n} for (ops, _), n in zip(plans, names, strict=True)]
    records = _records([arrays[k] for (_, arrays), n in zip(plans, names, strict=True) for k in n])
    return json.dumps(index).encode() + b"\n" + records


def decode_book(data: bytes | bytearray) -> Book:
    """The worker's side of ``encode_book`` (the parent's data), read by the same strict
    reader as an answer: numpy's own parses each header as a Python literal, ten times
    slower. The arrays are views of ``data``; a plan's run copies each one it passes."""
    end = data.index(b"\n") + 1
    index = json.loads(data[:end])
    f = BufferReader(memoryview(data)[end:])
    return [(plan["ops"], {k: _read_record(f) for k in plan["arrays"]}) for plan in index]


def write_book(path: Path, plans: Book) -> None:
    """Write plans to a new file (a class's, once; or a large plan of a session's own),
    never through a link planted where it goes (a worker's, under rlimits)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(encode_book(plans))


def read_book(path: Path) -> Book:
    """The worker's side of ``write_book``."""
    with path.open("rb") as f:
        data = bytearray(os.fstat(f.fileno()).st_size)
        f.readinto(data)
    return decode_book(data)


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


def outcome_parts(outcome: Outcome) -> tuple[bytes, list[bytes | memoryview]]:
    """The worker's answer: JSON of every saved value (arrays by index), and the arrays'
    ``.npy`` records as pieces, their data not copied."""
    arrays: list[np.ndarray] = []
    values = {k: _encode(v, arrays) for k, v in outcome.values.items()}
    failure = vars(outcome.failure) if outcome.failure else None
    document = json.dumps({"values": values, "arrays": len(arrays), "failure": failure})
    return document.encode(), record_parts(arrays)


def encode_outcome(outcome: Outcome) -> tuple[bytes, bytes]:
    """The worker's answer as two buffers: the JSON document and the records."""
    document, parts = outcome_parts(outcome)
    return document, b"".join(parts)


class BufferReader:
    """A file's ``read`` over a buffer, returning views, not copies: the records of an
    answer read straight from the bytes the parent received."""

    def __init__(self, buffer: memoryview) -> None:
        self._buffer = buffer
        self._at = 0

    def read(self, size: int) -> memoryview:
        """The next ``size`` bytes (fewer at the end)."""
        view = self._buffer[self._at : self._at + size]
        self._at += len(view)
        return view

    def __enter__(self) -> BufferReader:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def _read_records(f: BinaryIO | BufferReader, count: int) -> list[np.ndarray]:
    """``count`` arrays from a file of ``.npy`` records, each header checked before its data."""
    return [_read_record(f) for _ in range(count)]


_HEADER = re.compile(
    rb"\{'descr': '([<>|][biuf][1248])', 'fortran_order': (False|True), "
    rb"'shape': \((|\d+,|\d+(?:, \d+)+)\), \} *\n"
)
"""The one header text numpy writes for a plain numeric array, matched whole: anything
else is refused, and no parser of Python literals runs on a worker's bytes."""
MAX_HEADER = 10_000


Header = tuple[tuple[int, ...], bool, np.dtype, int]
"""A record's shape, Fortran order, dtype, and the bytes of its data."""


def _read_header(f: BinaryIO | BufferReader) -> Header:
    """One record's header, read strictly: no data read."""
    start = bytes(f.read(10))
    if len(start) < 10 or start[:6] != b"\x93NUMPY":
        raise TransportError("a result array is not in the .npy format")
    version = (start[6], start[7])
    if version == (1, 0):
        length = int.from_bytes(start[8:10], "little")
    elif version == (2, 0):
        more = f.read(2)
        length = int.from_bytes(start[8:10] + bytes(more), "little") if len(more) == 2 else -1
    else:
        raise TransportError(f"unsupported .npy version {version}")
    if not 0 < length <= MAX_HEADER:
        raise TransportError("a bad .npy header: its length")
    return _parse_header(bytes(f.read(length)))


@functools.lru_cache(maxsize=1024)
def _parse_header(text: bytes) -> Header:
    """A header's text, matched whole; kept once read (headers repeat from one check to
    the next, and reading one costs more than copying a small array's data). A text that
    is refused raises each time: only what was accepted is kept."""
    found = _HEADER.fullmatch(text)
    if found is None:
        raise TransportError("a bad .npy header: not a plain numeric array's")
    descr, fortran, dims = found.groups()
    shape = tuple(int(n) for n in dims.replace(b",", b" ").split())
    try:
        dtype = np.dtype(descr.decode())
    except TypeError:  # a width the kind does not have, such as b2 or f1
        raise TransportError(f"a bad .npy header: dtype {descr!r}") from None
    return shape, fortran == b"True", dtype, _record_size(shape, dtype)


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


def _read_record(f: BinaryIO | BufferReader) -> np.ndarray:
    """One ``.npy`` record: its header validated, then exactly its data."""
    shape, fortran, dtype, size = _read_header(f)
    data = f.read(size)
    if len(data) != size:
        raise TransportError("a result array is truncated")
    array = np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran else "C")
    return array if array.flags.writeable else array.copy()  # a view of a private buffer


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


def decode_outcome(raw: bytes, records: Callable[[], BinaryIO | BufferReader]) -> Outcome:
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


def _decode_outcome(raw: bytes, records: Callable[[], BinaryIO | BufferReader]) -> Outcome:
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


FRAME = struct.Struct("<4sQIQ")
"""An answer's first bytes: ``MARK``, the number of the task it answers, and the sizes of
its JSON and of its records. Fixed, so that neither side parses text to find them."""
MARK = b"GKa1"


def answer_frame(task: int, document: bytes, records: int) -> bytes:
    """The frame of the answer to task ``task`` (the worker's side of ``answer_sizes``)."""
    return FRAME.pack(MARK, task, len(document), records)


def answer_sizes(frame: bytes | bytearray, task: int, limit: int) -> tuple[int, int] | str | None:
    """The sizes of an answer's two buffers from its frame: None if the frame is not one
    of an answer to task ``task`` (the worker died or lied), a reason if they are too large."""
    if len(frame) != FRAME.size:
        return None
    mark, number, json_bytes, record_bytes = FRAME.unpack(frame)
    if mark != MARK or number != task:
        return None
    if json_bytes > MAX_JSON_BYTES or record_bytes > limit:
        return f"the answer's {json_bytes + record_bytes} bytes are more than allowed"
    return json_bytes, record_bytes


def decode_answer(body: bytearray, json_bytes: int) -> Outcome:
    """An answer's body as received: its JSON, then records read where they lie."""
    view = memoryview(body)
    return decode_outcome(bytes(view[:json_bytes]), lambda: BufferReader(view[json_bytes:]))


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
