"""Reading and joining a notebook in the parent: what is kept, what is left out and said,
and the line map back to cells. Nothing here starts a worker."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell

from gradekit.errors import SubmissionError
from gradekit.notebook.convert import DISPLAY, HEADER, MODULE_NAME, convert, join


def joined(*cells, tags: dict[int, list[str]] | None = None):
    """The module of a notebook of ``cells``: strings are code cells, others as given."""
    made = [new_code_cell(c) if isinstance(c, str) else c for c in cells]
    for index, names in (tags or {}).items():
        made[index].metadata["tags"] = names
    return join(new_notebook(cells=made))


def body(module) -> list[str]:
    """The module's lines from the cells, without the header and ``DISPLAY``."""
    return [line for line in module.source.splitlines()[len(HEADER) :] if line != DISPLAY]


def test_cells_are_joined_in_order_and_every_line_maps_back_to_its_cell():
    module = joined(
        new_markdown_cell("# title"), "import numpy as np", new_raw_cell("raw"), "x = 1\ny = 2"
    )
    assert body(module) == ["import numpy as np", "x = 1", "y = 2"]
    lines = module.source.splitlines()
    assert module.where(lines.index("y = 2") + 1) == "cell 4, line 2"
    assert module.where(lines.index("import numpy as np") + 1) == "cell 2, line 1"
    assert module.where(1) is None  # the header
    assert module.where(len(lines) + 5) == "cell 4, line 2"  # past the end: the last line
    compile(module.source, MODULE_NAME, "exec")


def test_ipython_lines_are_left_out_and_said_once_each_with_their_cell():
    module = joined(
        "%matplotlib inline\nimport numpy as np",
        "!pip list\nfiles = !ls\nt = %timeit -o f()",
        "%%time\nx = slow()",
        "if True:\n    %time f()\n    !echo hi",
    )
    assert body(module) == [
        "",
        "import numpy as np",
        "",
        "",
        "",
        "if True:",
        "    pass",
        "    pass",
    ]
    assert module.notes == (
        "cell 1, line 1: `%matplotlib inline` left out (IPython only)",
        "cell 2, line 1: `!pip list` left out (IPython only)",
        "cell 2, line 2: `files = !ls` left out (IPython only)",
        "cell 2, line 3: `t = %timeit -o f()` left out (IPython only)",
        "cell 3: a %%time cell, left out (IPython only)",
        "cell 4, line 2: `%time f()` left out (IPython only)",
        "cell 4, line 3: `!echo hi` left out (IPython only)",
    )
    compile(module.source, MODULE_NAME, "exec")


def test_python_that_looks_like_ipython_is_kept():
    cells = (
        'doc = """\n%d entries\n!important\n"""',
        "y = (7\n     %3)",
        "ok = (1\n      != 2)",
    )
    module = joined(*cells)
    assert body(module) == "\n".join(cells).splitlines()
    assert module.notes == ()


def test_a_tagged_cell_is_skipped_and_said_so():
    module = joined(
        "import numpy as np",
        "import matplotlib.pyplot as plt",
        "plt.show()",
        tags={1: ["gradekit: skip"], 2: ["plot", "gradekit:skip"]},
    )
    assert body(module) == ["import numpy as np"]
    assert module.notes == ()


def test_display_is_defined_after_the_future_imports():
    module = joined('"""My homework."""\nfrom __future__ import annotations', "display(1)")
    lines = module.source.splitlines()
    assert lines.index(DISPLAY) == lines.index("from __future__ import annotations") + 1
    namespace: dict = {}
    exec(compile(module.source, MODULE_NAME, "exec"), namespace)  # the test's own cells
    assert namespace["__doc__"] == "My homework."


@pytest.mark.parametrize(
    ("cells", "error"),
    [
        ([], "the notebook has no code cell: nothing to grade"),
        (["x = 1", "y = (1,\nz = 2"], "cell 3, line 1: syntax error: '(' was never closed"),
        (["def f():"], "cell 2, line 1: syntax error: expected an indented block after"),
        (["x = 1\0"], "cell 2: syntax error: source code string cannot contain null bytes"),
    ],
)
def test_a_notebook_without_code_or_with_a_cell_that_does_not_parse_is_one_line(cells, error):
    with pytest.raises(ValueError, match="^" + error.replace("(", r"\(")):
        joined(new_markdown_cell("# nothing"), *cells)


def test_load_errors_and_tracebacks_name_cells_not_module_lines():
    module = joined("import numpy as np", "\n\ndef f():\n    return g()")
    at = module.source.splitlines().index("    return g()") + 1
    problem = f"importing it raised NameError: name 'g' is not defined ({MODULE_NAME}, line {at})"
    assert module.locate(problem) == (
        "cell 2, line 4: importing it raised NameError: name 'g' is not defined"
    )
    assert module.locate(f"expected an indented block after 'if' statement on line {at}") == (
        "expected an indented block after 'if' statement on cell 2, line 4"
    )
    assert module.locate("'return' outside function (detected at line 1)") == (
        "'return' outside function (detected at line 1)"  # the header: left as it is
    )
    trace = f'  File "/submission/{MODULE_NAME}", line {at}, in f\n    return g()\n'
    assert module.retrace(trace, f"/submission/{MODULE_NAME}", "hw.ipynb") == (
        '  File "hw.ipynb, cell 2", line 4, in f\n    return g()\n'
    )
    other = '  File "/usr/lib/python3.11/copy.py", line 12, in deepcopy\n'
    assert module.retrace(other, f"/submission/{MODULE_NAME}", "hw.ipynb") == other


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"{", "not a notebook: not valid JSON (line 1, column 2: "),
        (b"\xff", "not a notebook: the file is not UTF-8 text"),
        (b'"cells"', "not a notebook: the JSON has no cells"),
        (b"[" * 100_000 + b"]" * 100_000, "not a notebook: "),
        (b'{"cells": 3, "nbformat": 4, "nbformat_minor": 5, "metadata": {}}', "not a valid"),
    ],
)
def test_a_file_that_is_not_a_notebook_is_one_line_without_its_contents(tmp_path, data, error):
    with pytest.raises(SubmissionError) as raised:
        convert(write(tmp_path / "hw.ipynb", data))
    assert raised.value.problem.startswith(error)
    assert "\n" not in raised.value.problem and len(raised.value.problem) < 250


def test_an_old_notebook_is_upgraded_and_joined(tmp_path):
    old = nbformat.v3.new_notebook(
        worksheets=[nbformat.v3.new_worksheet(cells=[nbformat.v3.new_code_cell("x = 1")])]
    )
    path = tmp_path / "old.ipynb"
    path.write_text(nbformat.v3.writes_json(old))
    assert body(convert(path)) == ["x = 1"]
