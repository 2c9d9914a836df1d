"""Malformed answers and unusable options get a verdict or an error that says what is
wrong, never a judge's crash ("gradekit could not judge") that blames the grader."""

from __future__ import annotations

import pytest

from gradekit.assignments import AssignmentError, load_assignment
from gradekit.checks.base import Target
from gradekit.checks.gradient import Gradient, GradientOptions
from gradekit.grading import Grader
from gradekit.sandbox.runner import LocalSession
from gradekit_reference import COMPONENTS

LINEAR = COMPONENTS["layers"]["linear"]


class ListGrads(LINEAR):
    """A correct forward and dx, but ``grads`` a list of the right arrays, not a dict."""

    def backward(self, dout):
        out = super().backward(dout)
        self.grads = [self.grads["W"], self.grads["b"]]
        return out


def test_grads_that_are_not_a_dict_fail_their_cases_and_pass_the_rest():
    target = Target("layers", "linear", {"din": 3, "dout": 2}, 5, LINEAR)
    options, kind = GradientOptions(), Gradient()
    plan = kind.plan(target, options)
    expected = LocalSession({("layers", "linear"): LINEAR}).run(plan)
    outcome = LocalSession({("layers", "linear"): ListGrads}).run(plan)
    cases = {c.name: c for c in kind.judge(target, options, plan, outcome, expected)}
    failed = [c for c in cases.values() if not c.passed]
    assert failed, "a list of grads passed"
    assert any("expected a dict of arrays" in c.message for c in failed), failed
    assert cases["forward"].passed and cases["dx"].passed


def test_no_reference_for_a_loss_is_an_assignment_error(tmp_path):
    folder = tmp_path / "a"
    folder.mkdir()
    (folder / "assignment.toml").write_text(
        'schema_version = 1\nname = "a"\ntitle = "A"\nseed = 1\n\n'
        '[[checks]]\nid = "mse.gradient"\ntype = "gradient"\n'
        'component = "losses/squared_error"\npoints = 1\n'
        "[checks.options]\nreference = false\n"
    )
    with pytest.raises(AssignmentError, match=r"check mse\.gradient: reference = false"):
        Grader(load_assignment(folder))
