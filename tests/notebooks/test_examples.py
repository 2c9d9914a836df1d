"""Every bundled example, handed in as a notebook, gets the verdicts of its ``.py`` file.

The notebook is the student's kind: the module split into cells at its definitions, with
a markdown cell, ``%matplotlib inline``, ``!pip list``, a ``display(...)`` call and a
plotting cell tagged ``gradekit: skip`` around them (see ``convert``).
"""

from __future__ import annotations

import pytest

from .conftest import BUNDLED, ROOT, grader
from .convert import write_notebook

EXAMPLES = [(name, kind) for name in BUNDLED for kind in ("correct", "buggy")]


def verdict(check) -> tuple:
    """What a check says about a submission, its traceback aside (it names cells)."""
    return check.name, check.status, check.score, check.message, check.misconception, check.cases


@pytest.mark.parametrize(("assignment", "example"), EXAMPLES)
def test_a_notebook_gets_the_verdicts_of_its_py_file(tmp_path, assignment, example):
    source = ROOT / "assignments" / assignment / "examples" / f"{example}.py"
    notebook = write_notebook(source, tmp_path / f"{example}.ipynb")
    as_py = grader(assignment).grade(source)
    as_notebook = grader(assignment).grade(notebook)
    assert as_notebook.load_error is None
    assert (as_notebook.submission, as_notebook.path) == (example, str(notebook))
    assert [verdict(c) for c in as_notebook.checks] == [verdict(c) for c in as_py.checks]
    assert (as_notebook.score, as_notebook.max_score) == (as_py.score, as_py.max_score)
    assert as_notebook.notes == [
        "cell 2, line 1: `%matplotlib inline` left out (IPython only)",
        "cell 3, line 1: `!pip list` left out (IPython only)",
    ]
    assert as_py.notes == []
