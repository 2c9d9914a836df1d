"""A float32 answer is told so first: "forward returned float32; return float64", before
any relative error, and never as a wrong backward or the student's own exception."""

from __future__ import annotations

import numpy as np
import pytest

from gradekit.sandbox.runner import LocalSession
from gradekit_reference import COMPONENTS

from .conftest import grader

TANH = COMPONENTS["activations"]["tanh"]
SQUARED = COMPONENTS["losses"]["squared_error"]
FLIP = COMPONENTS["transforms"]["flip"]


class Tanh32(TANH):
    """Right to float32 precision, returned as float32."""

    def forward(self, x, *, training=True):
        return super().forward(x, training=training).astype(np.float32)


class Squared32(SQUARED):
    """The loss as a numpy float32 scalar."""

    def forward(self, y, t):
        return np.float32(super().forward(y, t))


class Flip32(FLIP):
    """Flipped images handed back as float32."""

    def __call__(self, x, y, rng):
        x, y = super().__call__(x, y, rng)
        return x.astype(np.float32), y


def verdicts(assignment: str, kind: str, name: str, factory, check_type: str | None = None):
    g = grader(assignment)
    checks = [
        c
        for c in g.checks
        if (c.target.kind, c.target.name) == (kind, name) and check_type in (None, c.spec.type)
    ]
    session = LocalSession({(kind, name): factory})
    return [g.verdict(c, session.run(c.plan)) for c in checks]


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        (("backprop", "activations", "tanh", Tanh32, "gradient"), "forward returned float32"),
        (("backprop", "losses", "squared_error", Squared32), "forward returned float32"),
        (
            ("regularization", "transforms", "flip", Flip32),
            "the contract: call 1: returned x of dtype float32; return float64",
        ),
    ],
    ids=["float32 forward", "float32 loss", "float32 transform"],
)
def test_a_narrower_float_is_named_before_any_number(case, expected):
    results = verdicts(*case)
    assert results
    for result in results:
        assert result.status != "passed"
        assert result.message.startswith(expected), result.message
        assert "your code raised" not in result.message


@pytest.mark.parametrize(
    ("kind", "name", "assignment"),
    [
        ("activations", "tanh", "backprop"),
        ("losses", "squared_error", "backprop"),
        ("transforms", "flip", "regularization"),
    ],
)
def test_the_reference_returns_float64_everywhere(kind, name, assignment):
    results = verdicts(assignment, kind, name, COMPONENTS[kind][name])
    assert results and all(r.status == "passed" for r in results)
    assert not any(c.name == "float64 outputs" for r in results for c in r.cases)
