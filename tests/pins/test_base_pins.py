"""What every check kind inherits (``checks.base``), pinned: a target's fresh instances and
its seeded generators, and the defaults of a check kind."""

from __future__ import annotations

import numpy as np
import pytest

from gradekit.checks.base import CheckKind, Target
from gradekit.sandbox.plan import Outcome


class Made:
    def __init__(self, **kwargs):
        self.kwargs = kwargs


def test_build_makes_a_fresh_trusted_instance_with_the_kwargs():
    target = Target("layers", "linear", {"din": 3, "dout": 2}, 5, Made)
    first, second = target.build(), target.build()
    assert first.kwargs == {"din": 3, "dout": 2}
    assert first is not second


def test_the_generator_depends_on_the_seed_and_the_salt_only():
    target = Target("layers", "linear", {}, 5, Made)
    draw = target.rng(3).random(4)
    assert np.array_equal(draw, np.random.default_rng([5, 3]).random(4))
    assert np.array_equal(target.rng().random(4), np.random.default_rng([5, 0]).random(4))
    assert np.array_equal(target.rng().random(4), target.rng(0).random(4))
    assert not np.array_equal(target.rng(1).random(4), target.rng(0).random(4))
    other = Target("layers", "linear", {}, 6, Made)
    assert not np.array_equal(other.rng(3).random(4), draw)


def test_a_check_kind_expects_the_plan_run_on_trusted_code_by_default():
    plan, outcome = object(), Outcome(values={"y": 1.0})
    ran = []

    def run(p):
        ran.append(p)
        return outcome

    kind = CheckKind()
    target = Target("layers", "linear", {}, 5, Made)
    assert kind.expect(target, None, plan, run) is outcome
    assert ran == [plan]
    assert kind.figure(target, None, plan, outcome, outcome) is None
    with pytest.raises(NotImplementedError):
        kind.plan(target, None)
    with pytest.raises(NotImplementedError):
        kind.judge(target, None, plan, outcome, outcome)
