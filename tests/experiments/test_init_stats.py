"""``gradekit experiment init-stats`` with the reference reproduces the lecture's results.

The function-level runs use 1024 units instead of 4096 for speed. Xavier and He scale with
the fan-in, so their statistics do not depend on the width; for N(0, s^2) weights only
``s * sqrt(width)`` matters (the pre-activations are N(0, s^2 width var(h))), so std 0.01
and 0.05 at 4096 units are std 0.02 and 0.1 at 1024. One CLI run is at the lecture's full
6 x 4096 with std 0.05.
"""

from __future__ import annotations

import argparse
import re
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

from gradekit.cli import main
from gradekit.experiments.common import implementation
from gradekit.experiments.init_stats import activations, layer_stats

ROOT = Path(__file__).parents[2]
WIDTH = 1024
SCALE = np.sqrt(4096 / WIDTH)


@pytest.fixture(scope="module")
def stats():
    """``stats(activation, init, std=None)``: the reference's per-layer stats (6 layers)."""
    args = argparse.Namespace(submission=None, backend="auto")

    def run(activation: str, init: str, std: float | None = None, **kw) -> list:
        kwargs = {} if std is None else {"std": std * SCALE}
        with implementation(args) as run_plan:
            acts = activations(run_plan, init, kwargs, activation, width=WIDTH, **kw)
        return layer_stats(acts)

    return run


def test_tanh_std_001_collapses_toward_zero_with_depth(stats):
    s = stats("tanh", "normal", 0.01)
    stds = [x.std for x in s]
    assert all(a > b for a, b in pairwise(stds))  # shrinks every layer
    assert stds[-1] < 0.1 and stds[-1] < stds[0] / 5
    # The lecture's (and the reference's) numbers: 0.49, 0.29, 0.18, 0.11, 0.07, 0.05.
    assert np.allclose(stds, [0.49, 0.29, 0.18, 0.11, 0.07, 0.05], atol=0.03)
    assert all(abs(x.mean) < 0.02 for x in s)


def test_tanh_std_005_saturates(stats):
    for x in stats("tanh", "normal", 0.05):
        assert abs(x.std - 0.85) < 0.04
        assert x.saturated > 0.25  # a third of the units sit at +-1


def test_xavier_keeps_tanh_activations_scaled(stats):
    stds = [x.std for x in stats("tanh", "xavier")]
    assert np.allclose(stds, [0.63, 0.49, 0.41, 0.36, 0.32, 0.29], atol=0.03)
    assert min(stds) > 0.25  # neither collapsed like std 0.01 ...
    assert max(stds) < 0.7  # ... nor saturated like std 0.05


def test_relu_with_xavier_halves_the_std_every_two_layers(stats):
    stds = [x.std for x in stats("relu", "xavier")]
    for a, b in zip(stds, stds[2:], strict=False):
        assert 0.42 < b / a < 0.58


def test_relu_with_he_keeps_mean_056_and_std_083(stats):
    for x in stats("relu", "he"):
        assert abs(x.mean - 0.564) < 0.05
        assert abs(x.std - 0.826) < 0.05
        assert abs(x.zero - 0.5) < 0.02  # half the units are off


def test_a_buggy_he_in_the_sandbox_halves_like_xavier():
    """The submission's He without the factor 2 runs in the worker and shows the bug."""
    args = argparse.Namespace(
        submission=str(ROOT / "assignments/initialization/examples/buggy.py"), backend="auto"
    )
    with implementation(args) as run_plan:
        s = layer_stats(activations(run_plan, "he", {}, "relu", depth=4, width=256))
    assert s[-1].std < 0.5 * s[0].std


def test_full_width_cli_run_saturates(capsys, tmp_path):
    plot = tmp_path / "hist.png"
    argv = ["experiment", "init-stats", "--activation", "tanh", "--init", "normal"]
    assert main([*argv, "--std", "0.05", "--plot", str(plot)]) == 0
    out = capsys.readouterr().out
    flat = " ".join(out.split())  # the table's title may wrap
    assert "6 layers of 4096, batch 16" in flat and "activations saturate" in flat
    rows = re.findall(r"│\s+(\d)\s+│\s+(-?[\d.]+)\s+│\s+([\d.]+)\s+│\s+([\d.]+)%", out)
    assert [int(r[0]) for r in rows] == [1, 2, 3, 4, 5, 6]
    assert all(abs(float(r[2]) - 0.85) < 0.03 and float(r[3]) > 25 for r in rows)
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
