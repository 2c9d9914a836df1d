"""The gradient check (``checks.gradient``), pinned: its two tolerances just inside and
outside, its probes, and each case's name, weight and message."""

from __future__ import annotations

import numpy as np
import pytest

from gradekit.checks.base import Target
from gradekit.checks.gradient import KINKS, Gradient, GradientOptions, _relative_error
from gradekit.numerics import STEP
from gradekit.sandbox.runner import LocalSession
from gradekit_reference import COMPONENTS
from gradekit_reference.mutants import all_mutants

KIND = Gradient()
TANH = COMPONENTS["activations"]["tanh"]
LINEAR = COMPONENTS["layers"]["linear"]
RELU = COMPONENTS["activations"]["relu"]
SQUARED = COMPONENTS["losses"]["squared_error"]


def target(kind: str, name: str, reference, **kwargs) -> Target:
    return Target(kind, name, kwargs, 5, reference)


def judged(t: Target, factory, options: GradientOptions | None = None):
    options = options or GradientOptions()
    plan = KIND.plan(t, options)
    expected = LocalSession({(t.kind, t.name): t.reference}).run(plan)
    outcome = LocalSession({(t.kind, t.name): factory}).run(plan)
    return {c.name: c for c in KIND.judge(t, options, plan, outcome, expected)}, plan


def scaled(base, factor: float):
    """``base`` whose backward is ``factor`` times the right one."""

    class Scaled(base):
        def backward(self, dout):
            return factor * super().backward(dout)

    return Scaled


def test_the_defaults_are_the_documented_tolerances():
    options = GradientOptions()
    assert (options.rtol, options.numeric_rtol, options.margin) == (1e-7, 1e-6, 0.05)
    assert (options.directions, options.samples) == (2, 3)


def test_every_case_of_a_layer_by_name_weight_and_kind():
    cases, _ = judged(target("layers", "linear", LINEAR, din=3, dout=2), LINEAR)
    assert [(n, c.passed, c.weight, c.compared) for n, c in cases.items()] == [
        ("forward", True, 1.0, True),
        ("dx", True, 1.0, True),
        ("dW", True, 1.0, True),
        ("db", True, 1.0, True),
        ("linear in dout", True, 0.5, True),
        ("numeric", True, 1.0, False),
        ("inputs unchanged", True, 0.5, False),
    ]
    assert cases["inputs unchanged"].evidence


@pytest.mark.parametrize(
    ("factor", "reference", "numeric"),
    [
        (1 + 2e-8, True, True),
        (1 + 5e-7, False, True),
        (1 + 4e-6, False, False),
    ],
)
def test_the_two_tolerances_just_inside_and_outside(factor, reference, numeric):
    """A backward off by 2e-8 passes both; by 5e-7 only central differences (error
    2.5e-7 < 1e-6); by 4e-6 neither."""
    cases, _ = judged(target("activations", "tanh", TANH), scaled(TANH, factor))
    assert cases["dx"].passed is reference
    assert cases["numeric"].passed is numeric
    if not numeric:
        message = cases["numeric"].message
        assert message.startswith("numeric: dx")
        assert "from your backward, expected" in message
        assert "from central differences of your forward; relative error 2.0e-06" in message
        assert message.endswith("> tolerance 1e-06")


def test_inputs_keep_the_margin_and_probes_step_by_the_scale():
    t = target("layers", "linear", LINEAR, din=3, dout=2)
    plan = KIND.plan(t, GradientOptions())
    (forward, *_) = [op for op in plan.ops if op.get("save") == "y"]
    x = plan.arrays[forward["args"][0]["array"]]
    assert x.shape == (4, 3) and np.min(np.abs(x)) >= 0.05
    assert forward["watch"] and forward["kwargs"] == {"training": True}
    saves = [op.get("save") for op in plan.ops if op["op"] in ("call", "get")]
    assert saves[:6] == ["y", "dx", "grads", None, "dx2", None]
    assert saves[6] == "dx3"
    probes = plan.meta["probes"]
    # two random directions, then three entries (b has only two)
    assert [name for name, *_ in probes] == ["x"] * 5 + ["W"] * 5 + ["b"] * 4
    assert [coord for *_, coord in probes] == [False, False, True, True, True] * 2 + [
        False,
        False,
        True,
        True,
    ]
    for name, v, h, keys, _ in probes:
        assert len(keys) == 4 and keys[0] == f"p:{name}:{keys[0].split(':')[2]}:0"
        if name == "x":
            assert h == pytest.approx(STEP * max(1.0, np.max(np.abs(x))) / np.max(np.abs(v)))
    dx3 = next(op for op in plan.ops if op.get("save") == "dx3")
    dx, dx2 = (
        plan.arrays[op["args"][0]["array"]] for op in plan.ops if op.get("save") in ("dx", "dx2")
    )
    assert np.allclose(plan.arrays[dx3["args"][0]["array"]], 2 * dx - 3 * dx2)


def test_a_loss_is_probed_along_its_scores_and_compared_as_a_number():
    cases, plan = judged(target("losses", "squared_error", SQUARED), SQUARED)
    assert list(cases) == ["loss", "dx", "linear in dout", "numeric", "inputs unchanged"]
    assert all(c.passed for c in cases.values())
    backwards = [op["args"] for op in plan.ops if op.get("method") == "backward"]
    assert backwards == [[1.0], [2.5]]
    assert [name for name, *_ in plan.meta["probes"]] == ["y"] * 5
    off, _ = judged(target("losses", "squared_error", SQUARED), scaled(SQUARED, 1 + 4e-6))
    assert off["numeric"].passed is False and off["dx"].passed is False


def test_a_wrong_convention_at_the_kink_is_named_with_the_rule():
    (mutant,) = [m for m in all_mutants() if m.name == "relu_kink_one"]
    cases, plan = judged(target("activations", "relu", RELU), mutant.factory)
    kink = cases["at the kink"]
    assert kink.passed is False and kink.compared
    assert kink.message.endswith(f" (the contract fixes {KINKS[('activations', 'relu')]})")
    assert [n for n, c in cases.items() if not c.passed] == ["at the kink"]
    assert "kink" in [op.get("save") for op in plan.ops]
    tanh_plan = KIND.plan(target("activations", "tanh", TANH), GradientOptions())
    assert "kink" not in [op.get("save") for op in tanh_plan.ops]


def test_a_backward_that_changes_with_each_call_is_not_linear():
    class Drifts(TANH):
        calls = 0

        def backward(self, dout):
            Drifts.calls += 1
            return (1.0 + 0.01 * Drifts.calls) * super().backward(dout)

    cases, _ = judged(target("activations", "tanh", TANH), Drifts)
    linear = cases["linear in dout"]
    assert (linear.passed, linear.weight) == (False, 0.5)
    assert linear.message.startswith("linear in dout: backward(b), called after the others: dx")


def test_a_backward_that_writes_into_dout_is_impure_and_told_why():
    class WritesDout(TANH):
        def backward(self, dout):
            out = super().backward(dout)
            dout *= 0
            return out

    cases, _ = judged(target("activations", "tanh", TANH), WritesDout)
    impure = cases["inputs unchanged"]
    assert (impure.passed, impure.weight, impure.compared) == (False, 0.5, False)
    assert impure.message == (
        "backward modified its input in place (dout belongs to the caller: copy it before "
        "writing into it)"
    )


def test_missing_parameter_gradients_are_named():
    class NoDb(LINEAR):
        def backward(self, dout):
            out = super().backward(dout)
            del self.grads["b"]
            return out

    class NoDict(LINEAR):
        def backward(self, dout):
            out = super().backward(dout)
            self.grads = None
            return out

    t = target("layers", "linear", LINEAR, din=3, dout=2)
    cases, _ = judged(t, NoDb)
    assert cases["db"].message == "db: grads has no key 'b' after backward"
    assert cases["dW"].passed and cases["db"].passed is False
    cases, _ = judged(t, NoDict)
    assert cases["grads"].message == "grads: expected a dict of arrays"
    assert cases["grads"].passed is False


def test_a_forward_that_raises_stops_the_check_at_once():
    class Raises(TANH):
        def forward(self, x, *, training=True):
            raise ValueError("no forward")

    cases, _ = judged(target("activations", "tanh", TANH), Raises)
    assert list(cases) == ["y"]
    assert cases["y"].message == "y: not computed, your code raised ValueError: no forward"


def test_the_figure_shows_the_worst_error_per_array_against_both_tolerances():
    t = target("layers", "linear", LINEAR, din=3, dout=2)
    options = GradientOptions()
    plan = KIND.plan(t, options)
    expected = LocalSession({(t.kind, t.name): LINEAR}).run(plan)
    outcome = LocalSession({(t.kind, t.name): scaled(LINEAR, 1 + 4e-6)}).run(plan)
    figure = KIND.figure(t, options, plan, outcome, expected)
    (panel,) = figure.panels
    assert figure.title == "linear: gradient check"
    assert panel.categories == ["dx", "dW", "db"]
    assert panel.marks == {"reference tolerance 1e-07": 1e-7, "numeric tolerance 1e-06": 1e-6}
    against, numeric = panel.series
    assert (against.label, numeric.label) == ("vs reference", "vs central differences")
    assert against.y[0] == pytest.approx(4e-6 / 2, rel=0.5)
    assert numeric.y[0] == pytest.approx(2e-6, rel=0.1)
    right = KIND.figure(t, options, plan, expected, expected)
    assert right.panels[0].series[0].y[1] == 1e-17  # an exact match, at the axis' floor


def test_the_figure_is_a_log_bar_chart_of_errors():
    t = target("layers", "linear", LINEAR, din=3, dout=2)
    options = GradientOptions()
    plan = KIND.plan(t, options)
    expected = LocalSession({(t.kind, t.name): LINEAR}).run(plan)
    (panel,) = KIND.figure(t, options, plan, expected, expected).panels
    assert (panel.kind, panel.log) == ("bar", True)
    assert (panel.title, panel.ylabel) == ("worst relative error per array", "relative error")


def test_a_loss_figure_shows_its_central_differences():
    t = target("losses", "squared_error", SQUARED)
    options = GradientOptions()
    plan = KIND.plan(t, options)
    expected = LocalSession({(t.kind, t.name): SQUARED}).run(plan)
    outcome = LocalSession({(t.kind, t.name): scaled(SQUARED, 1 + 4e-6)}).run(plan)
    (panel,) = KIND.figure(t, options, plan, outcome, expected).panels
    against, numeric = panel.series
    assert panel.categories == ["dx"]
    assert numeric.y[0] == pytest.approx(2e-6, rel=0.1)
    assert against.y[0] == pytest.approx(2e-6, rel=0.5)


def test_a_figure_without_grads_or_a_gradient_shows_nan_there():
    class NoDb(LINEAR):
        def backward(self, dout):
            out = super().backward(dout)
            self.grads = None
            return out

    t = target("layers", "linear", LINEAR, din=3, dout=2)
    options = GradientOptions()
    plan = KIND.plan(t, options)
    expected = LocalSession({(t.kind, t.name): LINEAR}).run(plan)
    outcome = LocalSession({(t.kind, t.name): NoDb}).run(plan)
    (panel,) = KIND.figure(t, options, plan, outcome, expected).panels
    against, numeric = panel.series
    assert against.y[1:] == numeric.y[1:] == [None, None]  # nan, drawn as no bar
    assert against.y[0] is not None and numeric.y[0] is not None


def test_without_the_reference_the_figure_shows_central_differences_only():
    dropout = COMPONENTS["layers"]["dropout"]
    t = target("layers", "dropout", dropout, p=0.6)
    options = GradientOptions(fixed_seed=7, reference=False, masked=("y",))
    plan = KIND.plan(t, options)
    expected = LocalSession({(t.kind, t.name): dropout}).run(plan)
    (panel,) = KIND.figure(t, options, plan, expected, expected).panels
    (numeric,) = panel.series
    assert numeric.label == "vs central differences" and numeric.y[0] < 1e-6
    assert panel.marks == {"numeric tolerance 1e-06": 1e-6}

    class Unprobed(dropout):
        calls = 0

        def forward(self, x, *, training=True):
            self.calls += 1
            y = super().forward(x, training=training)
            return y if self.calls < 4 else None

    outcome = LocalSession({(t.kind, t.name): Unprobed}).run(plan)
    assert KIND.figure(t, options, plan, outcome, expected) is None


def test_the_figures_relative_error_is_that_of_close():
    """``|r - e| / (|e| + max|e|)``, its worst entry; nan when either is unusable."""
    e = np.array([1.0, -2.0, 0.0])
    r = np.array([1.1, -2.0, 0.2])
    assert _relative_error(r, e) == pytest.approx(max(0.1 / 3, 0.2 / 2))
    assert _relative_error(np.array([1e-3]), np.zeros(1)) == pytest.approx(1e-3 / 1e-30)
    assert _relative_error(np.zeros(0), np.zeros(0)) == 0.0
    for got, want in [(None, e), (e, None), (e[:2], e), (np.array([np.nan, 0, 0]), e)]:
        assert np.isnan(_relative_error(got, want))
