"""The worker sees only the contract: nothing gradekit ships earns a point when registered.

Every class of every gradekit module (a superset of what a worker, or a student's engine
from a kit, can import) whose instances have the methods of a kind is registered, under
every name of that kind the bundled assignments check, and graded: none earns a point.
A probe walks what a worker can import: exactly the view's modules, numpy and pluggy.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
from functools import cache
from pathlib import Path

import gradekit
from gradekit.assignments import bundled_assignments, load_assignment
from gradekit.batch import grade_all
from gradekit.components import KINDS
from gradekit.grading import Grader
from gradekit.sandbox.view import WORKER_MODULES

SUBMISSION = """\
import importlib

import gradekit

NAMES = {names!r}


@gradekit.hookimpl
def gradekit_register(registry):
    found = importlib.import_module({module!r}, __package__)
    for part in {qualname!r}.split("."):
        found = getattr(found, part)
    for kind, names in NAMES.items():
        for name in names:
            getattr(registry, kind)[name] = found
"""

PROBE = """\
import json
import pkgutil
import sysconfig

import gradekit

gradekit_modules = sorted(
    m.name for m in pkgutil.walk_packages(gradekit.__path__, "gradekit.")
)
stdlib = {{sysconfig.get_path("stdlib"), sysconfig.get_path("platstdlib")}}
outside = sorted(
    m.name
    for m in pkgutil.iter_modules()
    if not str(getattr(m.module_finder, "path", "")).startswith(tuple(stdlib))
)
expected = set({expected!r})
found = {{"extra": sorted(set(gradekit_modules) - expected), "outside": outside}}
found["missing"] = sorted(expected - set(gradekit_modules))
raise RuntimeError("VIEW:" + json.dumps(found))


@gradekit.hookimpl
def gradekit_register(registry):
    pass
"""


def _own(cls: type, method: str) -> bool:
    """Whether ``cls`` itself (not ``object`` or ``type``) defines ``method``."""
    return any(method in vars(c) for c in cls.__mro__ if c is not object)


@cache
def candidates() -> dict[tuple[str, str], tuple[str, ...]]:
    """(module, class) of every gradekit class that has the methods of a kind: its kinds."""
    modules = ["gradekit", *(m.name for m in pkgutil.walk_packages(gradekit.__path__, "gradekit."))]
    found = {}
    for name in modules:
        module = importlib.import_module(name)
        for cls in vars(module).values():
            if not (inspect.isclass(cls) and cls.__module__ == name):
                continue
            kinds = tuple(k for k, kind in KINDS.items() if all(_own(cls, m) for m in kind.methods))
            if kinds:
                found[(name, cls.__qualname__)] = kinds
    return found


@cache
def names_checked() -> dict[str, dict[str, set[str]]]:
    """Per bundled assignment: kind -> the names its checks exercise."""
    table: dict[str, dict[str, set[str]]] = {}
    for assignment in bundled_assignments():
        for check in load_assignment(assignment).spec.checks:
            table.setdefault(assignment, {}).setdefault(check.kind, set()).add(check.name)
    return table


def test_the_walk_finds_the_classes_that_look_like_components():
    """The walk is not empty: the contract's protocols and the trainer's helpers are found,
    so the grading below has something to refuse."""
    found = candidates()
    assert ("gradekit.regression", "ModelOptimizer") in found
    assert ("gradekit.regression", "LoggedModel") in found
    assert ("gradekit.components.layers", "Layer") in found


def test_no_class_gradekit_ships_earns_a_point(tmp_path):
    """Under the default backend: a class's behaviour does not depend on the backend, and
    what each backend lets a worker import is the next test's business."""
    folder = tmp_path / "class"
    folder.mkdir()
    subs: dict[str, list[tuple[str, Path]]] = {}
    for i, ((module, qualname), kinds) in enumerate(sorted(candidates().items())):
        for assignment, table in names_checked().items():
            names = {k: sorted(table[k]) for k in kinds if k in table}
            if not names:
                continue
            path = folder / f"c{i}_{assignment}.py"
            path.write_text(SUBMISSION.format(names=names, module=module, qualname=qualname))
            subs.setdefault(assignment, []).append((f"{module}:{qualname}", path))
    assert subs
    for assignment, entries in subs.items():
        grader = Grader(load_assignment(assignment))
        for result in grade_all(grader, entries, jobs=2):
            earned = {c.name: c.score for c in result.checks if c.score > 0}
            assert not earned, (result.submission, assignment, earned)


HONEST_RELU = """\
import numpy as np


class ReLU:
    def __init__(self):
        self.params, self.grads = {}, {}

    def forward(self, x, *, training=True):
        self.x = x
        return np.maximum(x, 0.0)

    def backward(self, dout):
        return dout * (self.x > 0)
"""


def test_a_real_class_registered_by_the_same_file_earns_its_points(tmp_path):
    """The generated file does work: a correct class registered through it, from a module
    the worker can import (the package's own), earns full marks."""
    package = tmp_path / "honest"
    package.mkdir()
    names = {"activations": ["relu"]}
    (package / "__init__.py").write_text(
        SUBMISSION.format(names=names, module=".impl", qualname="ReLU")
    )
    (package / "impl.py").write_text(HONEST_RELU)
    assignment = load_assignment("backprop")
    relu = [c for c in assignment.spec.checks if c.component == "activations/relu"]
    result = Grader(assignment.with_checks(relu)).grade(package)
    assert result.score == result.max_score > 0, [c.message for c in result.checks]


def test_a_worker_imports_only_the_view(backend, tmp_path):
    view = {
        "gradekit." + m.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
        for m in WORKER_MODULES
        if m != "__init__.py"
    }
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE.format(expected=sorted(view)))
    grader = Grader(load_assignment("training"), backend=backend)
    error = grader.grade(probe).load_error or ""
    seen = json.loads(error.split("VIEW:", 1)[1].split(" (probe.py", 1)[0])
    assert seen["extra"] == [] and seen["missing"] == [], seen
    assert set(seen["outside"]) <= {"gradekit", "numpy", "pluggy"}, seen["outside"]
