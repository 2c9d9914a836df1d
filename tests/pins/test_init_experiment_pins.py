"""The initialization experiment's verdicts (``checks.init_experiment``), pinned: each
layer's std and mean within its band (center +- half-width), the std far outside (a
factor of FAR) as severe, the reading told once, the activation's range, bad runs."""

from __future__ import annotations

import numpy as np
import pytest

from gradekit.checks.base import Target
from gradekit.checks.init_experiment import (
    FAR,
    Bands,
    ExperimentOptions,
    InitExperiment,
    _bands,
    default_reading,
)
from gradekit.sandbox.plan import Failure, Outcome, Plan

CHECK = InitExperiment()
OPTIONS = ExperimentOptions(depth=2, width=2, batch=2, reading="the reading")
BANDS = Bands(
    mean=np.array([0.0, 0.1]),
    mean_width=np.array([0.01, 0.02]),
    std=np.array([0.5, 0.25]),
    std_width=np.array([0.1, 0.05]),
    seeds=128,
    method="exact Gaussian simulation",
    weight_mean=0.0,
    weight_std=0.01,
)


def direct_bands(**arrays: np.ndarray) -> Bands:
    """Bands measured by direct runs (16 seeds, weights of std 1), with these arrays."""
    return Bands(**arrays, seeds=16, method="direct runs", weight_mean=0.0, weight_std=1.0)


def acts(*layers):
    """Activations whose layer l has exactly mean m and std s, for each ``(m, s)``."""
    return np.array([[[m - s, m + s], [m + s, m - s]] for m, s in layers])


def judged(activations, options=OPTIONS, name="xavier", bands=BANDS):
    target = Target("initializers", name, {}, 0, object)
    outcome = Outcome({"run": {"activations": activations}})
    return CHECK.judge(target, options, Plan(), outcome, bands)


def test_layers_inside_their_bands_pass():
    cases = judged(acts((0.0, 0.5), (0.1, 0.25)))
    assert [c.name for c in cases] == [
        "range",
        "layer 1 std",
        "layer 2 std",
        "layer 1 mean",
        "layer 2 mean",
    ]
    assert all(c.passed and c.message == "" and not c.severe for c in cases)
    assert [c.weight for c in cases] == [0.5, 1, 1, 1, 1]
    assert cases[0].compared is False and cases[1].compared is True


@pytest.mark.parametrize("edge", [0.0999, -0.0999])
def test_a_band_holds_its_edges(edge):
    cases = judged(acts((0.0099, 0.5 + edge), (0.1 - 0.0199, 0.25 + edge / 2)))
    assert all(c.passed for c in cases)


def test_a_band_holds_its_edges_exactly():
    # dyadic centers, half-widths and activations: every std, mean and difference is exact
    bands = direct_bands(
        mean=np.array([0.0, 0.25]),
        mean_width=np.array([0.25, 0.125]),
        std=np.array([0.5, 0.25]),
        std_width=np.array([0.125, 0.0625]),
    )
    cases = judged(acts((0.25, 0.625), (0.125, 0.1875)), bands=bands)
    assert [(c.name, c.passed) for c in cases[1:]] == [
        ("layer 1 std", True),
        ("layer 2 std", True),
        ("layer 1 mean", True),
        ("layer 2 mean", True),
    ]
    beyond = judged(acts((0.25, np.nextafter(0.625, 1.0)), (0.125, 0.1875)), bands=bands)
    assert [c.passed for c in beyond[1:]] == [False, True, True, True]


def test_a_std_out_of_its_band_names_the_layer_and_tells_the_reading_once():
    cases = judged(acts((0.0, 0.61), (0.1, 0.19)))
    assert [c.passed for c in cases] == [True, False, False, True, True]
    assert cases[1].message == (
        "layer 1: received std 0.61, expected 0.5 ± 0.1 (reference bands over 128 seeds); "
        "the reading: the reference's per-layer std is 0.5, 0.25, yours 0.61, 0.19"
    )
    assert cases[2].message == "layer 2: received std 0.19, expected 0.25 ± 0.05"
    assert not any(c.severe for c in cases)


def test_a_mean_out_of_its_band_fails_and_is_never_severe():
    cases = judged(acts((0.0, 0.5), (0.5, 0.25)))
    assert [c.passed for c in cases] == [True, True, True, True, False]
    assert cases[4].message == (
        "layer 2: received mean 0.5, expected 0.1 ± 0.02 (reference bands over 128 seeds); "
        "the reading: the reference's per-layer std is 0.5, 0.25, yours 0.5, 0.25"
    )
    assert not cases[4].severe
    cases = judged(acts((-0.0101, 0.5), (0.1, 0.25)))
    assert not cases[3].passed and cases[3].name == "layer 1 mean"


def test_a_std_more_than_far_times_off_is_severe():
    assert FAR == 10.0
    cases = judged(
        acts((0.0, 0.049), (0.1, 2.51)),
        options=ExperimentOptions(depth=2, width=2, batch=2, activation="linear", reading="R"),
    )
    assert [c.severe for c in cases[1:3]] == [True, True]
    assert cases[1].message.startswith(
        "layer 1: received std 0.049, expected 0.5 ± 0.1, more than 10 x off: the signal "
        "collapses or explodes (reference bands over 128 seeds); R:"
    )
    assert cases[2].message == (
        "layer 2: received std 2.51, expected 0.25 ± 0.05, more than 10 x off: the signal "
        "collapses or explodes"
    )
    cases = judged(
        acts((0.0, 0.051), (0.1, 2.49)),
        options=ExperimentOptions(depth=2, width=2, batch=2, activation="linear"),
    )
    assert [(c.passed, c.severe) for c in cases[1:3]] == [(False, False), (False, False)]


def test_without_a_reading_the_lectures_default_is_told():
    options = ExperimentOptions(depth=2, width=2, batch=2, activation="relu")
    cases = judged(acts((0.0, 0.7), (0.1, 0.25)), options=options, name="he")
    assert "; ReLU with He weights: mean ~0.56, std ~0.83 in every layer: the reference's" in (
        cases[1].message
    )
    assert default_reading(Target("initializers", "lecun", {}, 0, object), options) == (
        "relu with lecun weights"
    )


def test_activations_outside_the_range_of_the_non_linearity_fail_the_range_case():
    case = judged(acts((0.0, 0.5), (0.1, 0.25)) * 2.5)[0]
    assert (case.name, case.passed, case.weight, case.compared) == ("range", False, 0.5, False)
    assert case.message == "range: activations outside [-1.0, 1.0] of tanh"
    relu = ExperimentOptions(depth=2, width=2, batch=2, activation="relu")
    case = judged(acts((0.5, 0.5), (0.25, 0.25)), options=relu)[0]
    assert case.passed and case.message == ""
    case = judged(acts((0.5, 0.5), (0.25, 0.26)), options=relu)[0]
    assert case.message == "range: activations outside [0.0, inf] of relu"
    sigmoid = ExperimentOptions(depth=2, width=2, batch=2, activation="sigmoid")
    assert judged(acts((0.5, 0.5), (0.5, 0.5)), options=sigmoid)[0].passed
    case = judged(acts((0.5, 0.5), (0.5, 0.51)), options=sigmoid)[0]
    assert case.message == "range: activations outside [0.0, 1.0] of sigmoid"
    linear = ExperimentOptions(depth=2, width=2, batch=2, activation="linear")
    assert judged(acts((0.0, 1e6), (0.0, 1e6)), options=linear)[0].passed


def test_a_run_that_raised_or_returned_no_float_activations_fails_once():
    target = Target("initializers", "xavier", {}, 0, object)
    failure = Failure(0, "ValueError", "cannot run twice", "")
    (case,) = CHECK.judge(target, OPTIONS, Plan(), Outcome({}, failure, "error"), BANDS)
    assert (case.name, case.passed) == ("activations", False)
    assert case.message == (
        "experiment: not computed, your code raised ValueError: cannot run twice"
    )
    (case,) = judged(np.zeros((2, 2, 3)))
    assert (case.name, case.passed) == ("activations", False)
    assert case.message == "activations: expected shape (2, 2, 2), received shape (2, 2, 3)"
    (case,) = judged(np.zeros((2, 2, 2), dtype=int))
    assert case.message == "activations: expected a float array, received dtype int64"
    target_outcome = Outcome({"run": [np.zeros((2, 2, 2))]})
    (case,) = CHECK.judge(target, OPTIONS, Plan(), target_outcome, BANDS)
    assert case.message == "activations: expected an ndarray, received NoneType"


def test_bands_are_prediction_intervals_over_the_seeds():
    means = np.array([[0.0, 1.0], [0.2, 1.0], [0.4, 1.0]])
    stds = np.array([[1.0, 2.0], [1.0, 2.2], [1.0, 2.4]])
    bands = _bands(means, stds, 6.0, "direct runs", 0.0, 0.5)
    assert np.allclose(bands.mean, [0.2, 1.0]) and np.allclose(bands.std, [1.0, 2.2])
    from gradekit.checks.estimates import t_factor

    factor = t_factor(6.0, 2) * np.sqrt(1 + 1 / 3)
    assert bands.mean_width[0] == pytest.approx(factor * 0.2)
    assert bands.mean_width[1] == pytest.approx(1e-6 + 2e-3 * 1.0)  # no spread: the floor
    assert bands.std_width[1] == pytest.approx(factor * 0.2)
    assert bands.std_width[0] == pytest.approx(1e-6 + 2e-3)
    assert (bands.seeds, bands.method, bands.weight_mean, bands.weight_std) == (
        3,
        "direct runs",
        0.0,
        0.5,
    )


def test_far_means_beyond_a_factor_of_far_exactly():
    bands = direct_bands(
        mean=np.zeros(2),
        mean_width=np.ones(2),
        std=np.array([10.0, 0.5]),
        std_width=np.array([0.1, 0.1]),
    )
    linear = ExperimentOptions(depth=2, width=2, batch=2, activation="linear")
    cases = judged(acts((0.0, 1.0), (0.0, 5.0)), options=linear, bands=bands)
    assert [(c.passed, c.severe) for c in cases[1:3]] == [(False, False), (False, False)]
    assert "more than 10 x off" not in cases[1].message + cases[2].message


def test_unusable_activations_fail():
    (case,) = judged(np.zeros((2, 2, 3)))
    assert case.passed is False
