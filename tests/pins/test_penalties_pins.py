"""The weight-penalty check (``checks.penalties``), pinned: exact zeros among the weights
(L1's sign(0) = 0), probes that never cross the kink, and each case's verdict and message."""

from __future__ import annotations

import numpy as np
import pytest

from gradekit.checks.base import Target
from gradekit.checks.penalties import PenaltyCheck, PenaltyOptions
from gradekit.numerics import STEP
from gradekit.sandbox.runner import LocalSession
from gradekit_reference import COMPONENTS

KIND = PenaltyCheck()
L1 = COMPONENTS["penalties"]["l1"]
L2 = COMPONENTS["penalties"]["l2"]
NAMES = ["penalty(w1)", "grad(w1)", "penalty(w2)", "grad(w2)", "numeric"]


def target(factory=L1) -> Target:
    return Target("penalties", "l1", {"lam": 0.1}, 5, factory)


def judged(factory, options=None):
    options = options or PenaltyOptions()
    t = target()
    plan = KIND.plan(t, options)
    expected = LocalSession({("penalties", "l1"): L1}).run(plan)
    outcome = LocalSession({("penalties", "l1"): factory}).run(plan)
    return KIND.judge(t, options, plan, outcome, expected), plan


def test_the_weights_hold_exact_zeros_and_are_penalised_and_differentiated():
    plan = KIND.plan(target(), PenaltyOptions())
    w1, w2 = plan.meta["weights"]
    assert (w1.shape, w2.shape) == ((5, 4), (7,))
    assert np.sum(w1 == 0) == 3 and np.sum(w2 == 0) == 3
    for j, w in enumerate((w1, w2)):
        for method in ("penalty", "grad"):
            (op,) = [op for op in plan.ops if op.get("save") == f"{method}{j}"]
            assert op["method"] == method and op["watch"] is True
            assert np.array_equal(plan.arrays[op["args"][0]["array"]], w)
    few = KIND.plan(target(), PenaltyOptions(shapes=((2,),), zeros=5)).meta["weights"][0]
    assert np.all(few == 0)


def test_probes_stay_a_margin_away_from_the_kink():
    options = PenaltyOptions()
    plan = KIND.plan(target(), options)
    (smooth,) = [op for op in plan.ops if op.get("save") == "grad_smooth"]
    w0 = plan.arrays[smooth["args"][0]["array"]]
    assert w0.shape == (5, 4) and np.min(np.abs(w0)) >= 0.05
    probes = plan.meta["probes"]
    assert len(probes) == 2 + 3
    assert [coord for *_, coord in probes] == [False, False, True, True, True]
    h = min(STEP * max(1.0, float(np.max(np.abs(w0)))), 0.05 / 4)
    for v, step, keys, coord in probes:
        assert step == h
        assert v.shape == (5, 4)
        if coord:
            assert np.sum(v == 1.0) == 1 and np.sum(v == 0.0) == 19
        got = [
            plan.arrays[op["args"][0]["array"]]
            for k in keys
            for op in plan.ops
            if op.get("save") == k
        ]
        assert len(got) == 4
        for point, s in zip(got, [h, -h, h / 2, -h / 2], strict=True):
            assert np.allclose(point, w0 + s * v, rtol=0, atol=1e-15)
    coords = [tuple(np.argwhere(v)[0]) for v, *_, coord in probes if coord]
    assert len(set(coords)) == 3
    wide = KIND.plan(target(), PenaltyOptions(margin=1e-6)).meta["probes"]
    assert all(step == 1e-6 / 4 for _, step, _, _ in wide)


def test_the_reference_passes_every_case():
    cases, _ = judged(L1)
    assert [c.name for c in cases][:5] == NAMES
    assert len(cases) == 6
    assert all(c.passed and c.message == "" for c in cases)
    assert [c.compared for c in cases] == [True, True, True, True, False, False]


class SignOfZeroIsOne(L1):
    """L1 whose subgradient at 0 is +1 (``w >= 0``), not sign(0) = 0."""

    def grad(self, w):
        return self.lam * np.where(np.asarray(w) >= 0, 1.0, -1.0)


def test_a_wrong_subgradient_at_zero_is_named_at_the_zero_weight():
    cases, plan = judged(SignOfZeroIsOne)
    by_name = {c.name: c for c in cases}
    assert by_name["penalty(w1)"].passed and by_name["numeric"].passed
    grad = by_name["grad(w1)"]
    assert grad.passed is False and grad.message.startswith("grad(w1)[")
    w1 = plan.meta["weights"][0]
    i, j = (int(a) for a in np.argwhere(w1 == 0)[0])
    assert grad.message.endswith(
        f"; at the zero weight w1[{i}, {j}] the gradient is 0.1, expected 0 (sign(0) = 0)"
    )
    assert "at the zero weight w2[" in by_name["grad(w2)"].message


class Doubled(L1):
    def grad(self, w):
        return 2 * super().grad(w)


def test_a_gradient_off_everywhere_names_no_zero_weight_and_fails_the_slope():
    cases, _ = judged(Doubled)
    by_name = {c.name: c for c in cases}
    assert not by_name["grad(w1)"].passed
    assert "zero weight" not in by_name["grad(w1)"].message
    numeric = by_name["numeric"]
    assert not numeric.passed and not numeric.compared
    assert numeric.message.startswith("numeric: grad(w1)")
    assert "from your grad, expected" in numeric.message
    assert "from central differences of your penalty; relative error" in numeric.message
    assert numeric.message.endswith("> tolerance 1e-06")


@pytest.mark.parametrize(("factor", "passes"), [(1 + 1e-7, True), (1 + 1e-5, False)])
def test_the_slope_tolerance_is_1e_6_relative(factor, passes):
    class Off(L1):
        def grad(self, w):
            return factor * super().grad(w)

    cases, _ = judged(Off)
    assert {c.name: c for c in cases}["numeric"].passed is passes


def test_a_penalty_that_is_not_a_number_is_said_so():
    class Listed(L1):
        def penalty(self, w):
            return [super().penalty(w)]

    cases, _ = judged(Listed)
    by_name = {c.name: c for c in cases}
    assert not by_name["penalty(w1)"].passed and by_name["penalty(w1)"].message
    assert by_name["grad(w1)"].passed
    assert not by_name["numeric"].passed
    assert by_name["numeric"].message.startswith("numeric: ")


def test_a_wrong_penalty_value_fails_only_its_case():
    class Heavier(L1):
        def penalty(self, w):
            return 1.5 * super().penalty(w)

    cases, _ = judged(Heavier)
    assert [c.name for c in cases if not c.passed] == ["penalty(w1)", "penalty(w2)", "numeric"]
    assert cases[0].message.startswith("penalty(w1): received ")


def test_l2_needs_no_zero_to_pass():
    options = PenaltyOptions()
    t = Target("penalties", "l2", {"lam": 0.1}, 5, L2)
    plan = KIND.plan(t, options)
    expected = LocalSession({("penalties", "l2"): L2}).run(plan)
    assert all(c.passed for c in KIND.judge(t, options, plan, expected, expected))


@pytest.mark.parametrize(
    ("factory", "failed"),
    [
        (
            "GradRaises",
            {
                "grad(w1)": "grad(w1): not computed, your code raised ValueError: no grad",
                "numeric": "numeric: grad: not computed, your code raised ValueError: no grad",
            },
        ),
        (
            "Listed",
            {
                "penalty(w1)": "penalty(w1): expected a number, received list",
                "numeric": "numeric: penalty at a probe: expected a number, received list",
            },
        ),
        (
            "Ravel",
            {
                "grad(w1)": "grad(w1): expected shape (5, 4), received shape (20,)",
                "numeric": "numeric: grad: expected shape (5, 4), received shape (20,)",
            },
        ),
        (
            "GradList",
            {
                "grad(w1)": "grad(w1): expected an ndarray, received list",
                "numeric": "numeric: grad: expected an ndarray, received list",
            },
        ),
    ],
)
def test_unusable_answers_are_said_by_case(factory, failed):
    class GradRaises(L1):
        def grad(self, w):
            raise ValueError("no grad")

    class Listed(L1):
        def penalty(self, w):
            return [super().penalty(w)]

    class Ravel(L1):
        def grad(self, w):
            return super().grad(w).ravel()

    class GradList(L1):
        def grad(self, w):
            return super().grad(w).tolist()

    made = {c.__name__: c for c in (GradRaises, Listed, Ravel, GradList)}
    cases, _ = judged(made[factory])
    by_name = {c.name: c for c in cases}
    for name, message in failed.items():
        assert (by_name[name].passed, by_name[name].message) == (False, message)
    assert by_name["numeric"].compared is False


def test_an_input_changed_in_place_is_named_by_its_call():
    class InPlace(L1):
        def penalty(self, w):
            w *= 1.0001
            return super().penalty(w)

    class GradInPlace(L1):
        def grad(self, w):
            out = super().grad(w)
            w *= 1.0
            w += 1e-3
            return out

    cases, _ = judged(InPlace)
    assert (cases[-1].passed, cases[-1].message) == (False, "penalty modified its input in place")
    cases, _ = judged(GradInPlace)
    assert (cases[-1].passed, cases[-1].message) == (False, "grad modified its input in place")


def test_a_gradient_tiny_but_not_zero_at_zero_passes_yet_is_named_when_wrong():
    """At w = 0 the subgradient must be exactly 0 to be named right; within the tolerance
    of the whole array the case still passes, and says nothing."""

    class Tiny(L1):
        def grad(self, w):
            return super().grad(w) + np.where(np.asarray(w) == 0, 1e-12, 0.0)

    class TinyAndDoubled(L1):
        def grad(self, w):
            return 2 * super().grad(w) + np.where(np.asarray(w) == 0, 1e-12, 0.0)

    cases, _ = judged(Tiny)
    assert cases[1].passed and cases[1].message == ""
    cases, plan = judged(TinyAndDoubled)
    grad = cases[1]
    assert grad.message.startswith("grad(w1)[")
    i, j = (int(a) for a in np.argwhere(plan.meta["weights"][0] == 0)[0])
    assert grad.message.endswith(
        f"; at the zero weight w1[{i}, {j}] the gradient is 1e-12, expected 0 (sign(0) = 0)"
    )


def test_a_wrong_entry_of_the_slope_is_named_by_its_coordinate():
    _, plan = judged(L1)
    coords = [v for v, *_, coord in plan.meta["probes"] if coord]
    (i, j) = (int(a) for a in np.argwhere(coords[0])[0])

    class OneWrong(L1):
        def grad(self, w):
            out = np.array(super().grad(w), dtype=float)
            if np.shape(w) == (5, 4) and np.all(w != 0):
                out[i, j] *= 10
            return out

    by_name = {c.name: c for c in judged(OneWrong)[0]}
    assert by_name["numeric"].message.startswith(f"numeric: grad(w1)[{i}, {j}]: received ")


@pytest.mark.parametrize(("factor", "passes"), [(1 + 1e-7, True), (1 + 3e-6, False)])
def test_the_slope_error_is_relative_to_small_penalties_too(factor, passes):
    """With lam = 0.01 the slopes are about 0.01: the error is still relative to them."""

    class Off(L1):
        def grad(self, w):
            return factor * super().grad(w)

    options = PenaltyOptions()
    t = Target("penalties", "l1", {"lam": 0.01}, 5, L1)
    plan = KIND.plan(t, options)
    expected = LocalSession({("penalties", "l1"): L1}).run(plan)
    outcome = LocalSession({("penalties", "l1"): Off}).run(plan)
    numeric = {c.name: c for c in KIND.judge(t, options, plan, outcome, expected)}["numeric"]
    assert numeric.passed is passes
    assert (numeric.message == "") is passes


@pytest.mark.parametrize("seed", range(8))
def test_zeros_and_sampled_entries_are_distinct_for_every_seed(seed):
    options = PenaltyOptions(shapes=((2, 2),), zeros=4, samples=4)
    plan = KIND.plan(Target("penalties", "l1", {"lam": 0.1}, seed, L1), options)
    assert np.all(plan.meta["weights"][0] == 0)
    coords = {tuple(np.argwhere(v)[0]) for v, *_, coord in plan.meta["probes"] if coord}
    assert len(coords) == 4
    (smooth,) = [op for op in plan.ops if op.get("save") == "grad_smooth"]
    w0 = plan.arrays[smooth["args"][0]["array"]]
    h = min(STEP * max(1.0, float(np.max(np.abs(w0)))), options.margin / 4)
    assert all(step == h for _, step, _, _ in plan.meta["probes"])


def test_an_exact_slope_passes_at_zero_tolerance():
    """The slope passes when its error is at most the tolerance: with no penalty at all
    (lam = 0) both slopes are exactly 0, which passes even a tolerance of 0."""
    options = PenaltyOptions(numeric_rtol=0.0)
    t = Target("penalties", "l1", {"lam": 0.0}, 5, L1)
    plan = KIND.plan(t, options)
    outcome = LocalSession({("penalties", "l1"): L1}).run(plan)
    numeric = {c.name: c for c in KIND.judge(t, options, plan, outcome, outcome)}["numeric"]
    assert (numeric.passed, numeric.message) == (True, "")


class NoGrad(L1):
    def grad(self, w):
        return np.zeros_like(w)


def test_among_equally_wrong_slopes_the_first_probe_is_named():
    """A gradient of zeros is off by a relative error of exactly 1 wherever the penalty
    slopes: the message names the first such probe, a random direction."""
    cases, plan = judged(NoGrad)
    numeric = {c.name: c for c in cases}["numeric"]
    assert plan.meta["probes"][0][-1] is False
    assert numeric.message.startswith("numeric: grad(w1) along a random direction: received 0 ")
    assert "relative error 1.0e+00 > tolerance" in numeric.message
