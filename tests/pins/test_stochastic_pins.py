"""The stochastic check (``checks.stochastic``), pinned: the model a component is judged by,
the trusted side's independent seeds (equal seeds stay equal), the expected features
measured on that run, and the cases: every feature within ``z`` standard errors, then the
purity of the inputs."""

from __future__ import annotations

import numpy as np
import pytest

from gradekit.checks import stochastic
from gradekit.checks.base import Target
from gradekit.checks.features import Expected, compare_all
from gradekit.checks.stochastic import MODELS, Stochastic, StochasticOptions, independent_seeds
from gradekit.sandbox.plan import Outcome, Plan
from gradekit.sandbox.runner import LocalSession
from gradekit_reference import COMPONENTS
from gradekit_reference.layers import Dropout
from gradekit_reference.mutants import all_mutants

CHECK = Stochastic()
DROPOUT = COMPONENTS["layers"]["dropout"]
MUTANTS = {m.name: m.factory for m in all_mutants()}


def target(name="dropout", kind="layers", kwargs=None, seed=3):
    return Target(kind, name, kwargs or {}, seed, COMPONENTS[kind][name])


def judged(factory, options=None, t=None):
    options = options or StochasticOptions()
    t = t or target()
    plan = CHECK.plan(t, options)
    expected = CHECK.expect(t, options, plan, LocalSession({(t.kind, t.name): t.reference}).run)
    outcome = LocalSession({(t.kind, t.name): factory}).run(plan)
    return CHECK.judge(t, options, plan, outcome, expected)


# ------------------------------------------------------------------------- the model
def test_a_component_is_judged_by_the_model_of_its_name_unless_options_name_one():
    assert CHECK._model(target(), StochasticOptions()) is MODELS["dropout"]
    options = StochasticOptions(model="vanilla_dropout")
    assert CHECK._model(target(), options) is MODELS["vanilla_dropout"]
    plan = CHECK.plan(target(), options)
    assert [op["name"] for op in plan.ops if op["op"] == "make"] == ["dropout", "dropout"]


def test_a_name_without_a_model_is_refused_with_the_models_listed():
    t = Target("layers", "linear", {}, 0, COMPONENTS["layers"]["linear"])
    with pytest.raises(ValueError) as error:
        CHECK.plan(t, StochasticOptions())
    assert str(error.value) == (
        "no statistical model for layers/linear: set options.model to one of "
        + ", ".join(sorted(MODELS))
    )


def test_a_model_of_another_kind_is_refused():
    t = Target("transforms", "flip", {}, 0, COMPONENTS["transforms"]["flip"])
    with pytest.raises(ValueError, match=r"^model 'dropout' checks layers, not transforms$"):
        CHECK.plan(t, StochasticOptions(model="dropout"))


def test_the_plan_is_the_models():
    t, options = target(), StochasticOptions(p_values=(0.3, 0.6))
    plan, own = CHECK.plan(t, options), MODELS["dropout"].plan(t, options)
    assert plan.ops == own.ops
    assert plan.arrays.keys() == own.arrays.keys()
    assert all(np.array_equal(plan.arrays[k], own.arrays[k]) for k in own.arrays)


# -------------------------------------------------------------- independent seeds
def test_the_trusted_side_runs_the_plan_with_other_seeds():
    t, options = target(), StochasticOptions()
    plan = CHECK.plan(t, options)
    seen = []

    def run(p):
        seen.append(p)
        return LocalSession({("layers", "dropout"): DROPOUT}).run(p)

    expected = CHECK.expect(t, options, plan, run)
    (ran,) = seen
    seeds = [op["seed"] for op in plan.ops if op["op"] == "set_rng"]
    assert [op["seed"] for op in ran.ops if op["op"] == "set_rng"] == [
        stochastic._other(s) for s in seeds
    ]
    assert isinstance(expected, Expected) and expected.failure is None
    mine = MODELS["dropout"].features(t, options, ran, run(ran))
    assert list(expected.features) == list(mine)
    assert [w for w, _ in expected.features.values()] == [w for w, _ in mine.values()]
    for (_, want), (_, got) in zip(expected.features.values(), mine.values(), strict=True):
        assert type(want) is type(got)
        assert np.array_equal(np.asarray(want.value), np.asarray(got.value))


def test_the_trusted_sides_failure_is_kept():
    t, options = target(), StochasticOptions()
    plan = CHECK.plan(t, options)
    failing = LocalSession({("layers", "dropout"): MUTANTS["dropout_frozen_mask"]})

    class Raising(Dropout):
        def forward(self, x, *, training=True):
            raise RuntimeError("no")

    outcome = LocalSession({("layers", "dropout"): Raising}).run(independent_seeds(plan))
    assert outcome.failure is not None
    expected = CHECK.expect(t, options, plan, lambda p: outcome)
    assert expected.failure is outcome.failure
    assert CHECK.expect(t, options, plan, failing.run).failure is None


def test_every_seed_is_replaced_and_equal_seeds_stay_equal():
    plan = Plan(meta={"m": 1})
    ref = plan.array(np.ones(3))
    plan.make("c", "transforms", "flip")
    plan.set_rng("c", 11)
    plan.call("c", "forward", ref, save="y")
    plan.set_rng("c", 11)
    plan.set_rng("c", 12)
    plan.routine("repeat_transform", "r", seed=11, times=2, x=ref)
    plan.routine("repeat_forward", "f", times=2, x=ref)
    before = [dict(op) for op in plan.ops]
    other = independent_seeds(plan)
    assert plan.ops == before  # the student's plan is left alone
    assert other.arrays is plan.arrays and other.meta is plan.meta
    a, b, c = (op["seed"] for op in other.ops if op["op"] == "set_rng")
    assert a == b != c and a != 11 and c != 12
    assert a == stochastic._other(11) and c == stochastic._other(12)
    routine = other.ops[-2]
    assert routine["kwargs"] == {"seed": a, "times": 2, "x": ref}
    assert routine["name"] == "repeat_transform" and routine["save"] == "r"
    assert other.ops[-1] == plan.ops[-1]  # no seed: unchanged
    assert other.ops[0] == plan.ops[0] and other.ops[2] == plan.ops[2]
    assert len(other.ops) == len(plan.ops)


def test_other_seeds_are_fixed_distinct_and_spread_over_31_bits():
    others = [stochastic._other(s) for s in range(3000)]
    assert others == [stochastic._other(s) for s in range(3000)]
    assert len(set(others)) == 3000
    assert all(type(o) is int and 0 <= o < 2**31 for o in others)
    assert max(others) > 2**31 * 0.99 and min(others) < 2**31 * 0.01
    assert sum(o == s for s, o in enumerate(others)) == 0


# ------------------------------------------------------------------------- judging
def test_a_correct_layer_passes_every_case_and_purity_comes_last():
    cases = judged(DROPOUT)
    assert all(c.passed for c in cases), [c.message for c in cases if not c.passed]
    assert cases[-1].name == "inputs unchanged" and cases[-1].weight == 0.5
    assert not cases[-1].compared
    t, options = target(), StochasticOptions()
    assert [c.name for c in cases[:-1]] == list(
        CHECK.expect(t, options, CHECK.plan(t, options), LocalSession({}).run).features
    )


def test_the_cases_are_the_features_compared_within_z():
    t, options = target(), StochasticOptions(z=0.05)
    plan = CHECK.plan(t, options)
    expected = CHECK.expect(t, options, plan, LocalSession({("layers", "dropout"): DROPOUT}).run)
    outcome = LocalSession({("layers", "dropout"): DROPOUT}).run(plan)
    cases = CHECK.judge(t, options, plan, outcome, expected)
    got = MODELS["dropout"].features(t, options, plan, outcome)
    want = compare_all(got, expected.features, z=0.05)
    assert [(c.name, c.passed, c.message) for c in cases[:-1]] == [
        (c.name, c.passed, c.message) for c in want
    ]
    assert not all(c.passed for c in cases)  # at z = 0.05 a correct layer fails some


def test_a_transform_is_judged_with_its_own_settings():
    t = target("flip", "transforms", {"p": 0.5})
    cases = judged(COMPONENTS["transforms"]["flip"], StochasticOptions(draws=4), t)
    names = [c.name for c in cases]
    assert "flip fraction (p=0.2)" in names and "labels unchanged (p=0.8)" in names
    assert all(c.passed for c in cases), [c.message for c in cases if not c.passed]


def test_a_wrong_layer_fails_the_cases_of_its_mistake():
    failed = {c.name for c in judged(MUTANTS["dropout_p_is_drop"]) if not c.passed}
    assert {"keep fraction (p=0.2)", "keep fraction (p=0.8)"} <= failed
    assert "test time (p=0.2)" not in failed


class InPlace(Dropout):
    def forward(self, x, *, training=True):
        y = super().forward(x, training=training)
        if training:
            x[0, 0] = 0.5 * x[0, 0]
        return y


def test_purity_fails_when_a_call_modifies_its_input():
    pure = judged(InPlace)[-1]
    assert pure.name == "inputs unchanged" and not pure.passed
    assert pure.message == "forward modified its input in place"


def test_purity_without_any_call_earns_nothing():
    t, options = target(), StochasticOptions()
    plan = CHECK.plan(t, options)
    expected = CHECK.expect(t, options, plan, LocalSession({("layers", "dropout"): DROPOUT}).run)
    cases = CHECK.judge(t, options, plan, Outcome(status="crashed"), expected)
    assert not cases[-1].passed and cases[-1].message == ""
    assert not any(c.passed for c in cases[:-1])
