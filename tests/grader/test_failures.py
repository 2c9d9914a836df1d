"""A submission that raises, returns the wrong thing or lacks a component fails those
checks only, with a clear status; its other checks still run and pass."""

from __future__ import annotations

import textwrap

import pytest

from .conftest import grader

BASE = """
import numpy as np
import gradekit

class Tanh:
    def __init__(self):
        self.params, self.grads = {}, {}
    def forward(self, x, *, training=True):
        self.y = np.tanh(x)
        return self.y
    def backward(self, dout):
        return dout * (1 - self.y ** 2)

class Broken(Tanh):
    def forward(self, x, *, training=True):
        self.y = np.tanh(x)
        BODY

@gradekit.hookimpl
def gradekit_register(registry):
    registry.activations["tanh"] = Tanh
    registry.activations["relu"] = Broken
"""

CASES = {
    "raises": ("raise ValueError('half done')", "error", "your code raised ValueError: half done"),
    "wrong shape": ("return x[:, :2]", "failed", "expected shape (4, 6), received shape (4, 2)"),
    "nan": ("return x * np.nan", "failed", "non-finite value nan"),
    "list": ("return x.tolist()", "failed", "expected an ndarray, received list"),
    "forged equality": (
        "class Liar:\n            __eq__ = lambda s, o: True\n        return Liar()",
        "failed",
        "expected an ndarray, received Liar",
    ),
}


def write(tmp_path, body):
    path = tmp_path / "student.py"
    path.write_text(textwrap.dedent(BASE).replace("BODY", body))
    return path


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_return_fails_only_that_component(tmp_path, case):
    body, status, needle = CASES[case]
    result = grader("backprop").grade(write(tmp_path, body))
    by_name = {c.name: c for c in result.checks}
    relu = by_name["relu.gradient"]
    assert relu.status == status and relu.score < relu.max_score
    assert needle in relu.message
    assert by_name["relu.values"].score == 0
    assert by_name["tanh.gradient"].status == "passed"
    assert by_name["tanh.values"].status == "passed"
    if case == "raises":
        assert "student.py" in relu.output and "half done" in relu.output


def test_missing_component_is_an_error_of_its_checks_only(tmp_path):
    result = grader("backprop").grade(write(tmp_path, "return x"))
    by_name = {c.name: c for c in result.checks}
    sigmoid = by_name["sigmoid.gradient"]
    assert sigmoid.status == "error" and sigmoid.score == 0
    assert "the submission registers no activations 'sigmoid'" in sigmoid.message
    assert by_name["tanh.gradient"].status == "passed"


def test_submission_that_does_not_load_gets_zero_with_the_reason(tmp_path):
    path = tmp_path / "student.py"
    path.write_text("import numpy as np\ndef broken(:\n")
    result = grader("backprop").grade(path)
    assert result.score == 0
    assert "syntax error (student.py, line 2)" in result.load_error
    assert all(c.status == "error" and "did not load" in c.message for c in result.checks)


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ("return np.maximum(x, 0).astype(np.float32)", "returned float32; return float64"),
        ("return np.tanh(x).astype(np.float32)", "it also returned float32, not float64"),
    ],
    ids=["float32 only", "float32 and wrong"],
)
def test_a_dtype_problem_is_named_before_the_numbers(tmp_path, body, needle):
    """Values right to float32 precision fail for their dtype, not for their digits; wrong
    values fail for their digits, with the dtype as a note."""
    result = grader("backprop").grade(write(tmp_path, body))
    values = next(c for c in result.checks if c.name == "relu.values")
    assert values.status == "failed"
    assert needle in values.message, values.message
