"""What a student sees when a notebook goes wrong: one line naming the cell and the line.

Load errors and tracebacks point at "cell C, line L" (cells counted from the top, markdown
included), never at the joined module's lines; a notebook that is not one, or holds no
code, gets one line like any other malformed submission, and a class of them finishes.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from gradekit.assignments import load_assignment
from gradekit.batch import grade_all
from gradekit.grading import Grader
from gradekit.sandbox.backends import available

from .conftest import ROOT, grader
from .convert import code_cells

CORRECT = (ROOT / "assignments" / "backprop" / "examples" / "correct.py").read_text()


def write(path: Path, cells: list[str], *, markdown: str = "# Backprop") -> Path:
    """A notebook of a markdown cell (cell 1) and ``cells`` as code cells (2, 3, ...)."""
    notebook = new_notebook(cells=[new_markdown_cell(markdown), *map(new_code_cell, cells)])
    nbformat.write(notebook, path)
    return path


def with_cell_3(text: str) -> list[str]:
    """The correct example's cells, its second one (cell 3) ending with ``text``."""
    cells = code_cells(CORRECT)
    cells[1] = cells[1] + "\n" + text
    return cells


def test_an_error_while_importing_cell_3_names_cell_3_and_its_line(tmp_path):
    cells = with_cell_3("scale = undefined_name * 2")
    line = cells[1].count("\n") + 1
    result = grader("backprop").grade(write(tmp_path / "hw.ipynb", cells))
    assert result.load_error == (
        f"cell 3, line {line}: importing it raised NameError: name 'undefined_name' is not defined"
    )
    assert all(c.score == 0 for c in result.checks)


def test_a_traceback_from_a_method_in_cell_3_names_the_cell_and_the_line(tmp_path):
    cells = code_cells(CORRECT)
    cell = next(i for i, c in enumerate(cells) if c.startswith("class Elementwise"))
    cells[cell] = cells[cell].replace("return dout * self.df()", "return dout * self.dff()")
    line = cells[cell].splitlines().index("        return dout * self.dff()") + 1
    result = grader("backprop").grade(write(tmp_path / "hw.ipynb", cells))
    relu = next(c for c in result.checks if c.name == "relu.gradient")
    assert relu.status == "error"
    assert f'File "hw.ipynb, cell {cell + 2}", line {line}, in backward' in relu.output
    assert "notebook.py" not in relu.output


def test_a_check_cell_left_untagged_does_nothing_when_graded(tmp_path):
    cells = [*code_cells(CORRECT), 'import gradekit\n\ngradekit.check("relu")']
    result = grader("backprop").grade(write(tmp_path / "hw.ipynb", cells))
    assert result.load_error is None and result.score == result.max_score


@pytest.mark.parametrize("backend", ["bwrap", "rlimits"])
def test_tracebacks_are_mapped_under_both_backends(tmp_path, backend):
    if backend not in available():
        pytest.skip(f"{backend} does not work here")
    cells = ["import gradekit", "def boom():\n    x = 1\n    raise ValueError('no')", HOOK]
    result = grader_with(backend).grade(write(tmp_path / "hw.ipynb", cells))
    check = next(c for c in result.checks if c.name == "relu.values")
    assert 'File "hw.ipynb, cell 3", line 3, in boom' in check.output


HOOK = """\
class ReLU:
    def __init__(self):
        self.params, self.grads = {}, {}

    def forward(self, x, *, training=True):
        return boom()


@gradekit.hookimpl
def gradekit_register(registry):
    registry.activations["relu"] = ReLU"""


def grader_with(backend: str) -> Grader:
    """A grader of ``relu.values`` alone, under ``backend``."""
    assignment = load_assignment("backprop")
    spec = assignment.spec
    relu = [c for c in spec.checks if c.id == "relu.values"]
    small = type(assignment)(spec.model_copy(update={"checks": relu}), assignment.folder)
    return Grader(small, backend=backend)


MALFORMED = {
    "not-json": (b'{"cells": [', r"not a notebook: not valid JSON \(line 1, column 12: .+\)"),
    "not-utf8": (b"\xff\xfe{}", r"not a notebook: the file is not UTF-8 text"),
    "a-list": (b"[1, 2, 3]", r"not a notebook: the JSON has no cells"),
    "bad-schema": (
        b'{"cells": [{"cell_type": "code", "source": 3}], "metadata": {},'
        b' "nbformat": 4, "nbformat_minor": 5}',
        r"not a valid notebook: .+",
    ),
}


def malformed(folder: Path) -> dict[str, tuple[Path, str]]:
    """Each malformed notebook of a class, with the pattern of its one-line error."""
    made = {}
    for name, (data, pattern) in MALFORMED.items():
        (folder / f"{name}.ipynb").write_bytes(data)
        made[name] = (folder / f"{name}.ipynb", pattern)
    no_code = write(folder / "no-code.ipynb", [])
    made["no-code"] = (no_code, r"the notebook has no code cell: nothing to grade")
    cells = code_cells(CORRECT)
    cells[2] += "\nx = = 1"
    line = cells[2].count("\n") + 1
    made["syntax"] = (
        write(folder / "syntax.ipynb", cells),
        f"cell 4, line {line}: syntax error: .+",
    )
    made["unclosed"] = (
        write(folder / "unclosed.ipynb", with_cell_3("x = (1,")),
        r"cell 3, line \d+: syntax error: '\(' was never closed",
    )
    made["no-hook"] = (
        write(folder / "no-hook.ipynb", code_cells(CORRECT)[:-1]),
        r"no gradekit_register hook: define .+",
    )
    made["loop"] = (
        write(folder / "loop.ipynb", with_cell_3("while True:\n    pass")),
        r"the submission timed out importing",
    )
    return made


def test_malformed_notebooks_get_one_line_each_and_the_class_finishes(tmp_path):
    made = malformed(tmp_path)
    good = write(tmp_path / "good.ipynb", code_cells(CORRECT))
    subs = [(name, path) for name, (path, _) in made.items()] + [("good", good)]
    results = grade_all(grader("backprop", startup=3.0), subs, jobs=2)
    by_name = {r.submission: r for r in results}
    for name, (_, pattern) in made.items():
        error = by_name[name].load_error
        assert error is not None and "\n" not in error, name
        assert re.fullmatch(pattern, error), (name, error)
        assert by_name[name].score == 0
    assert by_name["good"].load_error is None
    assert by_name["good"].score == by_name["good"].max_score


def test_a_notebook_too_large_to_read_is_refused_unread(tmp_path, monkeypatch):
    from gradekit.notebook import convert

    path = write(tmp_path / "big.ipynb", code_cells(CORRECT))
    monkeypatch.setattr(convert, "MAX_BYTES", path.stat().st_size - 1)
    result = grader("backprop").grade(path)
    assert result.score == 0
    assert "too large to grade" in result.load_error
    assert result.load_error.endswith("clear its outputs and save")
