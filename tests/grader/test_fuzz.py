"""Random and adversarial answers through the parent's reading and judging: nothing raises.

A worker's ``.npy`` records and result JSON are decoded by the transport (an Outcome or a
TransportError, never anything else), its control-pipe lines by ``_read_message``, and
outcomes of random values under the keys each plan saves are judged by
``Grader.verdict`` for every check of every bundled assignment (a CheckResult with a
finite score within its points, never an exception, and never the barrier's "could not
judge": every judge reads a hostile value itself and says what is wrong with it); for
every check that draws a picture, such an answer's figure is drawn into a page.
Hypothesis draws the few decisions of each example (what to spoil, where, how) and a seed
for the contents; its runs are derandomized, so CI sees the same examples on every
machine.
"""

from __future__ import annotations

import io
import json
import math
import os
import random
import time
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gradekit.assignments import load_assignment
from gradekit.checks import CheckKind, check_kinds
from gradekit.grading import Grader, PreparedCheck
from gradekit.report.html import submission_page
from gradekit.results import CheckResult
from gradekit.sandbox.plan import Failure, Outcome, Unsupported
from gradekit.sandbox.process import Worker
from gradekit.sandbox.runner import LocalSession
from gradekit.sandbox.transport import (
    FRAME,
    MAX_ARRAY_BYTES,
    MAX_DEPTH,
    MAX_INT,
    TransportError,
    answer_frame,
    answer_sizes,
    decode_outcome,
)

from .conftest import BUNDLED, grader

FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=list(HealthCheck),
)
"""Reproducible runs: the same examples on every machine, no time limit per example."""


def fuzz(examples: int) -> settings:
    """``FUZZ`` with this many examples."""
    return settings(FUZZ, max_examples=examples)


# ------------------------------------------------------------------- .npy records
DESCRS = [
    "<f8", ">f8", "<f4", "<f2", "|b1", "<i8", ">i4", "|u1", "|i1", "<u8", "<c16", "|O",
    "<U3", "|S0", "|V8", "<M8[s]", "<f16", "f8", "float64", "<i0", "", "<f8 ", "(2,)<f8",
    "\x00", "x" * 40, [("a", "<f8")], [("a", "<f8", (2,))], [("", "|V8")], [("a", "|O")],
    [(1, None)], [("a",)], ("<f8", (2,)), ("<f8", (2**40,)), ("<f8", (-1,)), 5, None, [],
    [("a", "<f8"), ("a", "<f8")], [(("t", "a"), "<f8")],
]  # fmt: skip
DIMENSIONS = [
    0, 1, 2, 3, 5, 2**31, 2**32, 2**62, 2**63 - 1, 2**63, 2**64, 2**64 + 1, 10**30,
    -(2**63), -1, -(2**64), 1.5, float("nan"), float("inf"), True, False, None, "2", (1,),
]  # fmt: skip
PLAIN = ["<f8", ">f8", "<f4", "<f2", "|b1", "<i8", ">i4", "|u1", "|i1", "<u8"]
"""The dtypes a result may use, so that most records reach the checks of their shape."""
INT_DIMENSIONS = [d for d in DIMENSIONS if type(d) in (int, bool)]
ODD_SHAPES = [None, 7, [2, 3], (0,) * 40, (1,) * 70, (2**20,) * 3, (0, 2**63), "(2,)", {}]
FORTRAN = [False] * 8 + [True] * 8 + [0, 1, None, "F", 2.0]
JUNK_HEADERS = ["(" * 300 + ")" * 300, "[" * 5000, "{", "None", "{'a': 1}", "1 +", "\udcff"]
VERSIONS = [(1, 0)] * 20 + [(2, 0)] * 6 + [(3, 0), (0, 0), (1, 1)]
FLAWS = 20
"""Header flaws 0-4 (a key missing, one too many, junk text, a wrong length, random
bytes); the rest leave the outline intact and only its values odd."""


def npy_shape(rng: random.Random) -> Any:
    """A record's shape: small, huge, negative, of the wrong types, or not a tuple."""
    kind = rng.choice([0, 0, 0, 1, 1, 2, 3])
    if kind == 0:  # integers only: numpy accepts it, the transport must judge it
        return tuple(rng.choice(INT_DIMENSIONS) for _ in range(rng.randrange(1, 5)))
    if kind == 1:
        return tuple(rng.randrange(7) for _ in range(rng.randrange(5)))
    if kind == 2:
        return tuple(rng.choice(DIMENSIONS) for _ in range(rng.randrange(6)))
    return rng.choice(ODD_SHAPES)


def npy_record(rng: random.Random, flaw: int) -> bytes:
    """A ``.npy`` record: a plausible or broken header, then some bytes of data."""
    descr = rng.choice(PLAIN) if rng.random() < 0.6 else rng.choice(DESCRS)
    fields = {"descr": descr, "fortran_order": rng.choice(FORTRAN)}
    fields["shape"] = npy_shape(rng)
    if flaw == 0:
        del fields["descr"]
    elif flaw == 1:
        fields["extra"] = 1
    text = "{" + "".join(f"{k!r}: {v!r}, " for k, v in fields.items()) + "}"
    if flaw == 2:
        text = rng.choice(JUNK_HEADERS)
    version = rng.choice(VERSIONS)
    body = (text + " " * (-(len(text) + 12) % 64) + "\n").encode("utf8", "replace")
    width = 2 if version[0] == 1 else 4
    length = len(body) if flaw != 3 else rng.randrange(2 ** (8 * width))
    header = b"\x93NUMPY" + bytes(version) + length.to_bytes(width, "little") + body
    if flaw == 4:
        header = rng.randbytes(rng.randrange(40))
    return header + b"\x01" * rng.choice([0, 1, 7, 8, 16, 24, 48, 64, 200])


def decode(result: bytes, records: bytes) -> Outcome | None:
    """The transport's decoding of these bytes: the Outcome, or None for a TransportError."""
    try:
        return decode_outcome(result, lambda: io.BytesIO(records))
    except TransportError as exc:
        assert str(exc)
        return None


def assert_plain(value: Any, depth: int = 0) -> None:
    """A value the parent may judge: exact ndarrays of real dtypes, 64-bit numbers, and
    dicts and lists of them, nested no deeper than the transport allows."""
    assert depth <= MAX_DEPTH + 1
    if isinstance(value, np.ndarray):
        assert type(value) is np.ndarray and value.dtype.kind in "biuf"
        assert value.dtype.itemsize <= 8 and value.nbytes <= MAX_ARRAY_BYTES
    elif type(value) is int:
        assert -MAX_INT <= value < MAX_INT
    elif isinstance(value, dict):
        for k, v in value.items():
            assert type(k) is str
            assert_plain(v, depth + 1)
    elif isinstance(value, list):
        for v in value:
            assert_plain(v, depth + 1)
    else:
        assert value is None or type(value) in (bool, float, Unsupported)


def assert_outcome(outcome: Outcome | None) -> None:
    """Nothing, or an outcome of plain values and a well-typed failure."""
    if outcome is None:
        return
    assert_plain(outcome.values)
    f = outcome.failure
    assert f is None or (type(f.op) is int and all(type(x) is str for x in (f.type, f.message)))


def array_result(count: int) -> bytes:
    """A result naming ``count`` arrays, one value each."""
    values = {f"v{i}": {"t": "array", "index": i} for i in range(count)}
    return json.dumps({"values": values, "arrays": count, "failure": None}).encode()


seeds = st.integers(0, 2**32 - 1)


@fuzz(8000)
@given(seed=seeds, flaw=st.integers(0, FLAWS - 1), count=st.integers(0, 3))
def test_npy_records_are_read_or_refused(seed, flaw, count):
    rng = random.Random(seed)
    records = b"".join(npy_record(rng, flaw) for _ in range(rng.randrange(1, 3)))
    assert_outcome(decode(array_result(count), records))


# ------------------------------------------------------------------- result JSON
NUMBERS = [
    "0", "-0", "1e400", "-1e400", "1e-400", "NaN", "Infinity", "-Infinity", "9" * 4300,
    "9" * 4301, "-" + "9" * 30, str(2**63), str(-(2**63)), str(2**63 - 1), "1.5", "true",
    "2", "-1", "3.0", "null", "false", '""', '"x"', '"\\ud800"', "[]", "{}", "1e308",
]  # fmt: skip
TAGS = ["array", "scalar", "dict", "list", "unsupported", "pickle", "", "t"]
KEYS = ["t", "v", "index", "x", "", "op", "type", "message", "trace"]
WRAPPERS = [
    ("[", "]"),
    ('{"a": ', "}"),
    ('{"t": "list", "v": [', "]}"),
    ('{"t": "dict", "v": {"k": ', "}}"),
]
DEPTHS = [0, 1, 2, 5, 30, 31, 32, 33, 34, 100, 300, 999, 1000, 5000]


def json_leaf(rng: random.Random) -> str:
    """A number, a literal or a short string, as JSON text (some not valid JSON)."""
    return rng.choice(NUMBERS) if rng.random() < 0.8 else str(rng.randint(-(2**70), 2**70))


def json_value(rng: random.Random, budget: int = 8) -> str:
    """JSON text of lists, objects with the keys values use, and value nodes of any tag."""
    kind = rng.randrange(5) if budget > 0 else 0
    if kind == 0:
        return json_leaf(rng)
    items = [json_value(rng, budget // 2 - 1) for _ in range(rng.randrange(4))]
    if kind == 1:
        return "[" + ", ".join(items) + "]"
    if kind == 2:
        pairs = (f"{json.dumps(rng.choice(KEYS))}: {v}" for v in items)
        return "{" + ", ".join(pairs) + "}"
    if kind == 3:
        inner = items[0] if items else json_leaf(rng)
        return f'{{"t": {json.dumps(rng.choice(TAGS))}, "v": {inner}, "index": {inner}}}'
    opening, closing = rng.choice(WRAPPERS)
    depth = rng.choice(DEPTHS)
    return opening * depth + json_leaf(rng) + closing * depth


def value_node(rng: random.Random, budget: int = 6) -> str:
    """A value node of the transport's outline (sometimes nested thousands of times)
    holding odd contents: numbers of any size, bad indexes, odd tags and keys."""
    kind = rng.randrange(7) if budget > 0 else rng.randrange(3)
    if kind == 0:
        return f'{{"t": "scalar", "v": {json_leaf(rng)}}}'
    if kind == 1:
        return f'{{"t": "array", "index": {rng.choice(["0", "1", "-1", *NUMBERS])}}}'
    if kind == 2:
        return f'{{"t": "unsupported", "v": {json_leaf(rng)}}}'
    if kind == 3:
        items = ", ".join(value_node(rng, budget // 2 - 1) for _ in range(rng.randrange(4)))
        return f'{{"t": "list", "v": [{items}]}}'
    if kind == 4:
        pairs = (
            f"{json.dumps(rng.choice(KEYS))}: {value_node(rng, budget // 2 - 1)}"
            for _ in range(rng.randrange(4))
        )
        return '{"t": "dict", "v": {' + ", ".join(pairs) + "}}"
    if kind == 5:
        return json_value(rng, budget)
    opening, closing = rng.choice(WRAPPERS[2:])
    depth = rng.choice(DEPTHS)
    return opening * depth + value_node(rng, 0) + closing * depth


def failure_text(rng: random.Random) -> str:
    """A failure record: none, a malformed one, or one with odd fields."""
    kind = rng.randrange(3)
    if kind == 0:
        return "null"
    if kind == 1:
        return json_value(rng)
    op, type_ = rng.choice(["0", "3", *NUMBERS]), rng.choice(['"ValueError"', *NUMBERS])
    return f'{{"op": {op}, "type": {type_}, "message": "m", "trace": ""}}'


def result_document(rng: random.Random, outline: int) -> bytes:
    """A result.json: mostly of the right outline with odd contents, sometimes not JSON."""
    if outline == 0:
        return rng.randbytes(rng.randrange(60))
    if outline == 1:
        return json_value(rng).encode("utf8", "surrogatepass")
    if rng.random() < 0.2:
        values = json_value(rng)
    else:
        pairs = (f"{json.dumps(rng.choice(KEYS))}: {value_node(rng)}" for _ in range(3))
        values = "{" + ", ".join(pairs) + "}"
    count = rng.choice(["0", "1", "1", "2"] * 8 + NUMBERS)
    text = f'{{"values": {values}, "arrays": {count}, "failure": {failure_text(rng)}}}'
    return text.encode("utf8", "surrogatepass")


def _records(*arrays: np.ndarray) -> bytes:
    """Honest ``.npy`` records of ``arrays``."""
    f = io.BytesIO()
    for a in arrays:
        np.lib.format.write_array(f, a, allow_pickle=False)
    return f.getvalue()


RECORDS = [b"", _records(np.arange(3.0)), _records(np.zeros((2, 2)), np.array([1, 2, 3]))]


@fuzz(8000)
@given(seed=seeds, outline=st.integers(0, 9), records=st.sampled_from(RECORDS))
def test_result_documents_are_read_or_refused(seed, outline, records):
    assert_outcome(decode(result_document(random.Random(seed), outline), records))


@fuzz(2000)
@given(seed=seeds, outline=st.integers(0, 10), flaw=st.integers(0, FLAWS - 1))
def test_answers_with_odd_records_are_read_or_refused(seed, outline, flaw):
    """A worker's whole answer: a result document and a record of any header flaw."""
    rng = random.Random(seed)
    document = result_document(rng, outline) if outline < 10 else array_result(1)
    records = npy_record(rng, flaw) if rng.random() < 0.5 else RECORDS[1]
    assert_outcome(decode(document, records))


# -------------------------------------------------------------- control-pipe lines
def control_line(rng: random.Random, kind: int) -> bytes:
    """One line of the control pipe: a deep nest, JSON of any shape, or random bytes."""
    if kind == 0:
        line = rng.choice(["[", '{"a": [']) * rng.choice([10, 999, 1000, 5000, 29_000])
    elif kind == 1:
        line = json_value(rng)
    else:
        line = rng.randbytes(rng.randrange(50)).decode("latin1")
    return line.encode("utf8", "replace").replace(b"\n", b" ")[:60_000] + b"\n"


@fuzz(800)
@given(seed=seeds, kind=st.integers(0, 2))
def test_control_lines_are_read_or_dropped(seed, kind):
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, control_line(random.Random(seed), kind))
        worker = Worker(-1, read_end, None, None)  # type: ignore[arg-type]
        message = worker.read_message(time.monotonic() + 1.0)
    finally:
        os.close(read_end)
        os.close(write_end)
    assert message is None or message == "timeout" or json.dumps(message)


@fuzz(300)
@given(seed=seeds, cut=st.integers(0, FRAME.size + 40))
def test_answer_frames_are_read_or_refused(seed, cut):
    """Whatever bytes arrive where an answer's frame is due, and however few: sizes within
    the limits, a reason, None, or "timeout"; never an exception."""
    rng = random.Random(seed)
    honest = answer_frame(rng.choice([1, 2]), b"x" * rng.randrange(50), rng.randrange(200))
    data = (honest if rng.random() < 0.5 else rng.randbytes(FRAME.size))[:cut] + rng.randbytes(9)
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, data[:cut])
        if rng.random() < 0.5:
            os.close(write_end)
            write_end = -1
        worker = Worker(-1, read_end, None, None)  # type: ignore[arg-type]
        frame = worker.read_exact(FRAME.size, time.monotonic() + 0.01)
    finally:
        os.close(read_end)
        if write_end >= 0:
            os.close(write_end)
    if cut < FRAME.size:
        assert frame in ("timeout", None)
        return
    assert frame == data[: FRAME.size]
    sizes = answer_sizes(frame, 1, 100)
    assert sizes is None or isinstance(sizes, str) or (sizes[0] <= 4 << 20 and sizes[1] <= 100)


# ------------------------------------------------------------- judging outcomes
@cache
def templates(name: str) -> dict[str, Outcome]:
    """Each check's outcome on the reference: the keys a plan saves, with honest values."""
    g = grader(name)
    run = LocalSession(g.factories).run
    return {check.spec.id: run(check.plan) for check in g.checks}


@cache
def dict_keys(name: str) -> tuple[str, ...]:
    """Every key of a dict in the assignment's honest outcomes: what judges look up."""
    found: set[str] = set()
    pending: list[Any] = [o.values for o in templates(name).values()]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            found.update(value)
            pending += value.values()
        elif isinstance(value, list):
            pending += value
    return tuple(sorted(found)) or ("x",)


DTYPES = [np.float64, np.float32, np.float16, np.int64, np.int8, np.uint8, np.bool_]
SPECIAL = [
    None, True, False, 0, 1, -1, 2, 10**18, MAX_INT - 1, -MAX_INT, 0.0, -0.0, 0.5, 1e308,
    -1e308, 5e-324, float("nan"), float("inf"), float("-inf"),
]  # fmt: skip
UNSUPPORTED = ["str", "ndarray of object", "value nested too deep", "function"]


def random_array(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """An array of ``shape``, filled and typed one of a few adversarial ways."""
    fill = int(rng.integers(0, 8))
    values = rng.standard_normal(shape) * [1.0, 0.0, 1e300, 1e-300, 1.0, 1.0, 1.0, 3.0][fill]
    if fill == 4:
        values.flat[: max(1, values.size // 3)] = rng.choice([np.nan, np.inf, -np.inf])
    if fill == 7:
        values = np.round(values)
    dtype = DTYPES[int(rng.integers(0, len(DTYPES)))] if rng.random() < 0.3 else np.float64
    with np.errstate(all="ignore"):
        return values.astype(dtype)


def random_value(rng: np.random.Generator, keys: tuple[str, ...], depth: int = 0) -> Any:
    """Any value a worker could send, nested a little, with dict keys the judges know."""
    kind = int(rng.integers(0, 7 if depth < 3 else 4))
    if kind == 0:
        return SPECIAL[int(rng.integers(0, len(SPECIAL)))]
    if kind == 1:
        return random_array(rng, tuple(int(n) for n in rng.integers(0, 5, rng.integers(0, 4))))
    if kind == 2:
        return Unsupported(UNSUPPORTED[int(rng.integers(0, len(UNSUPPORTED)))])
    if kind == 3:
        return float(rng.standard_normal() * 10.0 ** int(rng.integers(-3, 4)))
    items = [random_value(rng, keys, depth + 1) for _ in range(int(rng.integers(0, 4)))]
    if kind == 4:
        return items
    names = [keys[int(i)] for i in rng.integers(0, len(keys), len(items))]
    return dict(zip(names, items, strict=True)) if kind == 5 else {}


SPOILS = [
    "random", "fill", "noise", "nonfinite", "dtype", "shape", "flat", "transpose", "empty",
    "scalar", "wrap", "drop", "shorter", "inner",
]  # fmt: skip


def spoil(value: Any, way: str, rng: np.random.Generator, keys: tuple[str, ...]) -> Any:
    """``value`` (an honest one, or None) spoilt ``way``; a new object, never a mutation."""
    if isinstance(value, np.ndarray) and value.size and value.ndim:
        if way == "fill":
            return random_array(rng, value.shape)
        if way == "noise":
            scale = [1e-12, 1e-6, 1e-2, 1.0, 1e6][int(rng.integers(0, 5))]
            return value + scale * rng.standard_normal(value.shape)
        if way == "nonfinite":
            spoilt = value.astype(np.float64)
            spoilt.flat[int(rng.integers(0, value.size))] = rng.choice([np.nan, np.inf, -np.inf])
            return spoilt
        if way == "dtype":
            with np.errstate(all="ignore"):
                return value.astype(DTYPES[int(rng.integers(0, len(DTYPES)))])
        if way == "shape":
            return random_array(rng, (*value.shape[:-1], int(rng.integers(0, 3))))
        if way == "flat":
            return value.reshape(-1).copy()
        if way == "transpose":
            return value.T.copy()
        if way == "empty":
            return value[:0].copy()
    if isinstance(value, dict) and value:
        keys_ = sorted(value)
        chosen = keys_[int(rng.integers(0, len(keys_)))]
        out = dict(value)
        if way == "drop":
            del out[chosen]
        else:
            out[chosen] = spoil(value[chosen], SPOILS[int(rng.integers(0, len(SPOILS)))], rng, keys)
        return out
    if isinstance(value, list) and value:
        if way == "shorter":
            return value[: int(rng.integers(0, len(value)))]
        out = list(value)
        i = int(rng.integers(0, len(value)))
        out[i] = spoil(value[i], SPOILS[int(rng.integers(0, len(SPOILS)))], rng, keys)
        return out
    if type(value) in (int, float) and way in ("noise", "scalar", "nonfinite"):
        if way == "noise":
            return value * (1 + float(rng.standard_normal()))
        return SPECIAL[int(rng.integers(0, len(SPECIAL)))]
    if way == "wrap":
        return [value]
    return random_value(rng, keys)


STATUSES = ["ok"] * 12 + ["error", "error", "timeout", "crashed"]
FAILURE_TYPES = ["ValueError", "NotImplementedError", "MemoryError", "RecursionError", "KeyError"]


@st.composite
def outcomes(draw: st.DrawFn, template: Outcome, keys: tuple[str, ...]) -> Outcome:
    """The honest outcome with a few of its values spoilt, dropped or added, sometimes with
    a failure, sometimes a timeout or a crash."""
    status = draw(st.sampled_from(STATUSES))
    if status in ("timeout", "crashed"):
        return Outcome(status=status, detail="fuzz")
    values = dict(template.values)
    names = sorted(values) or ["x"]
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    for _ in range(draw(st.integers(0, 4))):
        key = names[draw(st.integers(0, len(names) - 1))]
        way = draw(st.sampled_from(["missing", "extra", *SPOILS]))
        if way == "missing":
            values.pop(key, None)
        elif way == "extra":
            values[f"{key}?"] = random_value(rng, keys)
        else:
            values[key] = spoil(values.get(key), way, rng, keys)
    failure = None
    if status == "error" and draw(st.booleans()):
        failure = Failure(
            op=draw(st.integers(-1, 40)),
            type=draw(st.sampled_from(FAILURE_TYPES)),
            message="fuzz",
            trace="fuzz",
        )
    return Outcome(values=values, failure=failure, status=status, detail="fuzz")


def assert_verdict(result: CheckResult, check: PreparedCheck) -> None:
    """A verdict the reports can show: a finite score within the check's points."""
    assert isinstance(result, CheckResult)
    assert result.status in ("passed", "failed", "error", "timeout")
    assert math.isfinite(result.score) and 0 <= result.score <= check.spec.points + 1e-9
    assert "Traceback" not in result.message
    assert not result.message.startswith("gradekit could not judge"), result.message
    result.model_dump_json()


def check_ids(name: str) -> list[str]:
    """``assignment:check`` for every check of a bundled assignment."""
    return [f"{name}:{spec.id}" for spec in load_assignment(name).spec.checks]


CHECKS = [i for name in BUNDLED for i in check_ids(name)]
EXAMPLES_PER_CHECK = 20
"""About 3,200 outcomes judged in all, each check's judge and diagnosis a few ms."""
FEWER = {"transforms/cutmix": 5}
"""Components whose check judges an outcome in about 0.1 s: fewer examples."""


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("check_id", CHECKS)
def test_any_outcome_is_judged_without_raising(check_id):
    name, _, spec_id = check_id.partition(":")
    g = grader(name)
    check = next(c for c in g.checks if c.spec.id == spec_id)
    template, keys = templates(name)[spec_id], dict_keys(name)

    @fuzz(FEWER.get(check.spec.component, EXAMPLES_PER_CHECK))
    @given(outcome=outcomes(template, keys))
    def judged(outcome: Outcome) -> None:
        assert_verdict(g.verdict(check, outcome, "fuzz"), check)

    judged()


@cache
def drawing_grader(name: str) -> Grader:
    """A grader that makes each check's figure data, as ``--html`` does."""
    return Grader(load_assignment(name), figures=True)


FIGURE_CHECKS = [
    f"{name}:{spec.id}"
    for name in BUNDLED
    for spec in load_assignment(name).spec.checks
    if type(check_kinds()[spec.type]).figure is not CheckKind.figure
]
"""Checks whose kind draws a picture of the answer (two hostile answers each: drawing a page
costs about 0.2 s)."""


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("check_id", FIGURE_CHECKS)
def test_any_outcome_is_drawn_into_a_page_without_raising(check_id):
    """The figure of a hostile answer is drawn, or left out with a note, and its page is
    written: what the HTML report shows never stops a class."""
    name, _, spec_id = check_id.partition(":")
    g = drawing_grader(name)
    check = next(c for c in g.checks if c.spec.id == spec_id)
    template, keys = templates(name)[spec_id], dict_keys(name)

    @fuzz(2)
    @given(outcome=outcomes(template, keys))
    def drawn(outcome: Outcome) -> None:
        result = g.verdict(check, outcome, "fuzz")
        assert_verdict(result, check)
        page = submission_page(g._result(Path("fuzz.py"), "fuzz", [result], None), name)
        assert page.startswith("<!DOCTYPE html>") and "Traceback" not in page

    drawn()
