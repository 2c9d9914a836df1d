"""One answer never stops a class: each known hostile answer, graded in a batch beside an
honest submission with ``gradekit grade``, costs only its own checks, and each one did
break the grader's old reading or judging (shown on the same bytes below)."""

from __future__ import annotations

import contextlib
import csv
import inspect
import io
import json
import os
import shutil
import struct
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gradekit import cli
from gradekit.assignments import load_assignment
from gradekit.checks.gradient import Gradient
from gradekit.grading import Grader
from gradekit.sandbox import backends, runner, transport
from gradekit.sandbox.cleanup import remove_tree

from .conftest import ROOT

CORRECT = ROOT / "assignments" / "backprop" / "examples" / "correct.py"
RELU = "activations/relu"
DEPTH = 2000
"""Folders deep: past Python's recursion limit, which a recursive removal hits."""


# ------------------------------------------------------- what the submissions write
def npy_header(shape: tuple[int, ...]) -> bytes:
    """A ``.npy`` 1.0 record header claiming float64 data of ``shape``."""
    text = "{'descr': '<f8', 'fortran_order': False, 'shape': " + repr(shape) + ", }"
    body = (text + " " * (-(len(text) + 11) % 64) + "\n").encode("latin1")
    return b"\x93NUMPY\x01\x00" + len(body).to_bytes(2, "little") + body


def array_answer(key: str) -> str:
    """A result whose value ``key`` is the first (and only) array of the records."""
    return json.dumps({"values": {key: {"t": "array", "index": 0}}, "arrays": 1, "failure": None})


def deep_answer(key: str, depth: int = 50_000) -> str:
    """A result whose value ``key`` is a list nested ``depth`` times (1 MB of JSON)."""
    deep = '{"t": "list", "v": [' * depth + "]}" * depth
    return '{"values": {' + json.dumps(key) + ": " + deep + '}, "arrays": 0, "failure": null}'


def infinite_op_answer() -> str:
    """A result whose failure record names the op ``Infinity``, where an int belongs."""
    failure = {"op": float("inf"), "type": "ValueError", "message": "m", "trace": ""}
    return json.dumps({"values": {}, "arrays": 0, "failure": failure})


def frame(task: int, document: str, records: bytes) -> bytes:
    """A worker's answer on its pipe: its frame (the mark, the task, the two sizes), then
    both buffers."""
    data = document.encode()
    return b"GKa1" + struct.pack("<QIQ", task, len(data), len(records)) + data + records


def deep_line() -> bytes:
    """A control-pipe line of 60 kB: a list nested 30000 times."""
    return b"[" * 30_000 + b"]" * 30_000 + b"\n"


def deep_tree(top: str, depth: int) -> None:
    """``top/a/a/.../a``, ``depth`` folders deep, made with one open folder at a time."""
    fd = os.open(top, os.O_RDONLY)
    for _ in range(depth):
        os.mkdir("a", dir_fd=fd)
        below = os.open("a", os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = below
    os.close(fd)


HELPERS = (npy_header, array_answer, deep_answer, infinite_op_answer, frame, deep_line, deep_tree)

ARMED = """
import json
import os
import struct
import sys
from pathlib import Path

ARMED = [False]  # set while one of relu's checks runs


class ReLU(ReLU):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        ARMED[0] = True


def _patch(module):
    real = getattr(module, "answer", None)
    if real is None or getattr(real, "hostile", False):
        return

    def answer(out, name, outcome):
        if not ARMED[0]:
            return real(out, name, outcome)
        ARMED[0] = False
        out.write(forge(name, next(iter(outcome.values), "y")))
        out.flush()

    answer.hostile = True
    module.answer = answer


for _name in ("__main__", "gradekit.sandbox.worker"):
    if _name in sys.modules:
        _patch(sys.modules[_name])
"""
"""Appended to the correct example: relu's answers are replaced by ``forge``'s."""

ROUTES: dict[str, str] = {
    "npy_wraps": ARMED
    + """
def forge(name, key):
    return frame(name, array_answer(key), npy_header((1 << 32, 1 << 32)) + bytes(64))
""",
    "npy_overflows": ARMED
    + """
def forge(name, key):
    return frame(name, array_answer(key), npy_header((1 << 64,)) + bytes(64))
""",
    "deep_result": ARMED
    + """
def forge(name, key):
    return frame(name, deep_answer(key), b"")
""",
    "infinite_op": ARMED
    + """
def forge(name, key):
    return frame(name, infinite_op_answer(), b"")
""",
    "deep_control_line": ARMED
    + """
def forge(name, key):
    return deep_line()
""",
    "deep_tree": f"""
deep_tree(".", {DEPTH})  # in the worker's own folder, at import
""",
    "shape_backward": """
class ReLU(ReLU):
    calls = 0

    def backward(self, dout):
        self.calls += 1
        dx = super().backward(dout)
        return dx[..., :-1] if self.calls == 2 else dx  # the second call drops a column
""",
}
"""Each hostile submission: the correct example with this code appended."""


def hostile_source(route: str) -> str:
    """The correct example, the payload helpers and the route's attack, as one file."""
    helpers = "\n\n".join(inspect.getsource(f) for f in HELPERS)
    imports = "import json\nimport os\n"
    return f"{CORRECT.read_text()}\n\n{imports}\n\n{helpers}\n{ROUTES[route]}"


# --------------------------------------------------------------- grading a class
BACKENDS = ("bwrap", "rlimits")


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request) -> str:
    """Each sandbox backend that works here."""
    if request.param not in backends.available():
        pytest.skip(f"the {request.param} backend does not work on this machine")
    return request.param


class Run:
    """One ``gradekit grade`` of a class folder: exit code, printed text, the outputs."""

    def __init__(self, root: Path, routes: list[str], backend: str) -> None:
        self.root = root
        self.klass = root / "class"
        self.workers = root / "workers"
        for folder in (self.klass, self.workers):
            folder.mkdir()
        shutil.copy(CORRECT, self.klass / "honest.py")
        for route in routes:
            (self.klass / f"{route}.py").write_text(hostile_source(route))
        self.json, self.csv = root / "results.json", root / "gradebook.csv"
        argv = ["grade", str(self.klass), "-a", "backprop", "--jobs", "2", "--no-cache"]
        argv += ["--backend", backend, "--csv", str(self.csv), "--json", str(self.json)]
        out, err = io.StringIO(), io.StringIO()
        with _tempdir(self.workers), contextlib.redirect_stdout(out):
            with contextlib.redirect_stderr(err):
                self.code = cli.main(argv)
            self.workers_left = sorted(p.name for p in self.workers.iterdir())
        self.printed = out.getvalue() + err.getvalue()

    def results(self) -> dict[str, dict[str, Any]]:
        """Each submission's result, by name, from the JSON output."""
        report = json.loads(self.json.read_text())
        return {s["submission"]: s for s in report["submissions"]}

    def gradebook(self) -> dict[str, dict[str, str]]:
        """Each submission's row of the CSV gradebook."""
        with self.csv.open() as f:
            return {row["submission"]: row for row in csv.DictReader(f)}


@contextlib.contextmanager
def _tempdir(folder: Path) -> Iterator[None]:
    """Workers' temporary folders made in ``folder``, to see what is left behind."""
    old = tempfile.tempdir
    tempfile.tempdir = str(folder)
    try:
        yield
    finally:
        tempfile.tempdir = old
        for left in folder.iterdir():  # a failed removal's leftovers, removed for good
            remove_tree(left)


def solo(backend: str, path: Path) -> dict[str, Any]:
    """The honest submission graded alone, as JSON data."""
    result = Grader(load_assignment("backprop"), backend=backend).grade(path, "honest")
    return json.loads(result.model_dump_json())


@pytest.fixture(scope="module")
def graded(backend, tmp_path_factory) -> Run:
    """The honest example and every hostile route, graded in one batch under ``backend``."""
    return Run(tmp_path_factory.mktemp(f"class-{backend}"), list(ROUTES), backend)


def checks_of(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in result["checks"]}


def assert_one_line(message: str, name: str) -> None:
    assert message and "\n" not in message and "Traceback" not in message, message
    assert name in message, message


# ------------------------------------------------------------------ the class
def test_the_class_finishes_with_every_output(graded):
    assert graded.code == 0, graded.printed
    assert "Traceback" not in graded.printed
    names = {"honest", *ROUTES}
    assert set(graded.results()) == names
    assert set(graded.gradebook()) == names
    assert graded.workers_left == []


def test_the_honest_result_is_its_solo_result(graded, backend):
    honest = graded.results()["honest"]
    assert honest == solo(backend, graded.klass / "honest.py")
    assert honest["score"] == honest["max_score"]


@pytest.mark.parametrize("route", ["npy_wraps", "npy_overflows", "deep_result", "infinite_op"])
def test_a_hostile_answer_is_its_checks_error(graded, route):
    result = graded.results()[route]
    honest = checks_of(graded.results()["honest"])
    assert result["load_error"] is None
    for name, check in checks_of(result).items():
        if check["component"] != RELU:
            assert check == honest[name]
            continue
        assert (check["status"], check["score"]) == ("error", 0), check
        assert check["message"].startswith(f"unreadable result from {route}.py: ")
        assert_one_line(check["message"], route)


def test_a_deep_control_line_is_a_crash_of_its_checks(graded):
    result = graded.results()["deep_control_line"]
    honest = checks_of(graded.results()["honest"])
    for name, check in checks_of(result).items():
        if check["component"] != RELU:
            assert check == honest[name]
            continue
        assert (check["status"], check["score"]) == ("error", 0), check
        assert check["message"].startswith("the worker crashed: ")
        assert "\n" not in check["message"]


def test_a_deep_tree_left_behind_is_removed_and_costs_nothing(graded):
    result = graded.results()["deep_tree"]
    honest = graded.results()["honest"]
    assert result["load_error"] is None
    assert result["checks"] == honest["checks"]
    assert graded.workers_left == []


def test_a_backward_of_another_shape_fails_its_linearity_case(graded):
    result = graded.results()["shape_backward"]
    honest = checks_of(graded.results()["honest"])
    gradients = 0
    for name, check in checks_of(result).items():
        if check["component"] != RELU or check["type"] != "gradient":
            assert check == honest[name]
            continue
        gradients += 1
        assert check["status"] == "failed" and check["score"] < check["max_score"]
        linear = next(c for c in check["cases"] if c["name"] == "linear in dout")
        assert not linear["passed"]
        assert linear["message"].startswith("linear in dout: "), linear["message"]
        assert "shape" in linear["message"] and "\n" not in linear["message"]
    assert gradients == 2


# ---------------------------------------------------- each route broke the old code
def _answer(route: str) -> tuple[bytes, bytes]:
    """The (document, records) a route's ``forge`` sends for value ``y``."""
    if route == "npy_wraps":
        return array_answer("y").encode(), npy_header((1 << 32, 1 << 32)) + bytes(64)
    if route == "npy_overflows":
        return array_answer("y").encode(), npy_header((1 << 64,)) + bytes(64)
    if route == "deep_result":
        return deep_answer("y").encode(), b""
    return infinite_op_answer().encode(), b""


def _old_record(data: bytes) -> np.ndarray:
    """The old reading of one record: numpy's header, then an int64 product of the shape."""
    f = io.BytesIO(data)
    version = np.lib.format.read_magic(f)
    assert version == (1, 0)
    shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
    size = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    raw = f.read(size)
    return np.frombuffer(raw, dtype=dtype).reshape(shape, order="F" if fortran else "C")


def test_the_npy_routes_broke_the_old_reading():
    with pytest.raises(ValueError, match="cannot reshape array of size 0"):
        _old_record(_answer("npy_wraps")[1])  # 2**32 * 2**32 wraps to 0 bytes
    with pytest.raises(OverflowError):
        _old_record(_answer("npy_overflows")[1])
    for route in ("npy_wraps", "npy_overflows"):  # neither is a TransportError it caught
        with pytest.raises(transport.TransportError, match="too large"):
            transport._read_records(io.BytesIO(_answer(route)[1]), 1)


def test_a_deep_result_broke_the_old_json_reading():
    text = _answer("deep_result")[0].decode()
    with pytest.raises(RecursionError) as raised:
        json.loads(text)
    assert not isinstance(raised.value, ValueError)  # the old reading caught ValueError only


def test_an_infinite_op_broke_the_old_failure_record():
    failure = json.loads(_answer("infinite_op")[0])["failure"]
    with pytest.raises(OverflowError):  # the old reading caught KeyError, TypeError, ValueError
        int(failure["op"])


def test_a_deep_control_line_is_no_value_error():
    with pytest.raises(RecursionError) as raised:
        json.loads(deep_line())
    assert not isinstance(raised.value, ValueError)


def test_a_deep_tree_broke_the_old_removal(tmp_path):
    top = tmp_path / "home"
    top.mkdir()
    deep_tree(str(top), DEPTH)
    try:
        shutil.rmtree(top, ignore_errors=True)
    except RecursionError:
        pass
    else:
        pytest.skip(f"Python {sys.version_info[:2]} removes deep trees without recursion")
    assert top.exists()
    remove_tree(top)
    assert not top.exists()


def test_another_shape_broke_the_old_linearity_case():
    dx, dx2 = np.ones((4, 6)), np.ones((4, 5))
    with pytest.raises(ValueError, match="broadcast"):
        _ = 2 * dx - 3 * dx2  # what the old case computed after comparing dx with dx3 only


# ------------------------------------------------ the barriers, without the fixes
def _old_size(shape: Any, dtype: np.dtype) -> int:
    """The old size of a record: an int64 product, wrapping silently."""
    return int(np.prod(shape, dtype=np.int64)) * dtype.itemsize


_LINEARITY = Gradient._linearity


def _old_linearity(self: Gradient, outcome: Any, *args: Any, **kwargs: Any) -> Any:
    """The old linearity case's arithmetic first, without comparing the three shapes."""
    v = outcome.values
    if all(isinstance(v.get(k), np.ndarray) for k in ("dx", "dx2")):
        _ = 2 * v["dx"] - 3 * v["dx2"]
    return _LINEARITY(self, outcome, *args, **kwargs)


def _old_remove(path: Path) -> None:
    """The old removal of a worker's folder: recursive, raising past the stack's depth."""
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def unfixed(tmp_path_factory) -> Run:
    """Three routes graded with their source fixes undone: only the barriers are left."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(transport, "_record_size", _old_size)
        mp.setattr(Gradient, "_linearity", _old_linearity)
        mp.setattr(runner, "remove_tree", _old_remove)
        routes = ["npy_wraps", "shape_backward", "deep_tree"]
        return Run(tmp_path_factory.mktemp("unfixed"), routes, "rlimits")


def test_without_the_fixes_the_class_still_finishes(unfixed):
    assert unfixed.code == 0, unfixed.printed
    assert "Traceback" not in unfixed.printed
    assert set(unfixed.gradebook()) == {"honest", "npy_wraps", "shape_backward", "deep_tree"}
    assert unfixed.results()["honest"] == solo("rlimits", unfixed.klass / "honest.py")


def test_the_reading_barrier_holds_a_bad_record(unfixed):
    for check in unfixed.results()["npy_wraps"]["checks"]:
        if check["component"] == RELU:
            assert (check["status"], check["score"]) == ("error", 0)
            assert "a malformed result (ValueError: cannot reshape" in check["message"]
            assert_one_line(check["message"], "npy_wraps")


def test_the_verdict_barrier_holds_a_judge_that_raises(unfixed):
    failed = [
        c
        for c in unfixed.results()["shape_backward"]["checks"]
        if c["component"] == RELU and c["type"] == "gradient"
    ]
    assert len(failed) == 2
    for check in failed:
        assert (check["status"], check["score"], check["cases"]) == ("error", 0, [])
        prefix = "gradekit could not judge the answer of shape_backward: ValueError: "
        assert check["message"].startswith(prefix)
        assert_one_line(check["message"], "shape_backward")


def test_the_grade_barrier_holds_a_teardown_that_raises(unfixed):
    result = unfixed.results()["deep_tree"]
    assert result["load_error"].startswith("gradekit could not grade deep_tree: RecursionError")
    assert_one_line(result["load_error"], "deep_tree")
    assert result["score"] == 0
    for check in result["checks"]:
        assert (check["status"], check["score"]) == ("error", 0)
        assert check["message"] == f"not graded: {result['load_error']}"
