"""The inputs of checks (``checks.inputs``), pinned: kinks kept at a distance, shapes from
the reference, and loss targets of each kind."""

from __future__ import annotations

from types import SimpleNamespace
from typing import ClassVar

import numpy as np
import pytest

from gradekit.checks.base import Target
from gradekit.checks.inputs import (
    away_from,
    input_shape,
    loss_inputs,
    output_shape,
    reference_params,
)


class Recorder:
    """A layer that records what it was given and returns ``(batch, 2 * width)``."""

    built: ClassVar[list[Recorder]] = []

    def __init__(self, **kwargs):
        self.kwargs = kwargs
        self.params = {"W": np.zeros((3, 2)), "b": np.zeros(2)}
        self.rng = None
        Recorder.built.append(self)

    def forward(self, x, *, training=True):
        self.seen = (x, training, {k: v.copy() for k, v in self.params.items()})
        return np.zeros((x.shape[0], 2 * x.shape[1]))


def target(name: str = "linear", **kwargs) -> Target:
    return Target("layers", name, kwargs, 7, Recorder)


def test_away_from_pushes_entries_beyond_the_margin_keeping_their_side():
    got = away_from(np.array([0.3, -0.2, 0.0, 1.5]), 0.0, 0.1)
    assert got == pytest.approx([0.4, -0.3, 0.1, 1.6])
    assert away_from(np.array([1.0, 0.5, 2.0]), 1.0, 0.25) == pytest.approx([1.25, 0.25, 2.25])


def test_input_shape_takes_the_width_the_component_fixes():
    options = SimpleNamespace(batch=4, features=7)
    assert input_shape(target(din=3, dim=5), options) == (4, 3)
    assert input_shape(target(dim=5), options) == (4, 5)
    assert input_shape(target(), options) == (4, 7)
    assert input_shape(target(din=np.int64(3)), options) == (4, 3)
    assert type(input_shape(target(din=np.int64(3)), options)[1]) is int


def test_reference_params_are_normal_draws_of_the_reference_shapes():
    got = reference_params(target(), np.random.default_rng(3))
    rng = np.random.default_rng(3)
    assert list(got) == ["W", "b"]
    assert np.array_equal(got["W"], rng.standard_normal((3, 2)))
    assert np.array_equal(got["b"], rng.standard_normal(2))


@pytest.mark.parametrize("training", [True, False])
def test_output_shape_runs_the_reference_with_the_same_parameters(training):
    Recorder.built.clear()
    params = {"W": np.full((3, 2), 2.0), "b": np.ones(2)}
    x = np.ones((5, 3))
    assert output_shape(target(), params, x, training, seed=11) == (5, 6)
    (layer,) = Recorder.built
    seen_x, seen_training, seen_params = layer.seen
    assert seen_training is training
    assert seen_x is not x and np.array_equal(seen_x, x)
    assert all(np.array_equal(seen_params[k], params[k]) for k in params)
    assert layer.params["W"] is not params["W"]
    assert layer.rng.random() == np.random.default_rng(11).random()


def test_output_shape_without_a_seed_leaves_the_generator():
    Recorder.built.clear()
    output_shape(target(), {}, np.ones((2, 3)), True, seed=None)
    assert Recorder.built[0].rng is None


def options(targets=None, **kw) -> SimpleNamespace:
    return SimpleNamespace(**{"targets": targets, "batch": 200, "features": 3, "margin": 0.1, **kw})


def test_loss_labels_are_every_class_index():
    scores, labels = loss_inputs(
        target("softmax_cross_entropy"), options(), np.random.default_rng(0)
    )
    assert scores.shape == (200, 3)
    assert labels.shape == (200,) and labels.dtype.kind == "i"
    assert set(labels.tolist()) == {0, 1, 2}
    assert 0.8 < np.std(scores) < 1.2 and abs(np.mean(scores)) < 0.2  # standard normal


def test_hinge_targets_are_signs_and_scores_stay_off_the_kink():
    scores, t = loss_inputs(target("hinge"), options(), np.random.default_rng(0))
    assert scores.shape == t.shape == (200,)
    assert set(t.tolist()) == {-1.0, 1.0}
    margins = t * scores - 1.0
    assert np.all(np.abs(margins) >= 0.1 - 1e-12)
    assert np.any(margins < 0) and np.any(margins > 0)
    assert np.min(np.abs(margins)) < 0.2  # pushed just beyond the margin, not further
    assert 0.9 < np.std(margins) < 1.4  # t z - 1: a standard normal pushed off 0


def test_real_targets_by_default_and_when_asked():
    for name, asked in [("squared_error", None), ("my_loss", None), ("hinge", "real")]:
        scores, t = loss_inputs(target(name), options(asked), np.random.default_rng(0))
        assert scores.shape == t.shape == (200, 3)
        assert t.dtype == np.float64 and np.any(t != np.round(t))
        assert 0.8 < np.std(scores) < 1.2 and 0.8 < np.std(t) < 1.2  # standard normal
    _, labels = loss_inputs(target("squared_error"), options("labels"), np.random.default_rng(0))
    assert labels.shape == (200,) and labels.dtype.kind == "i"


@pytest.mark.parametrize("name", ["squared_error", "softmax_cross_entropy", "hinge"])
def test_scale_multiplies_the_scores_only(name):
    one = loss_inputs(target(name), options(), np.random.default_rng(5))
    three = loss_inputs(target(name), options(), np.random.default_rng(5), scale=3.0)
    assert np.allclose(three[0], 3.0 * one[0], rtol=1e-15, atol=0)
    assert np.array_equal(three[1], one[1])
    assert np.array_equal(loss_inputs(target(name), options(), np.random.default_rng(5))[0], one[0])
