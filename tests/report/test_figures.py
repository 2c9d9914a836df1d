"""The data of each check's figure: histograms, loss curves, paths and gradient errors."""

from __future__ import annotations

import math
from itertools import pairwise
from pathlib import Path

import pytest

from gradekit.batch import ResultCache
from gradekit.results import SubmissionResult
from gradekit.sandbox.backends import bwrap_works

ROOT = Path(__file__).parents[2]


def _check(result: SubmissionResult, name: str):
    return next(c for c in result.checks if c.name == name)


def _std(series) -> float:
    """The std of a histogram from its counts and bin centres."""
    centres = [(a + b) / 2 for a, b in zip(series.x[:-1], series.x[1:], strict=True)]
    n = sum(series.y)
    mean = sum(c * k for c, k in zip(centres, series.y, strict=True)) / n
    return math.sqrt(sum(k * (c - mean) ** 2 for c, k in zip(centres, series.y, strict=True)) / n)


def test_no_figures_unless_asked(grade):
    result = grade("backprop", "buggy", figures=False)
    assert all(c.figure is None for c in result.checks)


def test_init_experiment_histograms_per_layer_yours_beside_the_reference(grade):
    good = _check(grade("initialization", "correct"), "experiment.tanh-std0.01")
    bad = _check(grade("initialization", "buggy"), "experiment.tanh-std0.01")
    assert good.status == "passed" and bad.status == "failed"
    for check in (good, bad):
        panels = check.figure.panels
        assert [p.kind for p in panels] == ["histogram"] * 6
        for panel in panels:
            assert [s.label for s in panel.series] == ["yours", "reference"]
            for s in panel.series:
                assert len(s.x) == len(s.y) + 1
                assert sum(s.y) == 16 * 512  # batch x width: every activation counted
    # Correct: the same distribution as the reference in every layer.
    for panel in good.figure.panels:
        yours, ref = panel.series
        assert abs(_std(yours) - _std(ref)) < 0.2 * _std(ref) + 0.02
    # Buggy (std^2 for std): all the mass in the bins at 0 from the first layer on.
    yours, ref = bad.figure.panels[0].series
    assert _std(yours) < 0.5 * _std(ref)


def test_init_experiment_reference_run_is_made_once_per_grader(grade, grader):
    grader = grader("initialization")
    grade("initialization", "correct")
    grade("initialization", "buggy")
    check = next(c for c in grader.checks if c.spec.id == "experiment.tanh-std0.01")
    assert check.expected.reference_run.cache_info().misses == 1
    assert check.expected.reference_run.cache_info().hits >= 1


def test_convergence_loss_curves_and_ravine_paths(grade):
    good = grade("optimization", "correct")
    bad = grade("optimization", "buggy")
    ravine = _check(good, "sgd.ravine").figure
    assert [p.kind for p in ravine.panels] == ["line", "path"]
    loss, path = ravine.panels
    assert loss.log and [s.label for s in loss.series] == ["yours", "reference"]
    assert len(loss.series[0].y) == 61 and loss.series[0].y[0] == loss.series[1].y[0]
    assert path.problem == "ravine"
    assert (path.series[0].x[0], path.series[0].y[0]) == (-8.0, 1.0)  # the ravine's start
    # SGD's zig-zag: the steep coordinate changes sign along the path.
    ys = path.series[0].y[:10]
    assert any(a * b < 0 for a, b in pairwise(ys))
    # The mutant's momentum (sign error) climbs away from the reference's curve.
    momentum = _check(bad, "momentum.ravine")
    yours, ref = momentum.figure.panels[0].series
    assert momentum.status == "failed"
    assert (yours.y[-1] or math.inf) > 1e3 * ref.y[-1]
    # The MLP has no 2-D parameter: a loss curve only.
    assert [p.kind for p in _check(good, "adam.mlp").figure.panels] == ["line"]


def test_gradient_error_per_array_against_both_tolerances(grade):
    good = _check(grade("backprop", "correct"), "linear.gradient").figure.panels[0]
    bad = _check(grade("backprop", "buggy"), "linear.gradient").figure.panels[0]
    assert good.kind == "bar" and good.categories == ["dx", "dW", "db"]
    assert [s.label for s in good.series] == ["vs reference", "vs central differences"]
    assert set(good.marks.values()) == {1e-7, 1e-6}
    assert all(v < 1e-6 for s in good.series for v in s.y)
    assert max(bad.series[0].y) > 1e-3  # the buggy backward is far off the reference


@pytest.mark.skipif(
    not bwrap_works(),
    reason="the results cache opens only under bubblewrap, which does not work here",
)
def test_figures_survive_the_results_cache(grade, grader, tmp_path):
    result = grade("optimization", "buggy")
    path = ROOT / "assignments" / "optimization" / "examples" / "buggy.py"
    cache = ResultCache(tmp_path, grader("optimization"))
    cache.put(path, result)
    back = cache.get("buggy", path)
    assert back is not None and back.checks == result.checks
    assert _check(back, "sgd.ravine").figure == _check(result, "sgd.ravine").figure
    # A grader without figures does not reuse results with them, nor the other way round.
    assert ResultCache(tmp_path, grader("optimization", False)).get("buggy", path) is None
