"""The notebook kit: ``gradekit kit --notebook`` and ``gradekit init --notebook`` write the
template as a notebook, and ``pytest`` in it gives the grader's verdicts on a notebook."""

from __future__ import annotations

import ast
import re

import nbformat
import pytest

from gradekit.assignments import bundled_assignments, load_assignment
from gradekit.cli import main
from gradekit.kit.notebook import registered

from .conftest import ROOT, grader
from .convert import write_notebook


def starter(name: str) -> str:
    return (load_assignment(name).folder / "starter" / "submission.py").read_text()


@pytest.mark.parametrize("name", bundled_assignments())
def test_init_writes_each_component_as_its_description_code_and_check(tmp_path, name):
    assert main(["init", name, str(tmp_path), "--notebook"]) == 0
    assert not (tmp_path / "submission.py").exists()
    assert "gradekit_submission = submission.ipynb" in (tmp_path / "pytest.ini").read_text()
    cells = nbformat.read(tmp_path / "submission.ipynb", as_version=4).cells
    tree = ast.parse(starter(name))
    hook = next(n for n in tree.body if getattr(n, "name", "") == "gradekit_register")
    components = registered(hook)
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef)]
    assert set(components) == {c.name for c in classes}  # every class is a component
    for cls in classes:
        at = next(i for i, c in enumerate(cells) if c.source.startswith(f"class {cls.name}"))
        markdown, code, check = cells[at - 1], cells[at], cells[at + 1]
        assert markdown.cell_type == "markdown"
        assert markdown.source.startswith(f"## {cls.name} (`{components[cls.name]}`)")
        assert ast.get_docstring(cls).split()[0] in markdown.source
        assert "TODO" in code.source
        component = components[cls.name].split("/")[1]
        assert check.source == f'import gradekit\n\ngradekit.check("{component}")'
        assert check.metadata.tags == ["gradekit: skip"]
    assert cells[-1].source == "import gradekit\n\ngradekit.check()"
    readme = (tmp_path / "README.md").read_text()
    assert "## In Jupyter" in readme and "gradekit: skip" in readme


@pytest.mark.parametrize("name", bundled_assignments())
def test_the_notebook_template_grades_as_the_py_template(tmp_path, name):
    assert main(["init", name, str(tmp_path), "--notebook"]) == 0
    as_notebook = grader(name).grade(tmp_path / "submission.ipynb")
    template = tmp_path / "submission.py"
    template.write_text(starter(name))
    as_py = grader(name).grade(template)
    assert as_notebook.load_error is None and as_notebook.notes == []
    assert [(c.name, c.status, c.score) for c in as_notebook.checks] == [
        (c.name, c.status, c.score) for c in as_py.checks
    ]


def test_the_kit_command_writes_a_notebook_kit(tmp_path, capsys):
    target = tmp_path / "kit"
    assert main(["kit", "backprop", "-o", str(target), "--notebook"]) == 0
    assert sorted(p.name for p in target.iterdir()) == [
        "README.md",
        "engine",
        "public-checks",
        "pytest.ini",
        "submission.ipynb",
    ]
    readme = (target / "README.md").read_text()
    setup = readme.split("```bash\n", 1)[1].split("```", 1)[0].splitlines()
    assert re.fullmatch(r"python3 -m venv .venv && .venv/bin/pip install \S+ jupyterlab", setup[0])
    assert "Hand in `submission.ipynb`" in readme
    assert "gradekit_submission = submission.ipynb" in (target / "pytest.ini").read_text()


def test_pytest_in_a_notebook_folder_gives_the_graders_verdicts(pytester):
    assert main(["init", "backprop", str(pytester.path), "--notebook"]) == 0
    buggy = ROOT / "assignments" / "backprop" / "examples" / "buggy.py"
    (pytester.path / "submission.ipynb").unlink()
    write_notebook(buggy, pytester.path / "submission.ipynb")
    result = pytester.runpytest("-p", "no:cacheprovider")
    reports = result.reprec.getreports("pytest_runtest_logreport")
    seen = {".".join(r.nodeid.split("::")[1:]): r.outcome for r in reports if r.when == "call"}
    official = grader("backprop").grade(buggy).checks
    assert seen == {
        c.name: "passed" if c.status == "passed" else "failed"
        for c in official
        if c.visibility == "public"
    }
    text = result.stdout.str()
    assert "cell 2, line 1: `%matplotlib inline` left out (IPython only)" in text
    assert all(r.nodeid.startswith("submission.ipynb::") for r in reports)
