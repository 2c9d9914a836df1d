"""The gradient check's cases against the reference, pinned: each tolerance just inside and
outside (forward, dx, each parameter's gradient, the loss, the probes, linearity), the
numeric case's message fields, purity, the kink's convention, and what stops a case."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from gradekit.checks.base import Target
from gradekit.checks.central_differences import probe_errors
from gradekit.checks.gradient import KINKS, Gradient, GradientOptions
from gradekit.sandbox.runner import LocalSession
from gradekit_reference import COMPONENTS

KIND = Gradient()
TANH = COMPONENTS["activations"]["tanh"]
RELU = COMPONENTS["activations"]["relu"]
LINEAR = COMPONENTS["layers"]["linear"]
SQUARED = COMPONENTS["losses"]["squared_error"]
DROPOUT = COMPONENTS["layers"]["dropout"]
CONTRACT = Path(__file__).resolve().parents[2] / "docs" / "contract.md"


def tanh() -> Target:
    return Target("activations", "tanh", {}, 5, TANH)


def linear() -> Target:
    return Target("layers", "linear", {"din": 3, "dout": 2}, 5, LINEAR)


def squared() -> Target:
    return Target("losses", "squared_error", {}, 5, SQUARED)


def run(t: Target, factory, options: GradientOptions | None = None, expected_factory=None):
    options = options or GradientOptions()
    plan = KIND.plan(t, options)
    expected = LocalSession({(t.kind, t.name): expected_factory or t.reference}).run(plan)
    outcome = LocalSession({(t.kind, t.name): factory}).run(plan)
    return plan, outcome, expected


def judged(t: Target, factory, options: GradientOptions | None = None, expected_factory=None):
    options = options or GradientOptions()
    plan, outcome, expected = run(t, factory, options, expected_factory)
    return {c.name: c for c in KIND.judge(t, options, plan, outcome, expected)}


def counting(base, method: str, change, first: int = 1, last: int = 10**9):
    """``base`` whose ``method`` result goes through ``change`` on calls first..last."""

    class Counted(base):
        calls = 0

    def wrapped(self, *args, **kwargs):
        self.calls += 1
        out = getattr(base, method)(self, *args, **kwargs)
        return change(out) if first <= self.calls <= last else out

    setattr(Counted, method, wrapped)
    return Counted


# ------------------------------------------------------------------ tolerances
@pytest.mark.parametrize(("delta", "passed"), [(1.8e-7, True), (2.2e-7, False)])
def test_forward_dw_and_a_later_backward_hold_to_1e_7(delta, passed):
    """Off by (1 + delta), the worst entry's error |r - e| / (|e| + max|e|) is delta / 2."""
    forward = judged(linear(), counting(LINEAR, "forward", lambda y: y * (1 + delta)))
    assert forward["forward"].passed is passed
    assert forward["dx"].passed and forward["dW"].passed

    class OffDW(LINEAR):
        def backward(self, dout):
            out = super().backward(dout)
            self.grads["W"] = self.grads["W"] * (1 + delta)
            return out

    cases = judged(linear(), OffDW)
    assert (cases["dW"].passed, cases["db"].passed, cases["dx"].passed) == (passed, True, True)
    third = judged(linear(), counting(LINEAR, "backward", lambda d: d * (1 + delta), 3, 3))
    assert third["linear in dout"].passed is passed
    assert third["dx"].passed and third["numeric"].passed
    if not passed:
        message = third["linear in dout"].message
        assert message.startswith(
            "linear in dout: backward(2 a - 3 b), called after the others: dx["
        )
        assert re.search(r"> tolerance 1e-07 \(\d+ of 12 entries wrong\)$", message), message
        assert third["linear in dout"].weight == 0.5


@pytest.mark.parametrize(("factor", "passed"), [(0.9e-7, True), (1.1e-7, False)])
def test_a_loss_holds_to_1e_7_of_max_abs_loss_1(factor, passed):
    _, _, expected = run(squared(), SQUARED)
    offset = factor * max(abs(expected.values["loss"]), 1.0)
    cases = judged(squared(), counting(SQUARED, "forward", lambda value: value + offset))
    assert cases["loss"].passed is passed
    if not passed:
        assert cases["loss"].message.startswith("loss: received ")
        assert cases["loss"].message.endswith("> tolerance 1e-07")


@pytest.mark.parametrize(("delta", "passed"), [(1.8e-7, True), (2.2e-7, False)])
def test_the_forwards_at_the_probes_hold_to_1e_7(delta, passed):
    """Forward right at the input and off by (1 + delta) at the probes (the fourth call on):
    central differences are judged only if the probes match the reference's forwards."""
    cases = judged(tanh(), counting(TANH, "forward", lambda y: y * (1 + delta), 4))
    assert cases["forward"].passed and cases["dx"].passed
    numeric = cases["numeric"]
    assert (numeric.passed, numeric.compared, numeric.weight) == (passed, False, 1.0)
    if not passed:
        assert numeric.message == (
            "numeric: not judged: your forward near the input differs from the reference's there"
        )


@pytest.mark.parametrize(("factor", "passed"), [(0.5e-7, True), (2e-7, False)])
def test_a_loss_at_the_probes_holds_to_1e_7(factor, passed):
    _, _, expected = run(squared(), SQUARED)
    offset = factor * max(abs(expected.values["loss"]), 1.0)
    cases = judged(squared(), counting(SQUARED, "forward", lambda value: value + offset, 2))
    assert cases["loss"].passed
    assert cases["numeric"].passed is passed
    if not passed:
        assert cases["numeric"].message == (
            "numeric: not judged: your forward near the input differs from the reference's there"
        )


@pytest.mark.parametrize("value", [None, float("nan"), np.array([1.0, 2.0])])
def test_a_loss_that_returns_no_number_at_a_probe_is_not_judged(value):
    cases = judged(squared(), counting(SQUARED, "forward", lambda _: value, 3, 3))
    assert cases["loss"].passed
    assert cases["numeric"].message == "numeric: not judged: a probe forward returned no number"
    assert cases["numeric"].passed is False


# ------------------------------------------------------------------ numeric
class WrongColumn(TANH):
    """tanh whose backward is 1.5 times the right one in the first column only."""

    def backward(self, dout):
        out = super().backward(dout)
        out[:, 0] *= 1.5
        return out


def test_the_numeric_case_names_the_worst_probe_with_both_derivatives():
    t, options = tanh(), GradientOptions()
    plan, outcome, expected = run(t, WrongColumn, options)
    numeric = {c.name: c for c in KIND.judge(t, options, plan, outcome, expected)}["numeric"]
    found = re.fullmatch(
        r"numeric: (dx\[\d+, \d+\]|dx along a random direction): received (\S+) from your "
        r"backward, expected (\S+) from central differences of your forward; relative error "
        r"(\S+) > tolerance 1e-06",
        numeric.message,
    )
    assert found, numeric.message
    assert (numeric.passed, numeric.compared, numeric.weight) == (False, False, 1.0)
    dout, dx, right = plan.meta["dout"], outcome.values["dx"], expected.values["dx"]
    errors = []
    for _, v, _, _, coord in plan.meta["probes"]:
        analytic, true = float(np.sum(dx * v)), float(np.sum(right * v))
        where = f"dx[{', '.join(map(str, np.argwhere(v)[0]))}]" if coord else None
        errors.append((abs(analytic - true) / (abs(analytic) + abs(true)), analytic, true, where))
    err, analytic, true, where = max(errors)
    assert min(e[0] for e in errors) < err / 10  # the probes disagree: the worst is named
    assert float(found[4]) == pytest.approx(err, rel=0.05)
    assert float(found[2]) == pytest.approx(analytic, rel=1e-5)
    assert float(found[3]) == pytest.approx(true, rel=1e-5)
    assert found[1] == (where or "dx along a random direction")
    assert dout.shape == dx.shape


def test_an_error_at_the_tolerance_passes():
    t = tanh()
    plan, outcome, expected = run(t, counting(TANH, "backward", lambda d: d * (1 + 1e-6)))
    worst = max(e[1] for e in probe_errors(outcome, plan.meta, False))
    at = GradientOptions(numeric_rtol=worst)
    below = GradientOptions(numeric_rtol=worst * (1 - 1e-9))
    assert {c.name: c for c in KIND.judge(t, at, plan, outcome, expected)}["numeric"].passed
    failed = {c.name: c for c in KIND.judge(t, below, plan, outcome, expected)}["numeric"]
    assert failed.passed is False and failed.message.endswith(
        f"> tolerance {worst * (1 - 1e-9):.0e}"
    )


def test_without_the_reference_a_failed_or_unusable_probe_is_said_so():
    options = GradientOptions(fixed_seed=7, reference=False, masked=("y",))
    t = Target("layers", "dropout", {"p": 0.6}, 5, DROPOUT)

    def raises(_):
        raise ValueError("no probe")

    numeric = judged(t, counting(DROPOUT, "forward", raises, 4), options)["numeric"]
    assert (numeric.passed, numeric.compared) == (False, False)
    assert numeric.message == "numeric: not computed, your code raised ValueError before the probes"
    numeric = judged(t, counting(DROPOUT, "forward", lambda y: y[:, :-1], 4), options)["numeric"]
    assert numeric.message == "numeric: a probe forward returned no usable value"
    assert (numeric.passed, numeric.compared) == (False, False)


def test_without_a_usable_backward_the_numeric_case_leaves_it_to_the_shapes_case():
    options = GradientOptions(fixed_seed=7, reference=False, masked=("y",))
    t = Target("layers", "dropout", {"p": 0.6}, 5, DROPOUT)
    cases = judged(t, counting(DROPOUT, "backward", lambda d: None), options)
    assert cases["numeric"].passed and cases["shapes"].passed is False
    assert cases["shapes"].message == "dx: expected an ndarray, received NoneType"


# ------------------------------------------------------------------ linearity
@pytest.mark.parametrize(
    ("call", "wrong", "message"),
    [
        (1, None, "backward: expected an ndarray, received NoneType"),
        (2, None, "backward call 2: expected an ndarray, received NoneType"),
        (3, [1.0], "backward call 3: expected an ndarray, received list"),
    ],
)
def test_linearity_is_not_judged_without_three_backwards(call, wrong, message):
    cases = judged(linear(), counting(LINEAR, "backward", lambda _: wrong, call, call))
    linear_case = cases["linear in dout"]
    assert (linear_case.passed, linear_case.weight) == (False, 0.5)
    assert linear_case.message == f"linear in dout: not judged, {message}"


def test_linearity_is_not_judged_when_a_later_backward_raises():
    def raises(_):
        raise ValueError("third")

    cases = judged(linear(), counting(LINEAR, "backward", raises, 3, 3))
    assert cases["linear in dout"].message == (
        "linear in dout: not judged, backward call 3: not computed"
    )
    assert cases["dx"].passed and cases["dW"].passed


def test_backwards_of_different_shapes_are_not_linear():
    cases = judged(tanh(), counting(TANH, "backward", lambda d: d[:, :-1], 3, 3))
    linear_case = cases["linear in dout"]
    assert (linear_case.passed, linear_case.weight) == (False, 0.5)
    assert linear_case.message == "linear in dout: backward returned arrays of different shapes"


def test_a_loss_backward_is_linear_in_its_scale():
    cases = judged(squared(), counting(SQUARED, "backward", lambda d: d * 1.01, 2, 2))
    linear_case = cases["linear in dout"]
    assert (linear_case.passed, linear_case.weight) == (False, 0.5)
    assert linear_case.message.startswith(
        "linear in dout: backward(2.5), called after the others: dx["
    )
    assert cases["dx"].passed


def test_a_later_backward_the_expected_outcome_lacks_is_not_compared():
    expected = counting(TANH, "backward", lambda _: None, 2, 3)
    cases = judged(tanh(), TANH, expected_factory=expected)
    assert cases["linear in dout"].passed
    assert cases["linear in dout"].message == ""


# ------------------------------------------------------------------ purity
def test_purity_names_each_method_that_wrote_into_its_input():
    class Both(TANH):
        def forward(self, x, *, training=True):
            y = super().forward(x, training=training)
            x += 0.0 * x + 1.0
            return y

        def backward(self, dout):
            out = super().backward(dout)
            dout[...] = 0.0
            return out

    cases = judged(tanh(), Both)
    impure = cases["inputs unchanged"]
    assert (impure.passed, impure.weight, impure.compared, impure.evidence) == (
        False,
        0.5,
        False,
        True,
    )
    assert impure.message == (
        "forward modified its input in place; backward modified its input in place (dout "
        "belongs to the caller: copy it before writing into it)"
    )


def test_purity_is_judged_against_the_expected_outcome():
    class WritesX(TANH):
        def forward(self, x, *, training=True):
            y = super().forward(x, training=training)
            x[0, 0] = 7.0
            return y

    cases = judged(tanh(), TANH, expected_factory=WritesX)
    assert cases["inputs unchanged"].message == (
        "no input modified in place, unlike the expected outcome"
    )
    assert cases["inputs unchanged"].passed is False
    same = judged(tanh(), WritesX, expected_factory=WritesX)
    assert same["inputs unchanged"].passed and same["inputs unchanged"].message == ""
    alone = judged(tanh(), WritesX)["inputs unchanged"]
    assert alone.message == "forward modified its input in place"


@pytest.mark.parametrize(
    ("record", "impure"), [([], False), (None, False), ([0], True), ((), True), ("0", True)]
)
def test_a_mutated_record_that_is_not_a_list_counts_as_a_change(record, impure):
    """A worker writes the list of positions a call changed; anything else is forged."""
    t, options = tanh(), GradientOptions()
    plan, outcome, expected = run(t, TANH, options)
    outcome.values["y.mutated"] = record
    cases = {c.name: c for c in KIND.judge(t, options, plan, outcome, expected)}
    assert cases["inputs unchanged"].passed is not impure
    if impure:
        assert cases["inputs unchanged"].message == "forward modified its input in place"


# ------------------------------------------------------------------ stops
def test_a_backward_that_raises_leaves_dx_and_grads_not_computed():
    def raises(_):
        raise ValueError("no backward")

    class Raises(LINEAR):
        def backward(self, dout):
            raises(dout)

    cases = judged(linear(), Raises)
    assert cases["forward"].passed
    assert cases["dx"].message == "dx: not computed, your code raised ValueError: no backward"
    assert cases["grads"].message == (
        "grads: not computed, your code raised ValueError: no backward"
    )
    assert cases["grads"].passed is False


def test_a_loss_that_raises_stops_the_check_at_once():
    class Raises(SQUARED):
        def forward(self, y, t):
            raise ValueError("no loss")

    cases = judged(squared(), Raises)
    assert list(cases) == ["loss"]
    assert cases["loss"].message == "loss: not computed, your code raised ValueError: no loss"


def test_a_wrong_parameter_gradient_is_named_against_the_reference():
    class HalfDb(LINEAR):
        def backward(self, dout):
            out = super().backward(dout)
            self.grads["b"] = self.grads["b"] / 2
            return out

    db = judged(linear(), HalfDb)["db"]
    assert db.passed is False and db.compared
    assert db.message.startswith("db[")
    assert "from the reference; relative error 2.5e-01 > tolerance 1e-07" in db.message


# ------------------------------------------------------------------ kinks
def test_each_kink_rule_is_the_contracts():
    rows = {
        line.split("`")[1]: line for line in CONTRACT.read_text().splitlines() if line[:3] == "| `"
    }
    assert set(KINKS) == {
        ("activations", "relu"),
        ("activations", "leaky_relu"),
        ("activations", "prelu"),
        ("losses", "hinge"),
    }
    for (_, name), rule in KINKS.items():
        assert rule.removeprefix("the subgradient is ") in rows[name].replace("subgradient ", "")


def test_a_backward_that_raises_at_the_kink_fails_the_kink_case_with_the_rule():
    class RaisesAtZero(RELU):
        def forward(self, x, *, training=True):
            self.zero = bool(np.any(x == 0))
            return super().forward(x, training=training)

        def backward(self, dout):
            if self.zero:
                raise ValueError("at zero")
            return super().backward(dout)

    cases = judged(Target("activations", "relu", {}, 5, RELU), RaisesAtZero)
    kink = cases["at the kink"]
    assert (kink.passed, kink.compared, kink.weight) == (False, True, 1.0)
    assert kink.message == (
        "kink: not computed, your code raised ValueError: at zero (the contract fixes f'(0) = 0)"
    )
    assert [n for n, c in cases.items() if c.passed is False] == ["at the kink"]


def test_a_loss_that_writes_into_its_scores_is_impure():
    class WritesScores(SQUARED):
        def forward(self, y, t):
            loss = super().forward(y, t)
            y[...] = 0.0
            return loss

    impure = judged(squared(), WritesScores)["inputs unchanged"]
    assert impure.passed is False
    assert impure.message == "forward modified its input in place"


def test_the_kink_case_compares_with_the_reference_by_entry():
    t = Target("activations", "relu", {}, 5, RELU)
    cases = judged(t, RELU)
    assert cases["at the kink"].passed is True and cases["at the kink"].message == ""

    class KinkOne(RELU):
        def backward(self, dout):
            return np.asarray(dout) * (self._x >= 0)

    class Remembers(RELU):
        def forward(self, x, *, training=True):
            self._x = np.asarray(x, dtype=np.float64)
            return super().forward(x, training=training)

    one = judged(t, type("KinkOne", (Remembers,), {"backward": KinkOne.backward}))
    kink = one["at the kink"]
    assert kink.passed is False and kink.compared is True
    assert re.fullmatch(
        r"at the kink\[\d+, \d+\]: received \S+, expected 0 from the reference; relative error "
        r"\S+ > tolerance 1e-07 \(\d+ of 24 entries wrong\) \(the contract fixes f'\(0\) = 0\)",
        kink.message,
    ), kink.message


def test_the_numeric_case_names_the_worst_array_not_the_first():
    """dx is right and dW off by 4e-6: the worst probe is one of dW's (error 2e-6)."""

    class OffDW(LINEAR):
        def backward(self, dout):
            out = super().backward(dout)
            self.grads["W"] = self.grads["W"] * (1 + 4e-6)
            return out

    numeric = judged(linear(), OffDW)["numeric"]
    assert numeric.passed is False
    assert numeric.message.startswith("numeric: dW")
    assert "relative error 2.0e-06 > tolerance 1e-06" in numeric.message


def test_a_later_backward_is_compared_even_when_the_expected_lacks_an_earlier_one():
    expected = counting(TANH, "backward", lambda _: None, 2, 2)
    student = counting(TANH, "backward", lambda d: d * 1.01, 3, 3)
    linear_case = judged(tanh(), student, expected_factory=expected)["linear in dout"]
    assert linear_case.passed is False
    assert linear_case.message.startswith(
        "linear in dout: backward(2 a - 3 b), called after the others: dx["
    )


def test_a_plugin_layer_gets_dout_of_its_forward_under_the_checks_flag_and_seed():
    """The upstream gradient has the shape of the reference's forward, built with the
    check's training flag and fixed seed (a layer's output may depend on both)."""

    class Crops(TANH):
        def __init__(self, rng=None):
            super().__init__()
            self.rng = rng if rng is not None else np.random.default_rng(0)

        def forward(self, x, *, training=True):
            width = 1 + int(self.rng.integers(3)) + (2 if training else 0)
            return super().forward(x[:, :width], training=training)

    own = int(np.random.default_rng(0).integers(3))
    seed = next(s for s in range(1, 50) if int(np.random.default_rng(s).integers(3)) != own)
    t = Target("activations", "crops", {}, 5, Crops)
    for training in (True, False):
        options = GradientOptions(fixed_seed=seed, training=training)
        width = 1 + int(np.random.default_rng(seed).integers(3)) + (2 if training else 0)
        assert KIND.plan(t, options).meta["dout"].shape == (4, width)


@pytest.mark.parametrize("margin", [0.05, 0.3])
def test_inputs_keep_the_margin_from_0_on_both_sides(margin):
    t = Target("activations", "tanh", {}, 5, TANH)
    options = GradientOptions(batch=50, features=40, margin=margin)
    x = KIND.plan(t, options).arrays["a0"]
    assert x.shape == (50, 40) and np.min(np.abs(x)) >= margin
    assert np.min(np.abs(x)) < margin + 0.01  # a standard normal pushed off 0, not off 1
    assert (x > 0).mean() == pytest.approx(0.5, abs=0.05)
