"""Loading plugins and submissions: provenance, isolation, and one-line errors."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

import gradekit
from gradekit import SubmissionError, load_catalog
from gradekit_reference import COMPONENTS

GOOD = """
    import gradekit

    class ReLU:
        '''My relu.'''
        def __init__(self):
            self.params, self.grads = {}, {}
        def forward(self, x, *, training=True):
            return x
        def backward(self, dout):
            return dout

    @gradekit.hookimpl
    def gradekit_register(registry):
        registry.activations["relu"] = ReLU
"""


def write(folder: Path, name: str, source: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source))
    return path


def test_reference_registers_every_component_with_its_provenance():
    catalog = load_catalog(installed=False)
    for kind, table in COMPONENTS.items():
        assert catalog.names(kind) == sorted(table)
        for name, factory in table.items():
            entry = catalog.get(kind, name)
            assert entry is not None and entry.factory is factory
            assert entry.source.origin == "reference"


def test_submission_overrides_the_reference_and_keeps_history(tmp_path):
    sub = write(tmp_path, "student.py", GOOD)
    catalog = load_catalog(sub, installed=False)
    winner = catalog.get("activations", "relu")
    assert winner.source.origin == "submission" and winner.source.location == str(sub)
    assert winner.summary == "My relu."
    assert (
        catalog.get("activations", "relu", origin="reference").factory
        is COMPONENTS["activations"]["relu"]
    )
    assert catalog.names("activations", origin="submission") == ["relu"]


def test_two_submissions_with_the_same_file_name_do_not_leak(tmp_path):
    a = write(tmp_path / "alice", "submission.py", GOOD)
    b = write(tmp_path / "bob", "submission.py", GOOD.replace("My relu.", "Bob's relu."))
    before = set(sys.path)
    first = load_catalog(a, reference=False, installed=False).get("activations", "relu")
    second = load_catalog(b, reference=False, installed=False).get("activations", "relu")
    assert first.summary == "My relu." and second.summary == "Bob's relu."
    assert first.factory is not second.factory
    assert set(sys.path) == before


def test_package_submission_with_relative_imports(tmp_path):
    pkg = tmp_path / "mypkg"
    write(pkg, "acts.py", GOOD.split("@gradekit.hookimpl")[0])
    write(
        pkg,
        "__init__.py",
        """
        import gradekit
        from .acts import ReLU

        @gradekit.hookimpl
        def gradekit_register(registry):
            registry.activations["relu"] = ReLU
        """,
    )
    catalog = load_catalog(pkg, reference=False, installed=False)
    assert catalog.get("activations", "relu").source.origin == "submission"


BAD = {
    "syntax error": (
        "def gradekit_register(registry)\n    pass\n",
        r"syntax error \(bad\.py, line 1\)",
    ),
    "import fails": (
        "import numpy\nraise RuntimeError('boom')\n",
        r"importing it raised RuntimeError: boom \(bad\.py, line 2\)",
    ),
    "missing module": (
        "import no_such_module_xyz\n",
        r"importing it raised ModuleNotFoundError: No module named 'no_such_module_xyz'",
    ),
    "exits at import": ("import sys\nsys.exit(3)\n", r"importing it raised SystemExit: 3"),
    "no hook": ("x = 1\n", r"no gradekit_register hook"),
    "hook not marked": (
        "def gradekit_register(registry):\n    pass\n",
        r"not decorated with @gradekit\.hookimpl",
    ),
    "wrong signature": (
        "import gradekit\n@gradekit.hookimpl\ndef gradekit_register(reg, extra):\n    pass\n",
        r"gradekit_register\(reg, extra\) has a wrong signature: expected \(registry\)",
    ),
    "not callable": (
        "import gradekit\n@gradekit.hookimpl\ndef gradekit_register(registry):\n"
        "    registry.activations['relu'] = 42\n",
        r"registry\.activations\['relu'\] must be a class or callable .* got int 42",
    ),
    "unknown kind": (
        "import gradekit\n@gradekit.hookimpl\ndef gradekit_register(registry):\n"
        "    registry.activation['relu'] = object\n",
        r"unknown kind registry\.activation \(did you mean 'activations'\?\)",
    ),
    "duplicate name": (
        "import gradekit\n@gradekit.hookimpl\ndef gradekit_register(registry):\n"
        "    registry.optimizers['sgd'] = object\n    registry.optimizers['sgd'] = dict\n",
        r"registry\.optimizers\['sgd'\] is registered twice by the same plugin",
    ),
    "hook raises": (
        "import gradekit\n@gradekit.hookimpl\ndef gradekit_register(registry):\n"
        "    raise KeyError('oops')\n",
        r"gradekit_register raised KeyError: 'oops' \(bad\.py, line 4\)",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_submission_gets_a_one_line_error_naming_the_file(tmp_path, case):
    source, pattern = BAD[case]
    path = tmp_path / "bad.py"
    path.write_text(source)
    with pytest.raises(SubmissionError, match=pattern) as info:
        load_catalog(path, installed=False)
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    assert "\n" not in message


@pytest.mark.parametrize(
    ("make", "pattern"),
    [
        (lambda d: d / "missing.py", "no such file or folder"),
        (lambda d: write(d, "notes.txt", "hello"), r"a \.py file or a package folder"),
        (lambda d: (d / "emptypkg").mkdir() or d / "emptypkg", "needs an __init__.py"),
    ],
)
def test_a_path_that_is_not_a_submission(tmp_path, make, pattern):
    with pytest.raises(SubmissionError, match=pattern):
        gradekit.import_submission(make(tmp_path))


def test_missing_methods_are_reported_per_protocol(tmp_path):
    sub = write(
        tmp_path,
        "half.py",
        """
        import gradekit

        class Adam:
            def init(self, param):
                return {}

        @gradekit.hookimpl
        def gradekit_register(registry):
            registry.optimizers["adam"] = Adam
            registry.initializers["he"] = lambda shape, rng: None
        """,
    )
    catalog = load_catalog(sub, reference=False, installed=False)
    assert catalog.get("optimizers", "adam").missing_methods() == ["update"]
    assert catalog.get("initializers", "he").missing_methods() == []
