"""The float64 rule (``checks.dtypes``), pinned: which saved values count as narrow floats,
the path and call each is named by, the first three only, and the case's fields."""

from __future__ import annotations

import numpy as np

from gradekit.checks.dtypes import NAME, float64_case
from gradekit.sandbox.plan import Outcome, Plan

F32 = np.float32


def plan_of(*ops):
    plan = Plan()
    plan.ops = list(ops)
    return plan


def call(save, method="forward"):
    return {"op": "call", "obj": "c", "method": method, "save": save}


def test_float64_answers_and_integers_pass():
    plan = plan_of(call("y"), call("n"), {"op": "get", "obj": "c", "attr": "params", "save": "p"})
    values = {"y": np.zeros(3), "n": np.arange(3), "p": {"W": np.ones(2), "k": [np.zeros(1)]}}
    assert float64_case(plan, Outcome(values)) is None


def test_a_float32_answer_is_named_by_its_method_and_path():
    plan = plan_of(call("y"), {"op": "get", "obj": "c", "attr": "grads", "save": "g"})
    values = {"y": np.zeros(3), "g": {"W": [np.ones(2), np.ones(2, dtype=F32)]}}
    case = float64_case(plan, Outcome(values))
    assert case.name == NAME == "float64 outputs"
    assert case.passed is False and case.compared is False and case.weight == 0.5
    assert not case.severe and not case.gate
    assert case.message == (
        "grads['W'][1] returned float32; return float64 (the contract's outputs are float64: "
        "the comparisons below are made at the precision you returned)"
    )


def test_a_float16_scalar_and_the_first_three_calls_only():
    ops = [call(f"s{i}", f"m{i}") for i in range(5)]
    values = {f"s{i}": np.array(1.0, dtype=np.float16) for i in range(5)}
    case = float64_case(plan_of(*ops), Outcome(values))
    assert case.message.startswith(
        "m0 returned float16, m1 returned float16, m2 returned float16; return float64"
    )


def test_only_the_first_narrow_dtype_of_a_path_is_named():
    plan = plan_of(call("absent", "fit"), call("y", "forward"), call("y", "backward"))
    case = float64_case(plan, Outcome({"y": np.ones(2, dtype=F32)}))
    assert case.message.startswith("forward returned float32, backward returned float32;")
    plan = plan_of(call("y", "forward"), call("y", "forward"))
    case = float64_case(plan, Outcome({"y": np.ones(2, dtype=F32)}))
    assert case.message.startswith("forward returned float32; return")


def test_routines_unsaved_and_missing_values_are_left_out():
    narrow = np.ones(2, dtype=F32)
    ops = [
        {"op": "routine", "name": "optimize", "save": "r"},
        {"op": "make", "obj": "c", "save": "r"},
        call(None),
        call("absent"),
    ]
    assert float64_case(plan_of(*ops), Outcome({"r": narrow})) is None


def test_narrow_floats_inside_lists_and_dicts_of_a_call():
    plan = plan_of(call("out", "update"))
    case = float64_case(plan, Outcome({"out": [np.zeros(1), {"m": np.zeros(1, dtype=F32)}]}))
    assert case.message.startswith("update[1]['m'] returned float32;")
    case = float64_case(plan, Outcome({"out": np.zeros(2, dtype=np.complex64)}))
    assert case is None
