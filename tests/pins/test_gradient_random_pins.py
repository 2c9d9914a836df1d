"""The gradient check of a random layer (``reference = false``), pinned: dropout's and
DropConnect's masked arrays compared on the entries both masks keep, the shapes case, and
backward's linearity judged against the student's own backwards (tolerance 1e-8)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from gradekit.checks.base import Target
from gradekit.checks.gradient import Gradient, GradientOptions
from gradekit.sandbox.runner import LocalSession
from gradekit_reference import COMPONENTS

KIND = Gradient()
DROPOUT = COMPONENTS["layers"]["dropout"]
DROPCONNECT = COMPONENTS["layers"]["dropconnect"]
P = 0.6
MASKED = GradientOptions(fixed_seed=7, reference=False, masked=("y", "dx"), batch=8, features=12)
"""The bundled dropout check's options (assignments/regularization)."""
WEIGHTS = GradientOptions(fixed_seed=11, reference=False, masked=("dW",))
"""The bundled DropConnect check's options."""


def dropout() -> Target:
    return Target("layers", "dropout", {"p": P}, 5, DROPOUT)


def dropconnect() -> Target:
    return Target("layers", "dropconnect", {"din": 10, "dout": 8, "p": P}, 5, DROPCONNECT)


def run(t: Target, factory, options: GradientOptions):
    plan = KIND.plan(t, options)
    expected = LocalSession({(t.kind, t.name): t.reference}).run(plan)
    outcome = LocalSession({(t.kind, t.name): factory}).run(plan)
    return plan, outcome, expected


def judged(t: Target, factory, options: GradientOptions):
    plan, outcome, expected = run(t, factory, options)
    return {c.name: c for c in KIND.judge(t, options, plan, outcome, expected)}


class Masked(DROPOUT):
    """Dropout whose mask is ``keep(u)`` of the same uniform draws, scaled by ``scale``."""

    keep = staticmethod(lambda u, p: u < p)
    scale = 1 / P

    def forward(self, x, *, training=True):
        u = self.rng.random(np.shape(x))
        self._mask = self.keep(u, self.p) * self.scale
        return np.asarray(x, dtype=np.float64) * self._mask


def test_a_random_layer_has_shapes_masked_arrays_and_self_consistency_cases():
    cases = judged(dropout(), DROPOUT, MASKED)
    assert [(n, c.passed, c.weight, c.compared) for n, c in cases.items()] == [
        ("shapes", True, 1.0, False),
        ("y", True, 1.0, True),
        ("dx", True, 1.0, True),
        ("linear in dout", True, 0.5, False),
        ("numeric", True, 1.0, False),
        ("inputs unchanged", True, 0.5, False),
    ]
    assert all(c.message == "" for c in cases.values())
    cases = judged(dropconnect(), DROPCONNECT, WEIGHTS)
    assert list(cases) == ["shapes", "dW", "linear in dout", "numeric", "inputs unchanged"]
    assert all(c.passed for c in cases.values())


def test_without_the_reference_nothing_but_the_masked_arrays_is_compared():
    """Another mask of the same keep rate passes: only kept entries are compared."""

    class OtherMask(Masked):
        keep = staticmethod(lambda u, p: u > 1 - p)

    cases = judged(dropout(), OtherMask, MASKED)
    assert all(c.passed for c in cases.values()), cases
    _, outcome, expected = run(dropout(), OtherMask, MASKED)
    assert not np.array_equal(outcome.values["y"] != 0, expected.values["y"] != 0)


def test_a_kept_entry_off_by_the_missing_rescale_is_named_on_the_kept_entries():
    class NoRescale(Masked):
        scale = 1.0

    plan, outcome, expected = run(dropout(), NoRescale, MASKED)
    cases = {c.name: c for c in KIND.judge(dropout(), MASKED, plan, outcome, expected)}
    y = cases["y"]
    assert y.passed is False and y.weight == 1.0
    found = re.fullmatch(
        r"y\[(\d+)\]: received (\S+), expected (\S+) on the entries both masks keep; "
        r"relative error (\S+) > tolerance 1e-07 \((\d+) of (\d+) entries wrong\)",
        y.message,
    )
    assert found, y.message
    got, want = outcome.values["y"], expected.values["y"]
    both = (got != 0) & (want != 0)
    k = int(found[1])
    assert float(found[2]) == pytest.approx(got[both][k], rel=1e-5)
    assert float(found[3]) == pytest.approx(want[both][k], rel=1e-5)
    assert float(found[2]) / float(found[3]) == pytest.approx(P, rel=1e-5)
    assert int(found[5]) == int(found[6]) == both.sum()
    assert found[4] == f"{(1 - P) / 2:.1e}"  # |0.6 e - e| / (|e| + max|e|) at the largest e


@pytest.mark.parametrize(
    ("keep", "message"),
    [
        (lambda u, p: u > 2, "y: every entry is 0: the mask keeps no unit"),
        (lambda u, p: u < 2, "y: no entry is 0: the mask drops no unit"),
        (lambda u, p: u >= p, "y: no entry is kept by both masks"),
    ],
    ids=["drops-all", "drops-none", "complement"],
)
def test_a_mask_that_keeps_all_none_or_only_the_others_entries_fails(keep, message):
    class Wrong(Masked):
        pass

    Wrong.keep = staticmethod(keep)
    cases = judged(dropout(), Wrong, MASKED)
    assert (cases["y"].passed, cases["y"].message, cases["y"].weight) == (False, message, 1.0)
    assert cases["dx"].message == message.replace("y:", "dx:", 1)


def test_at_test_time_a_mask_that_keeps_everything_passes():
    """Evaluation keeps every unit (the reference drops none), so nothing dropped is right,
    and the kept values are still compared."""
    options = MASKED.model_copy(update={"training": False})

    class Rescales(DROPOUT):
        def forward(self, x, *, training=True):
            return super().forward(x, training=training) / P

    cases = judged(dropout(), DROPOUT, options)
    assert cases["y"].passed and cases["dx"].passed
    wrong = judged(dropout(), Rescales, options)["y"]
    assert wrong.passed is False and "on the entries both masks keep" in wrong.message


def test_when_the_reference_keeps_nothing_a_mask_that_keeps_nothing_passes():
    t = Target("layers", "dropout", {"p": 1e-12}, 5, DROPOUT)
    _, _, expected = run(t, DROPOUT, MASKED)
    assert not expected.values["y"].any()
    cases = judged(t, DROPOUT, MASKED)
    assert cases["y"].passed and cases["dx"].passed


def test_a_masked_array_of_the_wrong_shape_or_missing_is_named():
    class Narrow(DROPOUT):
        def forward(self, x, *, training=True):
            return super().forward(x, training=training)[:, :-1]

    cases = judged(dropout(), Narrow, MASKED)
    assert cases["y"].message == "y: expected shape (8, 12), received shape (8, 11)"
    assert cases["y"].passed is False
    no_w = judged(dropout(), DROPOUT, MASKED.model_copy(update={"masked": ("dW",)}))
    assert (no_w["dW"].passed, no_w["dW"].message) == (False, "dW: no reference")

    class NoGrads(DROPCONNECT):
        def backward(self, dout):
            out = super().backward(dout)
            self.grads = None
            return out

    cases = judged(dropconnect(), NoGrads, WEIGHTS)
    assert cases["dW"].message == "dW: expected an ndarray, received NoneType"


def test_a_masked_gradient_is_compared_on_the_weights_both_masks_keep():
    class HalfGradient(DROPCONNECT):
        def backward(self, dout):
            out = super().backward(dout)
            self.grads["W"] = self.grads["W"] / 2
            return out

    cases = judged(dropconnect(), HalfGradient, WEIGHTS)
    assert cases["dW"].passed is False
    assert cases["dW"].message.startswith("dW[")
    assert "on the entries both masks keep; relative error 2.5e-01 > tolerance 1e-07" in (
        cases["dW"].message
    )


def test_the_shapes_case_names_up_to_three_arrays_of_the_wrong_shape():
    class Narrow(DROPCONNECT):
        def forward(self, x, *, training=True):
            return super().forward(x, training=training)[:, :-1]

        def backward(self, dout):
            out = super().backward(dout)
            self.grads = {"W": self.grads["W"][:-1], "b": self.grads["b"][:-1]}
            return out[:, :-1]

    shapes = judged(dropconnect(), Narrow, WEIGHTS)["shapes"]
    assert (shapes.passed, shapes.weight, shapes.compared) == (False, 1.0, False)
    assert shapes.message == (
        "forward: expected shape (4, 8), received shape (4, 7); "
        "dx: expected shape (4, 10), received shape (4, 9); "
        "dW: expected shape (10, 8), received shape (9, 8)"
    )


def test_the_shapes_case_names_a_missing_or_non_finite_gradient():
    class NoBias(DROPCONNECT):
        def backward(self, dout):
            out = super().backward(dout)
            del self.grads["b"]
            return out

    class NanGrads(DROPCONNECT):
        def backward(self, dout):
            super().backward(dout)
            self.grads = None
            return np.full((4, 10), np.nan)

    shapes = judged(dropconnect(), NoBias, WEIGHTS)["shapes"]
    assert shapes.message == "db: expected an ndarray, received NoneType"
    shapes = judged(dropconnect(), NanGrads, WEIGHTS)["shapes"]
    assert shapes.message == (
        "dx: non-finite value nan at index [0, 0]; "
        "dW: expected an ndarray, received NoneType; db: expected an ndarray, received NoneType"
    )


class LateDrift(DROPOUT):
    """Dropout whose third backward, ``backward(2 a - 3 b)``, is off by ``1 + delta``."""

    delta = 0.0
    calls = 0

    def backward(self, dout):
        self.calls += 1
        out = super().backward(dout)
        return out * (1 + self.delta) if self.calls == 3 else out


@pytest.mark.parametrize(("delta", "passed"), [(1.8e-8, True), (2.2e-8, False)])
def test_self_linearity_holds_to_1e_8(delta, passed):
    """``dx(2 a - 3 b)`` off by (1 + delta) has relative error delta / 2 at the largest
    entry: 0.9e-8 passes the tolerance 1e-8, 1.1e-8 fails it."""
    drift = type("Drift", (LateDrift,), {"delta": delta})
    cases = judged(dropout(), drift, MASKED)
    linear = cases["linear in dout"]
    assert (linear.passed, linear.weight, linear.compared) == (passed, 0.5, False)
    assert cases["dx"].passed and cases["numeric"].passed
    if passed:
        assert linear.message == ""
    else:
        assert re.fullmatch(
            r"linear in dout: backward must be linear in the upstream gradient; dx\[\d+, \d+\]: "
            r"received \S+, expected \S+ from the 2 dx\(a\) - 3 dx\(b\); relative error 1\.1e-08 "
            r"> tolerance 1e-08 \(\d+ of 96 entries wrong\)",
            linear.message,
        ), linear.message


@pytest.mark.parametrize("call", [2, 3])
def test_self_linearity_needs_three_backwards_of_one_shape(call):
    class Missing(DROPOUT):
        calls = 0

        def backward(self, dout):
            self.calls += 1
            return None if self.calls == call else super().backward(dout)

    class Narrow(DROPOUT):
        calls = 0

        def backward(self, dout):
            self.calls += 1
            out = super().backward(dout)
            return out[:, :-1] if self.calls == call else out

    linear = judged(dropout(), Missing, MASKED)["linear in dout"]
    assert (linear.passed, linear.weight, linear.compared) == (False, 0.5, False)
    assert linear.message == "linear in dout: backward was not computed three times"
    linear = judged(dropout(), Narrow, MASKED)["linear in dout"]
    assert (linear.passed, linear.weight, linear.compared) == (False, 0.5, False)
    assert linear.message == "linear in dout: backward returned arrays of different shapes"
