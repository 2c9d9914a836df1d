"""The forward-value check (``checks.values``), pinned: each edge case's input, the
tolerance of 1e-9 just inside and just outside, and each case's name and message."""

from __future__ import annotations

import numpy as np
import pytest

from gradekit.checks.base import Target
from gradekit.checks.values import Values, ValuesOptions
from gradekit.sandbox.plan import Outcome
from gradekit.sandbox.runner import LocalSession
from gradekit_reference import COMPONENTS

KIND = Values()
NAMES = ["random input", "large input", "large offset input", "zeros input", "batch of one"]


def target(kind: str, name: str, **kwargs) -> Target:
    return Target(kind, name, kwargs, 11, COMPONENTS[kind][name])


def inputs(plan, case: str) -> list[np.ndarray]:
    """The arrays a case's forward is called with."""
    (op,) = [op for op in plan.ops if op.get("save") == case]
    return [plan.arrays[a["array"]] for a in op["args"]]


def run(t: Target, plan) -> Outcome:
    return LocalSession({(t.kind, t.name): t.reference}).run(plan)


@pytest.mark.parametrize(
    ("t", "offset", "width"),
    [(target("activations", "tanh"), 1e3, 6), (target("layers", "linear", din=3, dout=2), 1e5, 3)],
    ids=["activation", "layer"],
)
def test_each_edge_case_gets_its_input(t, offset, width):
    options = ValuesOptions(batch=5)
    plan = KIND.plan(t, options)
    (random,), (large,), (shifted,) = (inputs(plan, c) for c in ("random", "large", "offset"))
    (zeros,), (one,) = inputs(plan, "zeros"), inputs(plan, "batch1")
    assert random.shape == large.shape == shifted.shape == zeros.shape == (5, width)
    assert one.shape == (1, width)
    assert np.all(zeros == 0)
    assert 0.3 < np.std(random) < 3 and 300 < np.std(large) < 3000
    assert np.all(np.abs(shifted - offset) < 10) and 0.3 < np.std(shifted) < 3
    assert 0 < np.max(np.abs(one)) < 10
    made = [op["obj"] for op in plan.ops if op["op"] == "make"]
    assert made == ["c_random", "c_large", "c_offset", "c_zeros", "c_batch1"]
    calls = [op for op in plan.ops if op["op"] == "call"]
    assert all(op["kwargs"] == {"training": False} for op in calls)
    assert [op["obj"] for op in calls] == made
    assert not [op for op in plan.ops if op["op"] == "set_rng"]


def test_a_layer_gets_the_same_random_parameters_in_every_case():
    t = target("layers", "linear", din=3, dout=2)
    plan = KIND.plan(t, ValuesOptions(training=True, fixed_seed=4))
    made = [op for op in plan.ops if op["op"] == "make"]
    assert all(op["kwargs"] == {"din": 3, "dout": 2} for op in made)
    sets = [op for op in plan.ops if op["op"] == "set_param"]
    assert sorted({op["key"] for op in sets}) == ["W", "b"]
    assert [op["obj"] for op in sets] == [op["obj"] for op in made for _ in "Wb"]
    assert len(sets) == 2 * 5
    for key in ("W", "b"):
        values = [plan.arrays[op["value"]["array"]] for op in sets if op["key"] == key]
        assert all(np.array_equal(v, values[0]) for v in values)
        assert np.all(values[0] != 0)
    seeded = [(op["obj"], op["seed"]) for op in plan.ops if op["op"] == "set_rng"]
    assert seeded == [(f"c_{c}", 4) for c in ("random", "large", "offset", "zeros", "batch1")]
    calls = [op for op in plan.ops if op["op"] == "call"]
    assert all(op["kwargs"] == {"training": True} for op in calls)
    assert not [
        op
        for op in KIND.plan(target("activations", "tanh"), ValuesOptions()).ops
        if op["op"] == "set_param"
    ]


def test_a_loss_gets_scaled_and_shifted_scores_and_plain_targets():
    t = target("losses", "softmax_cross_entropy")
    plan = KIND.plan(t, ValuesOptions(batch=5, features=4))
    (y, labels), (large, large_labels) = inputs(plan, "random"), inputs(plan, "large")
    (shifted, shifted_labels), (zeros, _) = inputs(plan, "offset"), inputs(plan, "zeros")
    (one, one_labels) = inputs(plan, "batch1")
    assert y.shape == large.shape == shifted.shape == zeros.shape == (5, 4)
    assert one.shape == (1, 4) and one_labels.shape == (1,)
    assert labels.dtype == np.int64 and set(labels.tolist()) <= {0, 1, 2, 3}
    assert 300 < np.std(large) < 3000 and np.all(zeros == 0)
    assert np.all(np.abs(shifted - 1e3) < 10) and 0.3 < np.std(shifted) < 3
    assert shifted_labels.dtype == large_labels.dtype == np.int64


def test_the_reference_passes_every_case_by_name():
    layer = target("layers", "linear", din=3, dout=2)
    for t in (target("activations", "tanh"), target("losses", "squared_error"), layer):
        options = ValuesOptions()
        plan = KIND.plan(t, options)
        expected = run(t, plan)
        cases = KIND.judge(t, options, plan, expected, expected)
        assert [c.name for c in cases] == NAMES
        assert all(c.passed for c in cases)


def nudged(outcome: Outcome, case: str, factor: float, rtol: float) -> Outcome:
    """``outcome`` with the first entry of ``case`` off by ``factor`` times its tolerance."""
    values = dict(outcome.values)
    got = values[case]
    if isinstance(got, float):
        values[case] = got + factor * rtol * max(abs(got), 1.0)
    else:
        got = np.array(got, dtype=np.float64)
        got.flat[0] += factor * rtol * (abs(got.flat[0]) + np.max(np.abs(got)))
        values[case] = got
    return Outcome(values=values)


@pytest.mark.parametrize("t", [target("activations", "tanh"), target("losses", "squared_error")])
def test_the_tolerance_is_1e_9_relative(t):
    options = ValuesOptions()
    assert options.rtol == 1e-9
    plan = KIND.plan(t, options)
    expected = run(t, plan)
    inside = KIND.judge(t, options, plan, nudged(expected, "random", 0.9, 1e-9), expected)
    assert all(c.passed for c in inside)
    outside = KIND.judge(t, options, plan, nudged(expected, "random", 1.5, 1e-9), expected)
    assert [c.name for c in outside if not c.passed] == ["random input"]
    assert "> tolerance 1e-09" in outside[0].message
    loose = options.model_copy(update={"rtol": 1e-6})
    assert all(
        c.passed
        for c in KIND.judge(t, loose, plan, nudged(expected, "random", 1.5, 1e-9), expected)
    )


def test_a_missing_value_is_named_by_its_case():
    t = target("activations", "tanh")
    options = ValuesOptions()
    plan = KIND.plan(t, options)
    expected = run(t, plan)
    values = {k: v for k, v in expected.values.items() if k != "batch1"}
    cases = KIND.judge(t, options, plan, Outcome(values=values, status="crashed"), expected)
    assert [c.passed for c in cases] == [True, True, True, True, False]
    assert cases[-1].message == "batch of one: not computed (crashed)"
    assert cases[-1].name == "batch of one"
    values = {k: v for k, v in expected.values.items() if k != "large"}
    cases = KIND.judge(t, options, plan, Outcome(values=values, detail="large died"), expected)
    assert cases[1].message == "large input: not computed (large died)"
    assert [c.passed for c in cases] == [True, False, True, True, True]
