"""``gradekit.check()`` run in a real Jupyter kernel: nbclient executes a notebook kit's
notebook, the buggy example filled in, and the check cell's output holds the grader's
verdicts on the saved file; an edit run but not saved is named."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from gradekit import check
from gradekit.assignments import load_assignment
from gradekit.cli import main
from gradekit.errors import GradekitError
from gradekit.notebook.check import unsaved

from .conftest import ROOT, grader
from .convert import notebook_of

nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

BUGGY = ROOT / "assignments" / "backprop" / "examples" / "buggy.py"


def test_check_in_a_kernel_shows_the_graders_verdicts_on_the_saved_notebook(tmp_path):
    kit = tmp_path / "kit"
    assert main(["kit", "backprop", "-o", str(kit), "--notebook"]) == 0
    notebook = notebook_of(BUGGY.read_text())
    notebook.cells.append(
        new_code_cell("import gradekit\n\ngradekit.check()", metadata={"tags": ["gradekit: skip"]})
    )
    nbformat.write(notebook, kit / "submission.ipynb")
    relu = next(c for c in notebook.cells if c.source.startswith("class ReLU"))
    relu.source += "\n\n    # an edit run in the kernel, never saved"
    client = nbclient.NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(kit)}}
    )
    client.execute()
    output = notebook.cells[-1].outputs[0]
    text, html = output.data["text/plain"], output.data["text/html"]
    official = [c for c in grader("backprop").grade(BUGGY).checks if c.visibility == "public"]
    for result in official:
        score = f"{result.score:g} / {result.max_score:g}"
        line = f"{result.status.upper():8}{result.name}: {score}"
        assert re.search(f"(?m)^{re.escape(line)}$", text), line
        assert f"<td>{result.name}</td>" in html
    passed = sum(c.status == "passed" for c in official)
    assert f"{passed} of {len(official)} public checks pass" in text
    assert 0 < html.count("<img ") <= len(official) - passed  # a failing check's picture
    assert "Not saved: this kernel ran ReLU from cells the saved notebook does not hold" in text
    assert "cell 2, line 1: `%matplotlib inline` left out (IPython only)" in text


class Shell:
    """What ``unsaved`` reads of IPython: the raw inputs of the cells run, in order."""

    def __init__(self, *inputs: str) -> None:
        parsed = [i.replace("%time ", "") for i in inputs]  # as IPython turns it into Python
        history = {"input_hist_raw": ["", *inputs], "input_hist_parsed": ["", *parsed]}
        self.history_manager = type("History", (), history)()


def test_unsaved_names_the_definitions_whose_last_run_is_not_saved(tmp_path):
    path = Path(tmp_path / "hw.ipynb")
    saved = ["class A:\n    x = 2", "def f():\n    return 1"]
    nbformat.write(nbformat.v4.new_notebook(cells=list(map(new_code_cell, saved))), path)
    assert unsaved(path, None) == []
    assert unsaved(path, Shell("class A:\n    x = 1", *saved, "%time f()")) == []
    assert unsaved(path, Shell(*saved, "class A:\n    x = 3  ", "x = 5")) == ["A"]
    assert unsaved(path, Shell(*saved, "def g():\n    pass")) == ["g"]
    assert unsaved(path, Shell(*saved, "%time f()\nclass A:\n    x = 2")) == ["A"]


def test_check_names_the_public_checks_of_a_component_or_says_what_exists(tmp_path):
    assert main(["init", "backprop", str(tmp_path), "--notebook"]) == 0
    verdicts = check("relu", notebook=tmp_path / "submission.ipynb")
    public = [c.id for c in load_assignment("backprop").spec.checks if c.visibility == "public"]
    assert [c.name for c in verdicts.checks] == [i for i in public if i.startswith("relu.")]
    assert not verdicts.passed
    assert "not implemented yet: TODO: ReLU.forward (submission.ipynb, cell" in str(verdicts)
    with pytest.raises(GradekitError, match="no public check of 'rellu'; the components: elu"):
        check("rellu", notebook=tmp_path / "submission.ipynb")
    with pytest.raises(
        GradekitError, match=re.escape("no pytest.ini naming a gradekit_assignment")
    ):
        check(notebook=write_elsewhere(tmp_path))


def write_elsewhere(tmp_path: Path) -> Path:
    """A notebook outside any kit folder."""
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()
    path = outside / "hw.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[new_code_cell("x = 1")]), path)
    return path
