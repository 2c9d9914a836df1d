"""What every batch transform's model shares (``checks.stochastic_transforms``), pinned:
the plan (one long run, two short runs of one seed, one component per p), the outputs read
back, and the shared cases: a fresh draw each call, randomness from rng (both severe),
labels unchanged within the tight tolerance, and a transform that changes its inputs."""

from __future__ import annotations

import numpy as np
import pytest

from gradekit.checks import stochastic_transforms as transforms
from gradekit.checks.base import Target
from gradekit.checks.features import Category, Missing, Unusable
from gradekit.checks.stochastic import MODELS, StochasticOptions
from gradekit.checks.stochastic_transforms import TIGHT, TransformModel, place, problem
from gradekit.sandbox.plan import Outcome
from gradekit.sandbox.runner import LocalSession
from gradekit_reference import COMPONENTS
from gradekit_reference.transforms import GaussianNoise, HorizontalFlip

FLIP, NOISE = MODELS["flip"], MODELS["noise"]


def run(name, factory, kwargs=None, options=None, seed=6):
    options = options or StochasticOptions(draws=6)
    t = Target("transforms", name, kwargs or {}, seed, COMPONENTS["transforms"][name])
    model = MODELS[name]
    plan = model.plan(t, options)
    outcome = LocalSession({("transforms", name): factory}).run(plan)
    return model, t, options, plan, outcome


def features(name, factory, kwargs=None, options=None):
    model, t, options, plan, outcome = run(name, factory, kwargs, options)
    return model.features(t, options, plan, outcome)


# -------------------------------------------------------------------------- the plan
def test_one_long_run_and_two_short_runs_of_one_seed_per_setting():
    options = StochasticOptions(p_values=(0.25, 0.75), draws=7)
    t = Target("transforms", "flip", {"p": 0.5}, 2, HorizontalFlip)
    plan = FLIP.plan(t, options)
    makes = [op for op in plan.ops if op["op"] == "make"]
    assert [(m["obj"], m["kwargs"]) for m in makes] == [("c0", {"p": 0.25}), ("c1", {"p": 0.75})]
    routines = [op for op in plan.ops if op["op"] == "routine"]
    assert [r["save"] for r in routines] == ["run0", "rep0a", "rep0b", "run1", "rep1a", "rep1b"]
    assert all(r["name"] == "repeat_transform" for r in routines)
    assert [r["kwargs"]["times"] for r in routines] == [7, 2, 2, 7, 2, 2]
    for i in (0, 1):
        run_, a, b = routines[3 * i : 3 * i + 3]
        assert a["kwargs"]["seed"] == b["kwargs"]["seed"] != run_["kwargs"]["seed"]
        assert all(r["kwargs"]["transform"] == {"component": f"c{i}"} for r in (run_, a, b))
        x, y = (plan.arrays[run_["kwargs"][k]["array"]] for k in ("x", "y"))
        assert np.array_equal(x, plan.meta["x"]) and np.array_equal(y, plan.meta["y"])
        assert all(0 <= r["kwargs"]["seed"] < 2**31 for r in (run_, a))
    assert routines[0]["kwargs"]["seed"] != routines[3]["kwargs"]["seed"]
    assert plan.meta["extra"] is None


def test_a_model_without_p_builds_one_component_with_the_targets_kwargs():
    t = Target("transforms", "noise", {"std": 0.3}, 2, GaussianNoise)
    plan = NOISE.plan(t, StochasticOptions())
    makes = [op for op in plan.ops if op["op"] == "make"]
    assert [(m["obj"], m["name"], m["kind"], m["kwargs"]) for m in makes] == [
        ("c0", "noise", "transforms", {"std": 0.3})
    ]
    assert NOISE.settings(t, StochasticOptions()) == [("", {"std": 0.3})]
    assert next(r["kwargs"]["times"] for r in plan.ops if r["op"] == "routine") == NOISE.draws
    assert FLIP.settings(t, StochasticOptions(p_values=(0.5, 0.1))) == [
        ("p=0.5", {"std": 0.3, "p": 0.5}),
        ("p=0.1", {"std": 0.3, "p": 0.1}),
    ]


def test_the_inputs_are_the_models_own():
    with pytest.raises(NotImplementedError):
        TransformModel().inputs(None, np.random.default_rng(0))
    with pytest.raises(NotImplementedError):
        TransformModel().judged(None, None, "", {}, None)
    assert TransformModel.kinds == ("transforms",) and not TransformModel.uses_p


# -------------------------------------------------------------------- shared cases
def test_a_correct_transform_passes_the_shared_cases_with_their_weights():
    got = features("flip", HorizontalFlip, options=StochasticOptions(p_values=(0.3, 0.7), draws=5))
    for at in (" (p=0.3)", " (p=0.7)"):
        assert got[f"a fresh draw each call{at}"] == (0.5, Category("ok"))
        assert got[f"randomness from rng{at}"] == (0.5, Category("ok"))
        assert got[f"labels unchanged{at}"] == (0.5, Category("ok"))
        assert got.severity[f"a fresh draw each call{at}"](None)
        assert got.severity[f"randomness from rng{at}"](None)
    assert "labels unchanged (p=0.3)" not in got.severity
    noise = features("noise", GaussianNoise)
    assert noise["a fresh draw each call"] == (0.5, Category("ok"))
    assert "randomness from rng" in noise


class FrozenNoise(GaussianNoise):
    def __call__(self, x, y, rng):
        return x + 0.1 * np.random.default_rng(1).standard_normal(x.shape), y


class Nothing:
    def __init__(self, std=0.1):
        pass

    def __call__(self, x, y, rng):
        return x, y


def test_the_same_output_from_every_call_is_frozen_unless_it_is_the_input():
    got = features("noise", FrozenNoise)
    assert got["a fresh draw each call"][1] == Category(
        "frozen",
        "received the same x and y from all 6 calls with one generator, expected a new random "
        "draw at every call: draw inside __call__ from rng, not once to reuse",
    )
    assert got["randomness from rng"][1] == Category("ok")
    assert features("noise", Nothing)["a fresh draw each call"][1] == Category("ok")


def test_fresh_judges_x_and_y_and_needs_two_calls():
    x, y = np.zeros((2, 3)), np.ones((2, 2))
    same = {"x": np.stack([x + 1, x + 1]), "y": np.stack([y, y])}
    assert transforms._fresh(lambda: same, x, y).value == "frozen"
    moved = {"x": same["x"], "y": np.stack([y, y + 1])}
    assert transforms._fresh(lambda: moved, x, y) == Category("ok")
    one = {"x": same["x"][:1], "y": same["y"][:1]}
    assert transforms._fresh(lambda: one, x, y) == Category("ok")
    inputs = {"x": np.stack([x, x]), "y": np.stack([y, y])}
    assert transforms._fresh(lambda: inputs, x, y) == Category("ok")
    x_only = {"x": np.stack([x, x]), "y": np.stack([y + 1, y + 1])}
    assert transforms._fresh(lambda: x_only, x, y).value == "frozen"
    y_only = {"x": np.stack([x + 1, x + 1]), "y": np.stack([y, y])}
    assert transforms._fresh(lambda: y_only, x, y).message.startswith(
        "received the same x and y from all 2 calls"
    )


class OwnGenerator(GaussianNoise):
    def __call__(self, x, y, rng):
        return super().__call__(x, y, np.random.default_rng())


class LabelsFromOwnGenerator(GaussianNoise):
    def __call__(self, x, y, rng):
        out, _ = super().__call__(x, y, rng)
        return out, y + 1e-3 * np.random.default_rng().random()


def test_randomness_not_from_rng_is_named():
    message = (
        "received different outputs from two runs with generators of the same seed, expected "
        "the same: take every random number from the rng argument"
    )
    assert features("noise", OwnGenerator)["randomness from rng"][1] == Category(
        "violated", message
    )
    got = features("noise", LabelsFromOwnGenerator)
    assert got["randomness from rng"][1] == Category("violated", message)
    assert got["labels unchanged"][1].value == "violated"


class NudgedLabels(GaussianNoise):
    def __init__(self, std=0.1, by=0.0):
        super().__init__(std)
        self.by = by

    def __call__(self, x, y, rng):
        out, _ = super().__call__(x, y, rng)
        y = y.copy()
        y[3, 1] += self.by * (1 + abs(y[3, 1]))
        return out, y


@pytest.mark.parametrize(("by", "ok"), [(0.9 * TIGHT, True), (1.5 * TIGHT, False)])
def test_labels_must_come_back_within_the_tight_tolerance(by, ok):
    assert TIGHT == 1e-9
    got = features("noise", lambda std=0.1: NudgedLabels(std, by))["labels unchanged"][1]
    if ok:
        assert got == Category("ok")
    else:
        assert got == Category(
            "violated", "batch 1, image 3: received a changed label, expected y unchanged"
        )


def test_the_first_changed_label_is_named_by_its_call_and_image():
    y = np.zeros((4, 3))
    out = {"y": np.stack([y, y, y])}
    out["y"][2, 1, 0] = 0.5
    out["y"][2, 3, 0] = 0.5
    found = transforms.FeatureSet()
    TransformModel.labels_unchanged(found, lambda: out, y, " (p=0.5)")
    assert found["labels unchanged (p=0.5)"] == (
        0.5,
        Category("violated", "batch 3, image 1: received a changed label, expected y unchanged"),
    )
    big = np.full((4, 3), 1e6)
    moved = {"y": np.stack([big + 5e-4])}
    found = transforms.FeatureSet()
    TransformModel.labels_unchanged(found, lambda: moved, big, "")
    assert found["labels unchanged"][1] == Category("ok")  # relative to |y|


@pytest.mark.parametrize(("above", "ok"), [(False, True), (True, False)])
def test_a_label_may_move_by_exactly_the_tight_tolerance(above, ok):
    y = np.zeros((4, 3))  # at 0 the tolerance is TIGHT itself
    moved = np.stack([y, y])
    moved[1, 2, 1] = np.nextafter(TIGHT, 1.0) if above else TIGHT
    found = transforms.FeatureSet()
    TransformModel.labels_unchanged(found, lambda: {"y": moved}, y, "")
    if ok:
        assert found["labels unchanged"][1] == Category("ok")
    else:
        assert found["labels unchanged"][1] == Category(
            "violated", "batch 2, image 2: received a changed label, expected y unchanged"
        )


# ----------------------------------------------------------------------- outputs
def test_outputs_are_read_back_with_their_shapes():
    x, y = np.zeros((4, 2)), np.zeros((4, 3))
    good = Outcome({"k": {"x": np.ones((5, 4, 2)), "y": np.ones((5, 4, 3)), "mutated": False}})
    got = TransformModel.run(good, "k", x, y, 5)
    assert got["x"].dtype == np.float64 and got["x"].shape == (5, 4, 2)
    assert got["y"].shape == (5, 4, 3)
    with pytest.raises(Unusable, match=r"^x returned by the transform: "):
        TransformModel.run(good, "k", x, y, 4)
    bad_y = Outcome({"k": {"x": np.ones((5, 4, 2)), "y": np.ones((5, 4, 2))}})
    with pytest.raises(Unusable, match=r"^y returned by the transform: "):
        TransformModel.run(bad_y, "k", x, y, 5)
    no_y = Outcome({"k": {"x": np.ones((5, 4, 2))}})
    with pytest.raises(Unusable, match=r"^y returned by the transform: "):
        TransformModel.run(no_y, "k", x, y, 5)
    with pytest.raises(Unusable, match=r"^the transform's outputs: not returned$"):
        TransformModel.run(Outcome({"k": [1]}), "k", x, y, 5)
    with pytest.raises(Unusable, match=r"^the transform's outputs: not computed \(timed out\)"):
        TransformModel.run(Outcome({}, detail="timed out"), "k", x, y, 5)


class Raises(GaussianNoise):
    def __call__(self, x, y, rng):
        raise KeyError("boom")


def test_a_transform_that_raises_leaves_the_cases_missing_with_the_error():
    got = features("noise", Raises)
    fresh = got["a fresh draw each call"][1]
    assert isinstance(fresh, Missing)
    assert fresh.message.startswith("the transform's outputs: not computed, your code raised ")
    assert "KeyError" in fresh.message
    assert isinstance(got["randomness from rng"][1], Missing)
    assert isinstance(got["labels unchanged"][1], Missing)


def test_each_setting_reads_its_own_runs():
    options = StochasticOptions(p_values=(0.0, 1.0), draws=4)
    model, t, options, plan, outcome = run("flip", HorizontalFlip, options=options)
    got = model.features(t, options, plan, outcome)
    assert got["flip fraction (p=0)"][1].value == 0.0
    assert got["flip fraction (p=1)"][1].value == 1.0
    assert got["a fresh draw each call (p=1)"][1] == Category(
        "frozen", got["a fresh draw each call (p=1)"][1].message
    )
    del outcome.values["rep1b"]
    got = model.features(t, options, plan, outcome)
    assert got["randomness from rng (p=0)"][1] == Category("ok")
    assert isinstance(got["randomness from rng (p=1)"][1], Missing)


# ---------------------------------------------------------------- inputs changed
class ScalesInput(GaussianNoise):
    def __call__(self, x, y, rng):
        out, labels = super().__call__(x, y, rng)
        x *= 2.0
        return out, labels


def test_a_transform_that_changes_its_inputs_is_named():
    model, _, _, plan, outcome = run("noise", ScalesInput)
    assert model.changed(plan, outcome) == ["the transform"]
    model, _, _, plan, outcome = run("noise", GaussianNoise)
    assert model.changed(plan, outcome) == []
    assert model.changed(plan, Outcome({"run0": {"mutated": 1}, "z": 3})) == []
    assert model.changed(plan, Outcome({"a": {"mutated": False}, "b": {"mutated": True}})) == [
        "the transform"
    ]


# ---------------------------------------------------------------------- helpers
def test_places_are_counted_as_students_count_and_problems_are_read():
    assert place(0, 0) == "batch 1, image 0"
    assert place(4, 7) == "batch 5, image 7"

    def unusable():
        raise Unusable("why")

    assert problem(unusable) == "why"
    assert problem(lambda: 3) is None
