"""The gradient check's plans, pinned: the seed before every forward, the training flag,
each parameter probed and put back, every probe's step and offsets, a loss probed along its
scores with its targets, and the backward at the kink (x = 0, or t z = 1 for the hinge)."""

from __future__ import annotations

import numpy as np
import pytest

from gradekit.checks.base import Target
from gradekit.checks.gradient import Gradient, GradientOptions, _at_kinks
from gradekit.numerics import STEP
from gradekit_reference import COMPONENTS

KIND = Gradient()
LINEAR = COMPONENTS["layers"]["linear"]
RELU = COMPONENTS["activations"]["relu"]
HINGE = COMPONENTS["losses"]["hinge"]
SQUARED = COMPONENTS["losses"]["squared_error"]


def linear() -> Target:
    return Target("layers", "linear", {"din": 3, "dout": 2}, 5, LINEAR)


def calls(plan, method: str) -> list[dict]:
    return [op for op in plan.ops if op["op"] == "call" and op["method"] == method]


def array(plan, ref) -> np.ndarray:
    return plan.arrays[ref["array"]]


def test_a_fixed_seed_reseeds_before_every_forward():
    plan = KIND.plan(linear(), GradientOptions(fixed_seed=11, training=False))
    forwards = [i for i, op in enumerate(plan.ops) if op.get("method") == "forward"]
    seeds = [i for i, op in enumerate(plan.ops) if op["op"] == "set_rng"]
    assert len(forwards) == 3 + 4 * 14 and seeds == [i - 1 for i in forwards]
    assert all(plan.ops[i] == {"op": "set_rng", "obj": "c", "seed": 11} for i in seeds)
    assert all(plan.ops[i]["kwargs"] == {"training": False} for i in forwards)
    unseeded = KIND.plan(linear(), GradientOptions())
    assert not [op for op in unseeded.ops if op["op"] == "set_rng"]
    assert all(op["kwargs"] == {"training": True} for op in calls(unseeded, "forward"))


def test_only_the_first_forward_and_backward_are_watched():
    plan = KIND.plan(linear(), GradientOptions())
    watched = [(op["method"], op["save"]) for op in plan.ops if op.get("watch")]
    assert watched == [("forward", "y"), ("backward", "dx")]
    loss = KIND.plan(Target("losses", "squared_error", {}, 5, SQUARED), GradientOptions())
    assert [(op["method"], op["save"]) for op in loss.ops if op.get("watch")] == [
        ("forward", "loss")
    ]


def test_each_parameter_starts_at_its_drawn_value_and_is_put_back_after_each_probe():
    plan = KIND.plan(linear(), GradientOptions())
    sets = [(i, op) for i, op in enumerate(plan.ops) if op["op"] == "set_param"]
    assert {op["key"] for _, op in sets} == {"W", "b"}  # the input is no parameter
    (_, w0), (_, b0) = sets[:2]
    assert (w0["key"], b0["key"]) == ("W", "b")
    assert array(plan, w0["value"]).shape == (3, 2) and array(plan, b0["value"]).shape == (2,)
    assert [op["op"] for op in plan.ops[:3]] == ["make", "set_param", "set_param"]
    x = array(plan, calls(plan, "forward")[0]["args"][0])
    for key, first in (("W", w0), ("b", b0)):
        mine = [(i, op) for i, op in sets[2:] if op["key"] == key]
        assert len(mine) == 5 * (5 if key == "W" else 4)  # per direction: 4 probes, back
        for j in range(0, len(mine), 5):
            *moved, (last, back) = mine[j : j + 5]
            assert back["value"] == first["value"]  # the drawn value again
            assert last == moved[-1][0] + 2  # right after the direction's last forward
            for i, op in moved:
                assert op["value"]["shift"] == first["value"]["array"]
                forward = plan.ops[i + 1]
                assert forward["method"] == "forward" and forward["save"].startswith(f"p:{key}:")
                assert np.array_equal(array(plan, forward["args"][0]), x)


@pytest.mark.parametrize("name", ["linear", "relu"])
def test_every_probe_steps_by_the_scale_over_its_direction(name):
    t = linear() if name == "linear" else Target("activations", "relu", {}, 5, RELU)
    plan = KIND.plan(t, GradientOptions())
    forwards = {op["save"]: op for op in calls(plan, "forward") if op["save"]}
    for probed, v, h, keys, _ in plan.meta["probes"]:
        for k, key in enumerate(keys):
            forward = forwards[key]
            if probed == "x":
                shift = forward["args"][0]
            else:
                index = plan.ops.index(forward)
                assert plan.ops[index - 1]["op"] == "set_param"
                shift = plan.ops[index - 1]["value"]
            base = plan.arrays[shift["shift"]]
            assert np.array_equal(plan.arrays[shift["along"]], v)
            assert shift["step"] == [h, -h, h / 2, -h / 2][k]
            assert h == pytest.approx(
                STEP * max(1.0, float(np.max(np.abs(base)))) / float(np.max(np.abs(v)))
            )


def test_a_loss_is_probed_along_its_scores_with_its_targets():
    plan = KIND.plan(Target("losses", "squared_error", {}, 5, SQUARED), GradientOptions())
    (first, *probes) = calls(plan, "forward")
    y, t = first["args"]
    assert first["save"] == "loss" and array(plan, y).shape == (4, 6)
    scores = array(plan, y)
    keys = [key for *_, keys, _ in plan.meta["probes"] for key in keys]
    assert [op["save"] for op in probes] == keys
    assert [coord for *_, coord in plan.meta["probes"]] == [False, False, True, True, True]
    for j, (name, v, h, keys, _) in enumerate(plan.meta["probes"]):
        assert name == "y" and keys == [f"p:y:{j}:{k}" for k in range(4)]
        assert h == pytest.approx(STEP * max(1.0, float(np.max(np.abs(scores)))))
        for k, key in enumerate(keys):
            (op,) = [p for p in probes if p["save"] == key]
            shift, targets = op["args"]
            assert targets == t and np.array_equal(plan.arrays[shift["shift"]], scores)
            assert np.array_equal(plan.arrays[shift["along"]], v)
            assert shift["step"] == [h, -h, h / 2, -h / 2][k]


def test_every_op_is_on_the_one_component_built_with_the_checks_kwargs():
    for t in (linear(), Target("losses", "hinge", {"margin": 1.0}, 5, HINGE)):
        plan = KIND.plan(t, GradientOptions())
        assert plan.ops[0] == {
            "op": "make",
            "obj": "c",
            "kind": t.kind,
            "name": t.name,
            "kwargs": t.kwargs,
        }
        assert all(op["obj"] == "c" for op in plan.ops)


def test_the_hinge_runs_one_backward_with_some_margins_exactly_1():
    plan = KIND.plan(Target("losses", "hinge", {}, 5, HINGE), GradientOptions())
    *_, forward, backward = plan.ops
    assert (backward["method"], backward["args"], backward["save"]) == ("backward", [1.0], "kink")
    assert forward["method"] == "forward" and forward["save"] is None
    z, t = (array(plan, a) for a in forward["args"])
    y = array(plan, calls(plan, "forward")[0]["args"][0])
    assert np.array_equal(t, array(plan, calls(plan, "forward")[0]["args"][1]))
    at = t * z == 1.0
    assert at.any() and not at.all()
    assert np.array_equal(z[~at], y[~at])
    assert np.all(np.abs(t * y - 1) >= 0.05)  # elsewhere, the margin keeps off the kink


def test_relu_runs_one_backward_with_some_inputs_exactly_0_and_the_first_dout():
    plan = KIND.plan(Target("activations", "relu", {}, 5, RELU), GradientOptions())
    assert not [op for op in plan.ops if op["op"] == "set_param"]  # no parameter to set
    *_, forward, backward = plan.ops
    assert (backward["method"], backward["save"]) == ("backward", "kink")
    assert np.array_equal(array(plan, backward["args"][0]), plan.meta["dout"])
    x = array(plan, calls(plan, "forward")[0]["args"][0])
    kink = array(plan, forward["args"][0])
    assert forward["save"] is None and forward["kwargs"] == {"training": True}
    zero = kink == 0
    assert zero.any() and not zero.all() and np.array_equal(kink[~zero], x[~zero])


def test_about_a_third_of_the_entries_and_at_least_one_sit_at_the_kink():
    rng = np.random.default_rng(0)
    chosen = _at_kinks(np.ones((300, 100)), rng)
    assert chosen.dtype == bool and chosen.shape == (300, 100)
    assert abs(chosen.mean() - 1 / 3) < 0.01  # 30000 draws: 3.7 standard errors
    assert all(_at_kinks(np.ones(1), np.random.default_rng(s)).all() for s in range(20))
    assert all(_at_kinks(np.ones((2, 2)), np.random.default_rng(s)).any() for s in range(20))
