"""The benchmark's own pieces, at small sizes: the per-entry loop and gradekit's check
agree, the generated class has its mix, and the smaller-width claim holds."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from gradekit.checks import Target, check_kinds
from gradekit.checks.init_experiment import gaussian_bands
from gradekit.sandbox.runner import LocalSession

RUN = Path(__file__).parents[2] / "benchmarks" / "run.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("gradekit_benchmarks", RUN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("bug", [None, "one entry", "derivative"])
def test_gradekit_and_the_per_entry_loop_agree(bench, bug):
    kind = check_kinds()["gradient"]
    options = kind.options(batch=4)
    target = Target("layers", "linear_tanh", {"din": 8, "dout": 7}, 3, bench.LinearTanh)
    plan = kind.plan(target, options)
    key = ("layers", "linear_tanh")
    expected = kind.expect(target, options, plan, LocalSession({key: bench.LinearTanh}).run)

    def factory(din, dout):
        return bench.LinearTanh(din, dout, bug)

    cases = kind.judge(target, options, plan, LocalSession({key: factory}).run(plan), expected)
    passed, _ = bench.per_entry_loop(factory(8, 7), 4)
    assert all(c.passed for c in cases) == passed == (bug is None)
    if bug == "one entry":
        assert any(c.message.startswith("dW[3, 5]") for c in cases if not c.passed)


def test_generated_class_has_its_mix(bench, tmp_path):
    mix = bench.make_class(tmp_path, 100, "backprop")
    assert mix == {"correct": 50, "buggy": 48, "hostile": 2}
    files = sorted(tmp_path.iterdir())
    assert len({f.read_text() for f in files}) == 100  # distinct: no cache hit between them
    assert "os._exit" in files[49].read_text() or "sys.exit" in files[49].read_text()


def test_statistics_hold_at_a_smaller_width():
    """With s^2 x width kept, the layers' std centers barely move; a mutant stays out."""
    big = gaussian_bands(0.0, (2 / 1024) ** 0.5, "relu", 6, 1024, 16, 4, 48)
    small = gaussian_bands(0.0, (2 / 256) ** 0.5, "relu", 6, 256, 16, 4, 48)
    mutant = gaussian_bands(0.0, (1 / 256) ** 0.5, "relu", 6, 256, 16, 4, 48)
    half_width = 6 * big[1].std(axis=0, ddof=1)
    assert np.all(np.abs(small[1].mean(0) - big[1].mean(0)) < 0.3 * half_width)
    small_half = 6 * small[1].std(axis=0, ddof=1)
    assert np.all(np.abs(mutant[1].mean(0) - small[1].mean(0)) > small_half)
