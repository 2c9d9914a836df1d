"""The random layers' models (``checks.stochastic_layers``), pinned: each feature of
dropout (inverted and vanilla) and DropConnect, its value on correct and wrong layers, its
label, weight and severity, and what an unusable outcome says."""

from __future__ import annotations

import numpy as np
import pytest

from gradekit.checks import stochastic_layers as layers
from gradekit.checks.base import Target
from gradekit.checks.features import Category, Exact, Missing, Statistic
from gradekit.checks.stochastic import StochasticOptions, independent_seeds
from gradekit.sandbox.plan import Outcome
from gradekit.sandbox.runner import LocalSession
from gradekit_reference import COMPONENTS
from gradekit_reference.layers import DropConnect, Dropout
from gradekit_reference.mutants import all_mutants

MUTANTS = {m.name: m.factory for m in all_mutants()}
OPTIONS = StochasticOptions(p_values=(0.2, 0.8))
DC = {"din": 12, "dout": 6}


def run(name, factory, kwargs=None, options=OPTIONS, seed=4, other=False):
    t = Target("layers", name, kwargs or {}, seed, COMPONENTS["layers"][name])
    model = layers.LAYER_MODELS[name]
    plan = model.plan(t, options)
    ran = independent_seeds(plan) if other else plan
    outcome = LocalSession({("layers", name): factory}).run(ran)
    return model, t, plan, outcome


def features(name, factory, kwargs=None, options=OPTIONS, seed=4):
    model, t, plan, outcome = run(name, factory, kwargs, options, seed)
    return model.features(t, options, plan, outcome)


def near(stat: Statistic, value: float, k: float = 6.0) -> bool:
    return isinstance(stat, Statistic) and abs(stat.value - value) <= k * stat.se + 1e-12


# ----------------------------------------------------------------------- dropout
def test_inverted_dropouts_features_on_a_correct_layer():
    got = features("dropout", COMPONENTS["layers"]["dropout"])
    assert list(got) == [
        f"{case} (p={p})"
        for p in ("0.2", "0.8")
        for case in (
            "keep fraction",
            "kept units' scale",
            "expectation",
            "independent across examples",
            "fresh mask each forward",
            "test time",
            "backward through the mask",
            "mask from self.rng",
        )
    ]
    weights = [w for w, _ in got.values()]
    assert weights == [1.0, 1.0, 1.0, 0.5, 0.5, 1.0, 1.0, 0.5] * 2
    for p in (0.2, 0.8):
        at = f"p={p:g}"
        keep = got[f"keep fraction ({at})"][1]
        assert near(keep, p) and keep.se > 0 and keep.n == 4 * 100 * 50
        assert keep.label == f"fraction of units kept at {at} (p keeps, 1 - p drops)"
        scale = got[f"kept units' scale ({at})"][1]
        assert isinstance(scale, Exact) and scale.rtol == layers.EXACT == 1e-9
        assert scale.value == pytest.approx(1 / p, rel=1e-12)
        assert scale.label == f"output / input of a kept unit at {at} (1/p)"
        mean = got[f"expectation ({at})"][1]
        assert near(mean, 1.0) and mean.se > 0
        assert mean.label == f"mean of output / input at {at} (E[y] = x for inverted dropout)"
        for case, label in (
            ("independent across examples", "correlation of two examples' masks"),
            ("fresh mask each forward", "correlation of two forward passes' masks"),
        ):
            r = got[f"{case} ({at})"][1]
            assert near(r, 0.0) and r.label == f"{label} at {at}"
        test = got[f"test time ({at})"][1]
        assert isinstance(test, Exact) and test.label == f"test-time output at {at}"
        assert test.rtol == layers.EXACT
        for case in ("backward through the mask", "mask from self.rng"):
            assert got[f"{case} ({at})"][1] == Category("ok")


def test_the_layers_own_draws_are_measured():
    model, t, plan, outcome = run("dropout", COMPONENTS["layers"]["dropout"])
    got = model.features(t, OPTIONS, plan, outcome)
    x = plan.meta["x"]
    for i, p in enumerate((0.2, 0.8)):
        train = np.stack([outcome.values[f"train{i}:{k}"] for k in range(4)])
        at = f"p={p:g}"
        assert got[f"keep fraction ({at})"][1].value == pytest.approx(np.mean(train != 0))
        assert got[f"expectation ({at})"][1].value == pytest.approx(np.mean(train / x))
        assert np.array_equal(got[f"test time ({at})"][1].value, outcome.values[f"eval{i}"])
        assert np.array_equal(got[f"test time ({at})"][1].value, x)


def test_vanilla_dropout_keeps_the_scale_and_expects_p_x():
    got = features("vanilla_dropout", COMPONENTS["layers"]["vanilla_dropout"])
    _, _, plan, _ = run("vanilla_dropout", COMPONENTS["layers"]["vanilla_dropout"])
    for p in (0.2, 0.8):
        at = f"p={p:g}"
        scale = got[f"kept units' scale ({at})"][1]
        assert scale.value == pytest.approx(1.0, rel=1e-12)
        assert scale.label == (
            f"output / input of a kept unit at {at} (1: vanilla dropout does not rescale in "
            "training)"
        )
        mean = got[f"expectation ({at})"][1]
        assert near(mean, p)
        assert mean.label == f"mean of output / input at {at} (E[y] = p x for vanilla dropout)"
        assert np.allclose(got[f"test time ({at})"][1].value, p * plan.meta["x"], rtol=1e-12)


def test_a_keep_fraction_of_one_is_severe_and_any_other_is_not():
    assert layers.nothing_dropped(Statistic(1.0, 0.0, 10, ""))
    assert not layers.nothing_dropped(Statistic(0.999, 0.0, 10, ""))
    assert not layers.nothing_dropped(Category("ok"))
    got = features("dropout", COMPONENTS["layers"]["dropout"])
    rule = got.severity
    assert rule["keep fraction (p=0.2)"] is layers.nothing_dropped
    assert set(rule) == {
        f"{case} (p={p})"
        for p in ("0.2", "0.8")
        for case in ("keep fraction", "fresh mask each forward", "test time")
    }
    assert rule["test time (p=0.8)"](Category("ok")) and rule["fresh mask each forward (p=0.2)"](
        None
    )


def test_p_read_as_the_drop_probability_shows_in_the_keep_fraction_and_expectation():
    got = features("dropout", MUTANTS["dropout_p_is_drop"])
    assert near(got["keep fraction (p=0.2)"][1], 0.8)
    assert near(got["keep fraction (p=0.8)"][1], 0.2)


def test_a_frozen_or_shared_mask_is_correlated_along_its_axis():
    frozen = features("dropout", MUTANTS["dropout_frozen_mask"])
    assert frozen["fresh mask each forward (p=0.2)"][1].value == pytest.approx(1.0)
    assert near(frozen["independent across examples (p=0.2)"][1], 0.0)
    shared = features("dropout", MUTANTS["dropout_one_mask_per_batch"])
    assert shared["independent across examples (p=0.8)"][1].value == pytest.approx(1.0)
    assert near(shared["fresh mask each forward (p=0.8)"][1], 0.0)


class StrayBackward(Dropout):
    """Right forward, backward with a fresh mask: not the forward's."""

    def backward(self, dout):
        return np.asarray(dout) * (self.rng.random(np.shape(dout)) < self.p) / self.p


class OwnGenerator(Dropout):
    def forward(self, x, *, training=True):
        self.rng = np.random.default_rng()
        return super().forward(x, training=training)


def test_a_backward_with_another_mask_and_a_mask_not_from_self_rng_are_named():
    got = features("dropout", StrayBackward)
    back = got["backward through the mask (p=0.2)"][1]
    assert back.value == "violated"
    assert back.message.startswith("dx at p=0.2[")
    assert " from the dout times your forward's mask; relative error " in back.message
    own = features("dropout", OwnGenerator)["mask from self.rng (p=0.8)"][1]
    assert own == Category(
        "violated",
        "mask from self.rng (p=0.8): received different outputs from two training forwards "
        "with self.rng reset to the same seed, expected the same mask: draw it from self.rng "
        "(the grader may replace it)",
    )


class DropsAll(Dropout):
    def forward(self, x, *, training=True):
        self._mask = np.zeros_like(x) if training else np.ones_like(x)
        return x * self._mask


def test_no_kept_unit_leaves_the_scale_unmeasured():
    got = features("dropout", DropsAll)
    assert got["kept units' scale (p=0.2)"][1] == Missing("no unit was kept at p=0.2")
    assert got["keep fraction (p=0.2)"][1].value == 0.0


def test_a_missing_training_output_is_named_with_the_setting():
    model, t, plan, outcome = run("dropout", COMPONENTS["layers"]["dropout"])
    del outcome.values["train1:2"]
    outcome.detail = "gone"
    got = model.features(t, OPTIONS, plan, outcome)
    assert got["keep fraction (p=0.8)"][1] == Missing(
        "training forward at p=0.8: not computed (gone)"
    )
    assert isinstance(got["keep fraction (p=0.2)"][1], Statistic)
    outcome.values["eval0"] = outcome.values["eval0"][:3]
    got = model.features(t, OPTIONS, plan, outcome)
    assert got["test time (p=0.2)"][1].message.startswith("test-time forward at p=0.2: ")
    outcome.values["dx0"] = outcome.values["dx0"][:, :7]
    back = model.features(t, OPTIONS, plan, outcome)["backward through the mask (p=0.2)"][1]
    assert back.message.startswith("backward at p=0.2: expected shape (100, 50)")
    del outcome.values["dx0"]
    back = model.features(t, OPTIONS, plan, outcome)["backward through the mask (p=0.2)"][1]
    assert back.message.startswith("backward at p=0.2: not computed")
    outcome.values["train0:0"] = outcome.values["train0:0"][:, :7]
    back = model.features(t, OPTIONS, plan, outcome)["backward through the mask (p=0.2)"][1]
    assert back.message.startswith("training forward at p=0.2: expected shape (100, 50)")
    del outcome.values["train0:0"]
    back = model.features(t, OPTIONS, plan, outcome)["backward through the mask (p=0.2)"][1]
    assert back.message.startswith("training forward at p=0.2: not computed")


def test_the_reproducibility_runs_must_have_the_inputs_shape():
    model, t, plan, outcome = run("dropout", COMPONENTS["layers"]["dropout"])
    outcome.values["rep1a"] = outcome.values["rep1b"] = np.ones((100, 49))
    got = model.features(t, OPTIONS, plan, outcome)
    assert got["mask from self.rng (p=0.8)"][1].message.startswith(
        "rep1a: expected shape (100, 50)"
    )
    outcome.values["rep1a"] = np.ones((100, 50))
    got = model.features(t, OPTIONS, plan, outcome)
    assert got["mask from self.rng (p=0.8)"][1].message.startswith(
        "rep1b: expected shape (100, 50)"
    )


def test_the_draws_option_sets_the_forwards():
    options = StochasticOptions(p_values=(0.3,), draws=2)
    model, t, plan, outcome = run("dropout", COMPONENTS["layers"]["dropout"], options=options)
    assert {k for k in outcome.values if k.startswith("train0:")} == {
        "train0:0",
        "train0:0.mutated",
        "train0:1",
    }
    got = model.features(t, options, plan, outcome)
    assert got["keep fraction (p=0.3)"][1].n == 2 * 100 * 50


def test_a_dropout_layer_that_changes_its_input_is_named():
    class Scales(Dropout):
        def forward(self, x, *, training=True):
            y = super().forward(x, training=training)
            x *= 2.0
            return y

        def backward(self, dout):
            dout *= 1.0
            dout[0, 0] = 7.0
            return super().backward(dout)

    model, _, plan, outcome = run("dropout", Scales)
    assert model.changed(plan, outcome) == ["backward", "forward"]
    model, _, plan, outcome = run("dropout", COMPONENTS["layers"]["dropout"])
    assert model.changed(plan, outcome) == []


# ------------------------------------------------------------------- dropconnect
def test_dropconnects_features_on_a_correct_layer():
    options = StochasticOptions(p_values=(0.2, 0.8), draws=60)
    model, t, plan, outcome = run("dropconnect", DropConnect, DC, options)
    got = model.features(t, options, plan, outcome)
    assert list(got) == [
        f"{case} (p={p})"
        for p in ("0.2", "0.8")
        for case in (
            "keep fraction",
            "mask on the weights",
            "mask is 0 or 1",
            "fresh mask each forward",
            "test time",
            "mask from self.rng",
        )
    ]
    assert [w for w, _ in got.values()] == [1.0, 1.0, 0.5, 0.5, 1.0, 0.5] * 2
    setting = "with W = 1, b = 0, x = 1"
    for i, p in enumerate((0.2, 0.8)):
        at = f"p={p:g}"
        keep = got[f"keep fraction ({at})"][1]
        assert near(keep, p) and keep.n == 60 * 6
        assert keep.label == f"output / din {setting} at {at} (the keep fraction p)"
        counts = outcome.values[f"counts{i}"].reshape(60, 6)
        assert keep.value == pytest.approx(counts.mean() / 12)
        var = got[f"mask on the weights ({at})"][1]
        assert near(var, p * (1 - p)) and var.se > 0
        assert var.value == pytest.approx(np.mean((counts - counts.mean()) ** 2) / 12)
        assert var.label == (
            f"variance of the output / din {setting} at {at} (p (1 - p) for a mask on the "
            "weights; din p (1 - p) if whole output units are dropped)"
        )
        assert got[f"mask is 0 or 1 ({at})"][1] == Category("ok")
        r = got[f"fresh mask each forward ({at})"][1]
        assert near(r, 0.0) and r.label == f"correlation of two forward passes at {at}"
        test = got[f"test time ({at})"][1]
        w, b = (
            [
                plan.arrays[op["value"]["array"]]
                for op in plan.ops
                if op["op"] == "set_param" and op["obj"] == f"c{i}" and op["key"] == key
            ][-1]
            for key in ("W", "b")
        )
        assert test.label == f"test-time output at {at} (x @ (p W) + b)"
        assert test.rtol == layers.EXACT
        assert np.allclose(test.value, plan.meta["x"] @ (p * w) + b, rtol=1e-12)
        assert got[f"mask from self.rng ({at})"][1] == Category("ok")
    assert got.severity["keep fraction (p=0.8)"] is layers.nothing_dropped
    assert set(got.severity) == {
        f"{case} (p={p})"
        for p in ("0.2", "0.8")
        for case in ("keep fraction", "fresh mask each forward", "test time")
    }


def test_a_mask_on_the_units_has_din_times_the_variance():
    options = StochasticOptions(p_values=(0.5,), draws=80)
    got = features("dropconnect", MUTANTS["dropconnect_masks_units"], DC, options)
    var = got["mask on the weights (p=0.5)"][1]
    assert near(var, 12 * 0.25)


class HalfMask(DropConnect):
    """Scales by p in training too: non-integer outputs with W = 1 and x = 1."""

    def forward(self, x, *, training=True):
        self._x = np.asarray(x, dtype=np.float64)
        self._mask = np.full_like(self.params["W"], self.p)
        return self._x @ (self.params["W"] * self._mask) + self.params["b"]


def test_a_mask_that_is_not_0_or_1_names_the_first_output():
    options = StochasticOptions(p_values=(0.3,), draws=5)
    got = features("dropconnect", HalfMask, DC, options)
    assert got["mask is 0 or 1 (p=0.3)"][1] == Category(
        "violated",
        "forward 1 with W = 1, b = 0, x = 1 at p=0.3: received output 0 = 3.6, expected an "
        "integer (the count of kept weights): the mask is 0 or 1 in training, and test time "
        "scales by p",
    )
    assert got["keep fraction (p=0.3)"][1].value == pytest.approx(0.3)


def test_dropconnect_outputs_that_are_missing_or_not_integers_by_a_hair():
    options = StochasticOptions(p_values=(0.4,), draws=10)
    model, t, plan, outcome = run("dropconnect", DropConnect, DC, options)
    counts = outcome.values["counts0"]
    counts[3, 0, 2] += 2e-9
    got = model.features(t, options, plan, outcome)
    assert got["mask is 0 or 1 (p=0.4)"][1].message.startswith("forward 4 ")
    assert "received output 2 = " in got["mask is 0 or 1 (p=0.4)"][1].message
    counts[3, 0, 2] -= 2e-9
    counts[3, 0, 2] += 5e-10
    got = model.features(t, options, plan, outcome)
    assert got["mask is 0 or 1 (p=0.4)"][1] == Category("ok")
    del outcome.values["counts0"]
    outcome.detail = "lost"
    got = model.features(t, options, plan, outcome)
    assert got["keep fraction (p=0.4)"][1] == Missing(
        "training forward at p=0.4 with W = 1, b = 0, x = 1: not computed (lost)"
    )
    del outcome.values["eval0"]
    got = model.features(t, options, plan, outcome)
    assert got["test time (p=0.4)"][1] == Missing("test-time forward at p=0.4: not computed (lost)")


class DropConnectOwnGenerator(DropConnect):
    def forward(self, x, *, training=True):
        self.rng = np.random.default_rng()
        return super().forward(x, training=training)


def test_dropconnect_masks_not_from_self_rng_are_named():
    options = StochasticOptions(p_values=(0.5,), draws=5)
    got = features("dropconnect", DropConnectOwnGenerator, DC, options)
    assert got["mask from self.rng (p=0.5)"][1].value == "violated"
    assert got["mask from self.rng (p=0.5)"][1].message.startswith(
        "mask from self.rng (p=0.5): received different outputs"
    )


def test_dropconnect_changing_its_input_at_test_time_is_named():
    class Scales(DropConnect):
        def forward(self, x, *, training=True):
            y = super().forward(x, training=training)
            if not training:
                x *= 2.0
            return y

    options = StochasticOptions(p_values=(0.5,), draws=3)
    model, _, plan, outcome = run("dropconnect", Scales, DC, options)
    assert model.changed(plan, outcome) == ["forward"]
    model, _, plan, outcome = run("dropconnect", DropConnect, DC, options)
    assert model.changed(plan, outcome) == []


def test_same_needs_equal_shapes_and_entries():
    a = np.array([[1.0, 2.0]])
    assert layers._same("m", a, a.copy(), "w") == Category("ok")
    assert layers._same("m", a, a.T, "w") == Category("violated", "m: w")
    assert layers._same("m", a, a + 1e-15 * 0 + np.array([[0.0, 1e-12]]), "w").value == "violated"


def test_an_empty_outcome_leaves_every_feature_missing():
    model = layers.LAYER_MODELS["dropout"]
    t = Target("layers", "dropout", {}, 0, COMPONENTS["layers"]["dropout"])
    plan = model.plan(t, OPTIONS)
    got = model.features(t, OPTIONS, plan, Outcome(status="crashed"))
    assert all(isinstance(f, Missing) for _, f in got.values())
    assert got["mask from self.rng (p=0.2)"][1].message == "rep0a: not computed (crashed)"
