"""``gradekit.check()``: the self-check from a notebook cell, as ``pytest`` runs it.

It grades the notebook *file*, as last saved, which is what the student hands in: never
the kernel's state. The notebook is found from the editor (VS Code's
``__vsc_ipynb_file__``, Jupyter's ``JPY_SESSION_NAME``) or the kit's ``pytest.ini``
(``gradekit_submission``), unless named. The kit is the folder of the ``pytest.ini``
that names the assignment (``gradekit_assignment``), beside the notebook or above it.
Its public checks run through the same :class:`gradekit.grading.Grader` and worker
process as ``pytest`` and ``gradekit grade``, so the verdicts are theirs.
"""

from __future__ import annotations

import ast
import configparser
import os
import sys
from pathlib import Path
from typing import Any

from ..errors import GradekitError
from ..pytest_plugin import ASSIGNMENT_INI, SUBMISSION_INI
from .verdict import Verdicts

INI = "pytest.ini"
NAME_IT = 'name it: gradekit.check("relu", notebook="submission.ipynb")'


def check(component: str | None = None, *, notebook: str | Path | None = None) -> Verdicts:
    """Grade the public checks of ``component`` (a name such as ``"relu"``, or every
    component) on the saved notebook; the verdicts show as a table in Jupyter."""
    path = notebook_path(notebook)
    base, assignment = kit_settings(path.resolve().parent)
    grader = public_grader(base, assignment, component)
    result = grader.grade(path)
    return Verdicts(result, component, unsaved=unsaved(path, _shell()))


def _shell() -> Any:
    """The running IPython shell, or None (IPython is never imported here)."""
    ipython = sys.modules.get("IPython")
    return ipython.get_ipython() if ipython is not None else None


def _ini(folder: Path) -> configparser.SectionProxy | None:
    """The ``[pytest]`` section of ``folder/pytest.ini`` when it names an assignment."""
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(folder / INI, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError):
        return None
    if parser.has_section("pytest") and parser.get("pytest", ASSIGNMENT_INI, fallback=""):
        return parser["pytest"]
    return None


def kit_settings(folder: Path) -> tuple[Path, str]:
    """The folder of the first ``pytest.ini`` from ``folder`` up that names an assignment,
    and that name (a kit's ``public-checks``, a bundled name or a folder)."""
    for base in (folder, *folder.parents):
        section = _ini(base)
        if section is not None:
            return base, section[ASSIGNMENT_INI].strip()
    raise GradekitError(
        f"{folder}: no {INI} naming a {ASSIGNMENT_INI} here or above: gradekit.check() runs"
        " on a notebook in a kit's folder (see the kit's README)"
    )


def notebook_path(given: str | Path | None = None) -> Path:
    """The notebook to check: ``given``, else the one the editor says, else the kit's
    ``gradekit_submission`` seen from the working folder."""
    path = Path(given) if given else _from_editor() or _from_ini(Path.cwd())
    if path is None:
        raise GradekitError(f"cannot tell which notebook this is; {NAME_IT}")
    if not path.is_file():
        raise GradekitError(f"{path}: no such notebook; {NAME_IT}")
    return path


def _from_editor() -> Path | None:
    """The notebook the kernel runs for: VS Code's variable, or Jupyter's session name
    (relative to the server's folder, so also tried by its name in the working folder)."""
    shell = _shell()
    found = shell.user_ns.get("__vsc_ipynb_file__") if shell is not None else None
    if isinstance(found, str) and Path(found).is_file():
        return Path(found)
    session = os.environ.get("JPY_SESSION_NAME", "")
    if session.endswith(".ipynb"):
        here = Path.cwd() / Path(session).name
        return next((p for p in (Path(session), here) if p.is_file()), None)
    return None


def _from_ini(folder: Path) -> Path | None:
    """The kit's ``gradekit_submission``, when it is a notebook."""
    for base in (folder, *folder.parents):
        section = _ini(base)
        if section is not None:
            named = section.get(SUBMISSION_INI, "").strip()
            return base / named if named.endswith(".ipynb") else None
    return None


def _wanted(spec: Any, component: str | None) -> bool:
    """Whether a public check belongs to ``component`` (its name, ``kind/name`` or id)."""
    if spec.visibility != "public":
        return False
    names = {spec.name, spec.component, spec.id, spec.id.partition(".")[0]}
    return component is None or component in names


def public_grader(base: Path, name: str, component: str | None) -> Any:
    """A grader of the public checks of ``component`` (all when None): a kit's stored
    checks, or an assignment's judged against the installed reference."""
    from ..assignments import Assignment, bundled_assignments, is_path, load_assignment
    from ..grading import Grader
    from ..kit.public import is_kit, load_grader

    local = base / name
    if is_kit(local):
        grader = load_grader(local)
        public = [c.spec for c in grader.checks]
        grader.checks = [c for c in grader.checks if _wanted(c.spec, component)]
    else:
        bundled = not is_path(name) and name in bundled_assignments()
        assignment = load_assignment(name if bundled or not local.exists() else local)
        public = [c for c in assignment.spec.checks if c.visibility == "public"]
        chosen = [c for c in public if _wanted(c, component)]
        subset = assignment.spec.model_copy(update={"checks": chosen})
        grader = Grader(Assignment(subset, assignment.folder))
    if not grader.checks:
        names = ", ".join(sorted({c.name for c in public}))
        raise GradekitError(f"no public check of {component!r}; the components: {names}")
    grader.figures = True  # a check's picture, drawn under its row in Jupyter
    return grader


def unsaved(path: Path, shell: Any) -> list[str]:
    """The classes and functions this kernel last ran from a cell that the saved notebook
    does not hold (as typed): edits run but not saved, which the check does not see."""
    if shell is None:
        return []
    import nbformat

    try:
        saved = nbformat.read(path, as_version=4)
    except Exception:  # an unreadable notebook is the grader's to report
        return []
    on_disk = {_same(c.source) for c in saved.cells if c.cell_type == "code"}
    latest: dict[str, str] = {}
    history = shell.history_manager  # a cell as typed, and as IPython turned it into Python
    for typed, python in zip(history.input_hist_raw, history.input_hist_parsed, strict=False):
        for name in _defined(python):
            latest[name] = typed
    return sorted(name for name, source in latest.items() if _same(source) not in on_disk)


def _defined(source: str) -> list[str]:
    """The classes and functions a cell defines at its top level."""
    try:
        body = ast.parse(source).body
    except (SyntaxError, ValueError):  # a cell that does not parse defines nothing yet
        return []
    kinds = (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    return [node.name for node in body if isinstance(node, kinds)]


def _same(source: str) -> str:
    """A cell's source compared without trailing spaces and blank lines."""
    return "\n".join(line.rstrip() for line in source.strip().splitlines())
