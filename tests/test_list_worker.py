"""`gradekit list FILE` imports the file only in a sandboxed worker; `--mine` flags TODOs."""

from __future__ import annotations

import importlib.util
import os
import shutil
import textwrap
from pathlib import Path

import pytest

from gradekit.cli import main
from gradekit.components import KINDS
from gradekit.errors import SubmissionError
from gradekit.plugins import load_catalog
from gradekit.sandbox.backends import BACKENDS, available
from gradekit.sandbox.catalog import CATALOG_ENTRIES, NAME_CHARS, SUMMARY_CHARS, validate_catalog
from gradekit.sandbox.runner import Limits, WorkerSession
from gradekit.sandbox.worker import still_todo

ROOT = Path(__file__).parents[1]
STARTER = ROOT / "assignments" / "backprop" / "starter" / "submission.py"
CORRECT = ROOT / "assignments" / "backprop" / "examples" / "correct.py"

NOISY = '''
import os
import pathlib
import sys

import gradekit

try:
    pathlib.Path({marker!r}).write_text(str(os.getpid()))
except OSError:
    pass
for i in range(10000):
    print(f"FLOOD-LINE {{i}}")
print("FLOOD-ERR", file=sys.stderr)


class Relu:
    """My own ReLU."""

    def forward(self, x, *, training=True):
        return x

    def backward(self, dout):
        return dout


@gradekit.hookimpl
def gradekit_register(registry):
    registry.activations["my_relu"] = Relu
'''

MARKUP = '''
import gradekit


class Loud:
    """[red]x[/red] \\x1b[2J\\u202e rolled"""

    def forward(self, x, *, training=True):
        return x

    def backward(self, dout):
        return dout


@gradekit.hookimpl
def gradekit_register(registry):
    registry.activations["[bold]loud[/bold]"] = Loud
'''

GARBAGE = """
import json

import gradekit

_dumps = json.dumps


def dumps(obj, *args, **kwargs):
    if isinstance(obj, dict) and "catalog" in obj:
        return {answer}
    return _dumps(obj, *args, **kwargs)


json.dumps = dumps


class Relu:
    def forward(self, x, *, training=True):
        return x

    def backward(self, dout):
        return dout


@gradekit.hookimpl
def gradekit_register(registry):
    registry.activations["relu"] = Relu
"""

HANGS_WHEN_LISTED = """
import gradekit


class Forever(type):
    def __getattr__(cls, name):
        while True:
            pass


class Relu(metaclass=Forever):
    pass


@gradekit.hookimpl
def gradekit_register(registry):
    registry.activations["relu"] = Relu
"""


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    """Each sandbox backend; bubblewrap is skipped where it cannot run."""
    if request.param not in available():
        pytest.skip(f"the {request.param} backend does not work on this machine")
    return request.param


@pytest.fixture(autouse=True)
def wide(monkeypatch) -> None:
    """A console wide enough that no table cell folds a name in two."""
    monkeypatch.setenv("COLUMNS", "300")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write(folder: Path, name: str, source: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(source))
    return path


def todos(path: Path, backend: str) -> dict[str, list[str]]:
    """``name -> methods still TODO`` as the worker reports them."""
    with WorkerSession(path, backend=backend) as worker:
        return {e["name"]: e["todo"] for e in worker.catalog()}


def own_components(path: Path) -> dict[str, str]:
    """``name -> kind`` of a trusted bundled file, imported here to know what to expect."""
    return {e.name: e.kind for e in load_catalog(path, reference=False, installed=False)}


# ------------------------------------------------------------- the import is sandboxed
def test_the_import_runs_in_the_worker_and_its_output_is_never_shown(
    capsys, tmp_path, monkeypatch, backend
):
    grader = tmp_path / "grader"
    grader.mkdir()
    monkeypatch.chdir(grader)
    marker = grader / "imported.txt"
    sub = write(tmp_path / "class", "noisy.py", NOISY.format(marker=str(marker)))
    code, out, err = run(capsys, "list", str(sub), "--backend", backend)
    assert code == 0, err
    assert "my_relu" in out and "My own ReLU." in out
    assert "FLOOD" not in out + err
    if backend == "bwrap":
        assert not marker.exists(), "the worker wrote into the grader's folder"
    else:  # rlimits may write there: the import ran, but in another process
        assert marker.read_text() != str(os.getpid())


def test_a_plain_list_of_a_file_keeps_the_reference_and_adds_the_file(capsys, tmp_path):
    sub = write(tmp_path, "noisy.py", NOISY.format(marker=str(tmp_path / "m.txt")))
    code, out, _ = run(capsys, "list", str(sub), "--kind", "activations")
    trusted = [e for e in load_catalog() if e.kind == "activations"]
    assert code == 0
    assert f"submission {sub}" in out and "reference" in out
    assert f"{len(trusted) + 1} components" in out


# --------------------------------------------------------------------------- --mine
def test_mine_flags_every_method_of_the_starter(capsys, backend):
    expected = own_components(STARTER)
    got = todos(STARTER, backend)
    assert set(got) == set(expected)
    for name, todo in got.items():
        assert todo == KINDS[expected[name]].methods, name
    code, out, _ = run(capsys, "list", "--mine", str(STARTER), "--backend", backend)
    assert code == 0
    n = len(expected)
    assert f"{n} components, {n} with TODOs left" in out
    assert "reference" not in out


def test_mine_flags_nothing_in_the_correct_example(capsys, backend):
    got = todos(CORRECT, backend)
    assert got and all(todo == [] for todo in got.values())
    code, out, _ = run(capsys, "list", "--mine", str(CORRECT), "--backend", backend)
    assert code == 0
    assert f"{len(got)} components, 0 with TODOs left" in out


def test_a_half_done_file_is_flagged_for_the_rest_only(capsys, tmp_path, backend):
    text = STARTER.read_text()
    todo = 'raise NotImplementedError("TODO: Tanh.forward")'
    assert text.count(todo) == 1
    half = write(tmp_path, "half.py", text.replace(todo, "return np.tanh(x)"))
    got = todos(half, backend)
    assert got.pop("tanh") == ["backward"]
    assert all(t for t in got.values())
    todo = 'raise NotImplementedError("TODO: Tanh.backward")'
    done = write(tmp_path, "done.py", half.read_text().replace(todo, "return dout"))
    code, out, _ = run(capsys, "list", "--mine", str(done), "--backend", backend)
    assert code == 0
    n = len(got) + 1
    assert f"{n} components, {n - 1} with TODOs left" in out


def test_mine_needs_a_file(capsys):
    code, out, err = run(capsys, "list", "--mine")
    assert code == 2
    assert "--mine" in err and "Traceback" not in out + err


def method(folder: Path, source: str):
    """The method ``f`` of the class ``C`` of a module file, as a worker would see it."""
    path = folder / "probe.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(f"probe_{abs(hash(source))}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.C.f


@pytest.mark.parametrize(
    ("body", "todo"),
    [
        ('"""Doc."""\n        raise NotImplementedError("TODO: C.f")', True),
        ("raise NotImplementedError", True),
        ('"""Doc\nflush left."""\n        raise NotImplementedError()', True),
        ("# a comment\n        raise NotImplementedError('TODO')", True),
        ("pass\n        raise NotImplementedError('TODO')", False),
        ("raise ValueError('TODO')", False),
        ("return NotImplemented", False),
        ("x = 1\n        raise NotImplementedError('TODO')", False),
        ("if x:\n            raise NotImplementedError('TODO')\n        return x", False),
    ],
)
def test_a_todo_is_read_from_the_source(tmp_path, body, todo):
    f = method(tmp_path, f"class C:\n    def f(self, x):\n        {body}\n")
    assert still_todo(f) is todo


def test_what_has_no_source_is_not_a_todo():
    assert still_todo(len) is False
    assert still_todo(None) is False


# ----------------------------------------------- what the worker says is hostile data
GOOD = {"kind": "activations", "name": "relu", "summary": "", "missing": [], "todo": ["forward"]}


@pytest.mark.parametrize(
    ("reply", "pattern"),
    [
        ({"relu": GOOD}, "not a list"),
        ("catalog", "not a list"),
        ([GOOD] * (CATALOG_ENTRIES + 1), "more than"),
        ([{**GOOD, "kind": "rootkits"}], "unknown kind"),
        ([{**GOOD, "kind": ["activations"]}], "unknown kind"),
        ([{**GOOD, "extra": 1}], "not an object"),
        ([{k: v for k, v in GOOD.items() if k != "todo"}], "not an object"),
        (["relu"], "not an object"),
        ([{**GOOD, "name": 7}], "not a string"),
        ([{**GOOD, "summary": {"x": 1}}], "not a string"),
        ([{**GOOD, "name": "\x1b\x07\u202e"}], "without a name"),
        ([{**GOOD, "todo": "forward"}], "todo is not a list"),
        ([{**GOOD, "missing": [["forward"]]}], "missing is not a list"),
        ([{**GOOD, "todo": ["steal"]}], "a method that activations do not have"),
        ([{**GOOD, "kind": "optimizers"}], "a method that optimizers do not have"),
        ([GOOD, {**GOOD, "summary": "again"}], "listed twice"),
    ],
)
def test_a_malformed_catalog_is_rejected(reply, pattern):
    with pytest.raises(ValueError, match=pattern):
        validate_catalog(reply)


def test_odd_strings_are_bounded_and_stripped_but_markup_is_left_to_the_table():
    odd = {
        **GOOD,
        "name": "n" * 10_000,
        "summary": "[red]x[/red]\n\x1b[2J\u202eevil\ud800\x00" + "s" * 10_000,
        "todo": ["backward", "forward", "forward"],
    }
    (entry,) = validate_catalog([odd])
    assert len(entry["name"]) == NAME_CHARS
    assert len(entry["summary"]) == SUMMARY_CHARS
    assert entry["summary"].startswith("[red]x[/red] [2Jevil")
    assert not any(ord(c) < 32 or c in "\x7f\u202e\ud800" for c in entry["summary"])
    assert entry["todo"] == ["forward", "backward"]  # protocol order, once each


def test_markup_and_escapes_from_the_file_are_shown_as_text(capsys, tmp_path, backend):
    sub = write(tmp_path, "loud.py", MARKUP)
    code, out, err = run(capsys, "list", "--mine", str(sub), "--backend", backend)
    assert code == 0, err
    assert "[bold]loud[/bold]" in out and "[red]x[/red]" in out
    assert "\x1b" not in out and "\u202e" not in out


@pytest.mark.parametrize(
    ("answer", "needle"),
    [
        ('_dumps({"catalog": [{"kind": "rootkits"}]})', "catalog is malformed"),
        ('_dumps({"catalog": [], "extra": 1})', "with garbage"),
        ('"[" * 60000', "unreadable answer"),
        ('"x" * 70000', "unreadable answer"),
    ],
)
def test_a_worker_answering_garbage_gives_one_line(capsys, tmp_path, answer, needle):
    sub = write(tmp_path, "liar.py", GARBAGE.format(answer=answer))
    code, out, err = run(capsys, "list", "--mine", str(sub))
    assert code == 2
    assert err.strip().startswith(f"gradekit: error: {sub}: ")
    assert needle in err and "Traceback" not in out + err
    assert len(err.strip().splitlines()) == 1


def test_a_worker_that_hangs_while_listing_times_out(tmp_path):
    sub = write(tmp_path, "hangs.py", HANGS_WHEN_LISTED)
    worker = WorkerSession(sub, Limits(call=1.0), "rlimits")
    with worker, pytest.raises(SubmissionError, match=r"listing its components took over 1 s"):
        worker.catalog()


# ------------------------------------------------------------------------ broken files
@pytest.mark.parametrize(
    ("source", "needle", "mine"),
    [
        ("def broken(:\n", "syntax error (bad.py, line 1)", ""),
        ("x = 1\n", "no gradekit_register hook", "--mine"),
        ("raise ValueError('no\\nway')\n", "importing it raised ValueError: no way", ""),
        ("import os\nprint('SECRET-OUTPUT', flush=True)\nos._exit(3)\n", "died while", "--mine"),
    ],
)
def test_a_broken_file_gives_one_line_and_no_traceback(
    capsys, tmp_path, backend, source, needle, mine
):
    sub = write(tmp_path, "bad.py", source)
    argv = ["list", *mine.split(), str(sub), "--backend", backend]
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert err.strip().startswith(f"gradekit: error: {sub}: ")
    assert needle in err
    assert "Traceback" not in out + err and "SECRET-OUTPUT" not in out + err
    assert len(err.strip().splitlines()) == 1


def test_a_missing_file_is_named(capsys, tmp_path):
    code, _, err = run(capsys, "list", "--mine", str(tmp_path / "nope.py"))
    assert code == 2
    assert "nope.py: no such file or folder" in err


def test_a_package_folder_is_listed_from_its_worker(capsys, tmp_path, backend):
    package = tmp_path / "pkg"
    shutil.copytree(CORRECT.parent, package)
    (package / "__init__.py").write_text("from .correct import gradekit_register  # noqa\n")
    code, out, err = run(capsys, "list", "--mine", str(package), "--backend", backend)
    assert code == 0, err
    assert f"{len(own_components(CORRECT))} components, 0 with TODOs left" in out
