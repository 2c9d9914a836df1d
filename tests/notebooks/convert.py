"""A ``.py`` submission as a student's notebook, with what notebooks add around the code.

The module is split into cells at its top-level definitions; around them come a
markdown cell, a cell of IPython lines (``%matplotlib inline``, ``!pip list``), a
``display(...)`` call and a plotting cell tagged ``gradekit: skip``. Graded, the notebook
must give the verdicts of the ``.py`` file.
"""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

PLOT = "import matplotlib.pyplot as plt\n\nplt.plot([1, 2, 3])\nplt.show()"
"""A plotting cell: matplotlib cannot be imported in a worker, so it must be skipped."""


def code_cells(source: str) -> list[str]:
    """``source`` split before each top-level function or class (its decorators included)."""
    lines = source.splitlines()
    tree = ast.parse(source)
    defs = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    starts = [
        min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1
        for node in tree.body
        if isinstance(node, defs)
    ]
    bounds = [0, *starts, len(lines)]
    chunks = ["\n".join(lines[a:b]).strip("\n") for a, b in itertools.pairwise(bounds)]
    return [c for c in chunks if c.strip()]


def notebook_of(source: str) -> nbformat.NotebookNode:
    """A student's notebook holding the module ``source``, with the extras around it."""
    first, *rest = code_cells(source)
    skipped = new_code_cell(PLOT, metadata={"tags": ["gradekit: skip"]})
    cells = [
        new_markdown_cell("# My homework\n\nEach class below is one component."),
        new_code_cell("%matplotlib inline\n" + first),
        new_code_cell("!pip list"),
        *(new_code_cell(c) for c in rest),
        new_code_cell('display("every component is defined")'),
        skipped,
    ]
    return new_notebook(cells=cells)


def write_notebook(source: Path, target: Path) -> Path:
    """Write ``source`` (a ``.py`` file) as the notebook ``target``; return ``target``."""
    nbformat.write(notebook_of(source.read_text()), target)
    return target
