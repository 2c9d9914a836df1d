"""Where a notebook is a submission: a class folder, one file on the command line, the
Gradescope upload; the results cache keys on its bytes; a link is refused as ever."""

from __future__ import annotations

import json
import os
import re

import pytest

from gradekit.batch import ResultCache
from gradekit.cli import main, submissions_in
from gradekit.commands.gradescope import find_submission
from gradekit.errors import GradekitError
from gradekit.sandbox.backends import bwrap_works

from .conftest import ROOT, grader
from .convert import write_notebook

CORRECT = ROOT / "assignments" / "backprop" / "examples" / "correct.py"


def test_a_class_folder_holds_notebooks_beside_py_files_and_packages(tmp_path):
    write_notebook(CORRECT, tmp_path / "alice.ipynb")
    (tmp_path / "bob.py").write_text("")
    (tmp_path / "carol").mkdir()
    (tmp_path / "carol" / "__init__.py").write_text("")
    (tmp_path / "notes.txt").write_text("")
    (tmp_path / ".ipynb_checkpoints").mkdir()
    found = submissions_in([str(tmp_path)])
    assert [name for name, _ in found] == ["alice", "bob", "carol"]
    assert submissions_in([str(tmp_path / "alice.ipynb")]) == [("alice", tmp_path / "alice.ipynb")]


def test_gradescope_finds_a_lone_notebook_and_names_it_among_others(tmp_path):
    write_notebook(CORRECT, tmp_path / "hw.ipynb")
    assert find_submission(tmp_path) == tmp_path / "hw.ipynb"
    (tmp_path / "extra.py").write_text("")
    with pytest.raises(GradekitError, match=re.escape("found extra.py, hw.ipynb")):
        find_submission(tmp_path)


def test_a_link_named_like_a_notebook_is_refused(tmp_path):
    target = write_notebook(CORRECT, tmp_path / "real.ipynb")
    os.symlink(target, tmp_path / "link.ipynb")
    result = grader("backprop").grade(tmp_path / "link.ipynb")
    assert result.load_error == "link.ipynb: links are not graded: upload the file itself"


@pytest.mark.skipif(not bwrap_works(), reason="the results cache opens only under bubblewrap")
def test_the_results_cache_keys_on_the_notebooks_bytes(tmp_path):
    notebook = write_notebook(CORRECT, tmp_path / "hw.ipynb")
    graded = grader("backprop").grade(notebook)
    cache = ResultCache(tmp_path / "cache", grader("backprop"))
    cache.put(notebook, graded)
    assert cache.get("hw", notebook) == graded
    data = json.loads(notebook.read_text())
    data["cells"][0]["source"] = "# My homework, edited"  # a markdown cell: still a change
    notebook.write_text(json.dumps(data))
    assert cache.get("hw", notebook) is None


def test_grade_and_list_take_a_notebook_on_the_command_line(tmp_path, capsys):
    notebook = write_notebook(CORRECT, tmp_path / "hw.ipynb")
    out, gradescope = tmp_path / "results.json", tmp_path / "gradescope"
    args = ["--no-cache", "--json", str(out), "--gradescope", str(gradescope)]
    assert main(["grade", str(notebook), "-a", "backprop", *args]) == 0
    left_out = "cell 2, line 1: `%matplotlib inline` left out (IPython only)"
    assert left_out in capsys.readouterr().out
    report = json.loads(out.read_text())["submissions"][0]
    assert (report["submission"], report["score"]) == ("hw", report["max_score"])
    assert left_out in report["notes"]
    shown = json.loads((gradescope / "hw" / "results.json").read_text())["output"]
    assert shown.startswith("Left out of grading:\n") and left_out in shown
    assert main(["list", "--mine", str(notebook)]) == 0
    assert "relu" in capsys.readouterr().out
