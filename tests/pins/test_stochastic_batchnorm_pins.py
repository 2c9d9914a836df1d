"""Batchnorm's model (``checks.stochastic_batchnorm``), pinned: the running statistics read
back from test-time outputs at x = 0 and x = 1 (gamma = 1, beta = 0) against the lecture's
update replayed on the plan's batches, each feature's label, weight and severity, the two
severe test-time cases, and what an unusable outcome says."""

from __future__ import annotations

import numpy as np
import pytest

from gradekit.checks.base import Target
from gradekit.checks.features import Category, Exact, Missing
from gradekit.checks.stochastic import MODELS, StochasticOptions
from gradekit.checks.stochastic_layers import EXACT
from gradekit.sandbox.plan import Outcome
from gradekit.sandbox.runner import LocalSession
from gradekit_reference.layers import BatchNorm
from gradekit_reference.mutants import all_mutants

MODEL = MODELS["batchnorm"]
MUTANTS = {m.name: m.factory for m in all_mutants()}
OPTIONS = StochasticOptions(draws=12)
READ = "read from your test-time outputs at x = 0 and x = 1 with gamma = 1, beta = 0"
NAMES = [
    "training output, first batch",
    "training output, batch 12",
    "running mean",
    "running variance",
    "test time",
    "test time leaves the running statistics alone",
    "test time is per example",
    "test-time dx",
    "test-time dgamma",
    "test-time dbeta",
]


def run(factory=BatchNorm, kwargs=None, options=OPTIONS, seed=5):
    t = Target("layers", "batchnorm", kwargs or {"dim": 4}, seed, BatchNorm)
    plan = MODEL.plan(t, options)
    outcome = LocalSession({("layers", "batchnorm"): factory}).run(plan)
    return t, plan, outcome


def features(factory=BatchNorm, kwargs=None, options=OPTIONS):
    t, plan, outcome = run(factory, kwargs, options)
    return MODEL.features(t, options, plan, outcome)


def batches(plan):
    """The training batches, in order, from the plan."""
    return [
        plan.arrays[op["args"][0]["array"]]
        for op in plan.ops
        if op["op"] == "call" and op["kwargs"].get("training") is True
    ]


def replayed(plan, momentum=0.1):
    """The lecture's running statistics: zeros and ones, then (1 - m) old + m batch."""
    dim = plan.meta["dim"]
    mean, var = np.zeros(dim), np.ones(dim)
    for x in batches(plan):
        mean = (1 - momentum) * mean + momentum * x.mean(axis=0)
        var = (1 - momentum) * var + momentum * x.var(axis=0)
    return mean, var


# -------------------------------------------------------------------------- the plan
def test_the_plan_trains_reads_the_running_statistics_and_tests():
    _, plan, _ = run(kwargs={"dim": 3, "eps": 1e-3})
    assert plan.meta == {"dim": 3, "eps": 1e-3, "draws": 12}
    train = batches(plan)
    assert len(train) == 12 and all(x.shape == (8, 3) for x in train)
    calls = [op for op in plan.ops if op["op"] == "call"]
    saves = [op["save"] for op in calls]
    assert saves[0] == "train_first" and saves[11] == "train_last"
    assert saves[1:11] == [None] * 10
    assert [op["watch"] for op in calls[:12]] == [True] + [False] * 11
    assert saves[12:] == ["eval", "at0", "at1", "single", "eval_again", "dx_eval"]
    by = {op["save"]: op for op in calls}
    assert by["eval"]["watch"] and by["dx_eval"]["watch"] and by["dx_eval"]["method"] == "backward"
    assert all(by[k]["kwargs"] == {"training": False} for k in ("eval", "at0", "at1", "single"))
    arg = {k: plan.arrays[by[k]["args"][0]["array"]] for k in ("eval", "at0", "at1", "single")}
    assert np.array_equal(arg["at0"], np.zeros((1, 3))) and np.array_equal(
        arg["at1"], np.ones((1, 3))
    )
    assert np.array_equal(arg["single"], arg["eval"][:1]) and arg["eval"].shape == (6, 3)
    assert by["eval_again"]["args"] == by["eval"]["args"]
    assert [op for op in plan.ops if op["op"] == "get"] == [
        {"op": "get", "obj": "c", "attr": "grads", "save": "grads_eval"}
    ]


def test_the_running_statistics_are_read_with_gamma_one_and_beta_zero():
    _, plan, _ = run()
    params = [
        (op["key"], plan.arrays[op["value"]["array"]]) for op in plan.ops if op["op"] == "set_param"
    ]
    assert [k for k, _ in params] == ["gamma", "beta", "gamma", "beta", "gamma", "beta"]
    (_, gamma), (_, beta), (_, one), (_, zero), (_, gamma2), (_, beta2) = params
    assert np.all((gamma >= 0.5) & (gamma <= 2.0)) and not np.allclose(beta, 0)
    assert np.array_equal(one, np.ones(4)) and np.array_equal(zero, np.zeros(4))
    assert np.array_equal(gamma2, gamma) and np.array_equal(beta2, beta)
    order = [
        op.get("key") or op.get("save") for op in plan.ops if op["op"] in ("set_param", "call")
    ]
    assert order.index("at0") > order.index("eval") and order.index("at1") < order.index("single")


def test_a_layer_without_dim_is_refused_and_eps_comes_from_the_layer():
    with pytest.raises(ValueError, match=r"^the batchnorm model needs the kwarg dim$"):
        MODEL.plan(Target("layers", "batchnorm", {}, 0, BatchNorm), OPTIONS)
    t = Target("layers", "batchnorm", {"dim": 2}, 0, BatchNorm)
    assert MODEL.plan(t, StochasticOptions()).meta == {"dim": 2, "eps": 1e-5, "draws": 250}


# ---------------------------------------------------------------------- features
def test_a_correct_layers_features_with_their_labels_and_weights():
    t, plan, outcome = run()
    got = MODEL.features(t, OPTIONS, plan, outcome)
    assert list(got) == NAMES
    assert [w for w, _ in got.values()] == [1, 1, 1, 1, 1, 0.5, 0.5, 1, 0.5, 0.5]
    assert set(got.severity) == {
        "test time leaves the running statistics alone",
        "test time is per example",
    }
    assert all(rule(None) for rule in got.severity.values())
    labels = {name: f.label for name, (_, f) in got.items() if isinstance(f, Exact)}
    assert labels == {
        "training output, first batch": "training output of batch 1 (normalized with the batch "
        "mean and biased batch variance)",
        "training output, batch 12": "training output of batch 12",
        "running mean": f"running_mean after 12 batches ({READ})",
        "running variance": f"running_var after 12 batches ({READ}; the biased batch variance, "
        "running = (1 - momentum) running + momentum batch)",
        "test time": "test-time output (gamma xhat + beta, xhat from the running statistics)",
        "test-time dx": "dx of a test-time backward",
        "test-time dgamma": "dgamma of a test-time backward",
        "test-time dbeta": "dbeta of a test-time backward",
    }
    assert all(f.rtol == EXACT for _, f in got.values() if isinstance(f, Exact))
    for name in NAMES[5:7]:
        assert got[name][1] == Category("ok")
    mean, var = replayed(plan)
    assert np.allclose(got["running mean"][1].value, mean, rtol=1e-9, atol=1e-12)
    assert np.allclose(got["running variance"][1].value, var, rtol=1e-7)
    assert np.array_equal(
        got["training output, first batch"][1].value, outcome.values["train_first"]
    )
    assert np.array_equal(got["training output, batch 12"][1].value, outcome.values["train_last"])
    assert np.array_equal(got["test time"][1].value, outcome.values["eval"])
    assert np.array_equal(got["test-time dx"][1].value, outcome.values["dx_eval"])
    assert np.array_equal(got["test-time dgamma"][1].value, outcome.values["grads_eval"]["gamma"])
    assert np.array_equal(got["test-time dbeta"][1].value, outcome.values["grads_eval"]["beta"])


def test_the_eps_subtracted_from_the_running_variance_is_the_layers():
    t, plan, outcome = run(kwargs={"dim": 3, "eps": 0.5})
    got = MODEL.features(t, OPTIONS, plan, outcome)
    _, var = replayed(plan)
    assert np.allclose(got["running variance"][1].value, var, rtol=1e-9)


def test_an_unbiased_running_variance_is_told_from_the_biased_one():
    got = features(MUTANTS["batchnorm_unbiased_variance"])
    ref = features()
    assert not np.allclose(
        got["running variance"][1].value, ref["running variance"][1].value, rtol=1e-6
    )
    assert np.allclose(got["running mean"][1].value, ref["running mean"][1].value, rtol=1e-9)


def test_batch_statistics_at_test_time_fail_the_severe_cases():
    got = features(MUTANTS["batchnorm_batch_stats_at_test"])
    per_example = got["test time is per example"][1]
    assert per_example == Category(
        "violated",
        "received another test-time output for an example alone than in a batch, expected "
        "the same: test time normalizes with the running statistics only",
    )
    inv = got["running mean"][1]
    assert isinstance(inv, Missing)
    assert inv.message.startswith("received y(x = 1) - y(x = 0) = ")
    assert inv.message.endswith(
        "for feature 0 at test time with gamma = 1 and beta = 0, expected 1 / sqrt(running_var "
        "+ eps) > 0: test time normalizes with the running statistics"
    )


class UpdatesAtTest(BatchNorm):
    def forward(self, x, *, training=True):
        y = super().forward(x, training=training)
        if not training:
            self.running_mean = self.running_mean + 0.01
        return y


def test_a_test_time_that_moves_the_running_statistics_is_named():
    got = features(UpdatesAtTest)
    assert got["test time leaves the running statistics alone"][1] == Category(
        "violated",
        "received another output from the same test-time forward after other test-time "
        "forwards, expected the same: test time must not update the running statistics",
    )
    assert got["test time is per example"][1].value == "violated"


class NearlyPure(BatchNorm):
    """Moves the running mean by a relative hair at each test-time call."""

    def __init__(self, dim, eps=1e-5, momentum=0.1, by=0.0):
        super().__init__(dim, eps, momentum)
        self.by = by

    def forward(self, x, *, training=True):
        if not training:
            self.running_mean = self.running_mean * (1 + self.by)
        return super().forward(x, training=training)


@pytest.mark.parametrize(("by", "ok"), [(1e-14, True), (1e-9, False)])
def test_test_time_equality_is_within_1e_minus_12(by, ok):
    got = features(lambda dim: NearlyPure(dim, by=by))
    assert (got["test time leaves the running statistics alone"][1] == Category("ok")) == ok


class Decreasing(BatchNorm):
    def forward(self, x, *, training=True):
        y = super().forward(x, training=training)
        if not training:
            y = y.copy()
            y[:, 2] = -y[:, 2]
        return y


def test_a_test_time_output_that_does_not_increase_with_x_names_the_feature():
    got = features(Decreasing)
    message = got["running variance"][1].message
    assert message.startswith("received y(x = 1) - y(x = 0) = -")
    assert " for feature 2 at test time" in message


def test_a_missing_gradient_or_grads_is_named():
    t, plan, outcome = run()
    del outcome.values["grads_eval"]["beta"]
    got = MODEL.features(t, OPTIONS, plan, outcome)
    assert got["test-time dbeta"][1] == Missing(
        "grads has no key 'beta' after a test-time backward"
    )
    assert isinstance(got["test-time dgamma"][1], Exact)
    outcome.values["grads_eval"] = [1.0]
    got = MODEL.features(t, OPTIONS, plan, outcome)
    assert got["test-time dgamma"][1] == Missing(
        "grads has no key 'gamma' after a test-time backward"
    )
    outcome.values["grads_eval"] = {"gamma": np.ones(3), "beta": np.ones(4)}
    got = MODEL.features(t, OPTIONS, plan, outcome)
    assert got["test-time dgamma"][1].message.startswith("dgamma of a test-time backward: ")
    assert isinstance(got["test-time dbeta"][1], Exact)


def test_missing_or_misshapen_outputs_are_named():
    t, plan, outcome = run()
    outcome.values["at1"] = np.ones((2, 4))
    outcome.values["train_last"] = np.ones((8, 3))
    outcome.values["dx_eval"] = np.ones((6, 3))
    got = MODEL.features(t, OPTIONS, plan, outcome)
    assert got["running mean"][1].message.startswith("test-time forward at x = 1: ")
    assert got["training output, batch 12"][1].message.startswith("training output of batch 12: ")
    assert got["test-time dx"][1].message.startswith("dx of a test-time backward: ")
    outcome.values["at0"] = np.ones((1, 5))
    got = MODEL.features(t, OPTIONS, plan, outcome)
    assert got["running variance"][1].message.startswith("test-time forward at x = 0: ")
    outcome.values["single"] = np.ones((2, 4))
    outcome.values["eval_again"] = np.ones((5, 4))
    got = MODEL.features(t, OPTIONS, plan, outcome)
    assert got["test time is per example"][1].message.startswith("single: ")
    assert got["test time leaves the running statistics alone"][1].message.startswith(
        "eval_again: "
    )
    outcome.values["train_first"] = np.ones((8, 5))
    outcome.values["eval"] = np.ones((8, 4))
    got = MODEL.features(t, OPTIONS, plan, outcome)
    assert got["training output, first batch"][1].message.startswith("training output of batch 1 ")
    assert got["test time"][1].message.startswith("test-time output (gamma xhat + beta")


def test_a_misshapen_test_time_output_is_named_by_the_severe_cases_not_violated():
    t, plan, outcome = run()
    outcome.values["eval"] = np.ones((7, 4))
    got = MODEL.features(t, OPTIONS, plan, outcome)
    for name in ("test time leaves the running statistics alone", "test time is per example"):
        assert isinstance(got[name][1], Missing)
        assert got[name][1].message.startswith("eval: ")
    outcome.values["eval"] = np.ones(4)
    got = MODEL.features(t, OPTIONS, plan, outcome)
    assert got["test time is per example"][1].message.startswith("eval: ")


def test_calls_that_change_their_input_are_named():
    class Scales(BatchNorm):
        def forward(self, x, *, training=True):
            y = super().forward(x, training=training)
            x *= 2.0
            return y

        def backward(self, dout):
            dx = super().backward(dout)
            dout *= 2.0
            return dx

    _, plan, outcome = run(Scales)
    assert MODEL.changed(plan, outcome) == ["backward", "forward"]
    _, plan, outcome = run()
    assert MODEL.changed(plan, outcome) == []
    outcome = Outcome({"eval.mutated": [0], "train_first.mutated": []})
    assert MODEL.changed(plan, outcome) == ["forward"]


def test_a_training_forward_that_changes_its_input_is_named():
    class ScalesInTraining(BatchNorm):
        def forward(self, x, *, training=True):
            y = super().forward(x, training=training)
            if training:
                x *= 2.0
            return y

    _, plan, outcome = run(ScalesInTraining)
    assert MODEL.changed(plan, outcome) == ["forward"]
    assert MODEL.changed(plan, Outcome({"train_first.mutated": [0]})) == ["forward"]
