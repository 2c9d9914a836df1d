"""The optimization assignment: update rules, schedules and convergence checks.

The generic tests (reference, examples, mutants) are in test_examples.py and
test_mutants.py; here is the
convergence check kind's own behaviour: losses recomputed in the parent, divergence
named by its step, forged or truncated paths rejected, and curves well-conditioned enough
that a correct formulation in another order of floating-point operations passes.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
from pydantic import ValidationError

from gradekit.checks import check_kinds
from gradekit.checks.convergence import Convergence, ConvergenceOptions, curves, trajectory
from gradekit.problems import PROBLEMS
from gradekit.sandbox.plan import Outcome
from gradekit.sandbox.runner import LocalSession
from gradekit_reference import COMPONENTS
from gradekit_reference.mutants import all_mutants

from .conftest import grader

NAME = "optimization"
TARGETS = {(c.target.kind, c.target.name) for c in grader(NAME).checks}
MUTANTS = [m for m in all_mutants() if (m.kind, m.target) in TARGETS]


def checks_of(kind: str, name: str):
    return [c for c in grader(NAME).checks if (c.target.kind, c.target.name) == (kind, name)]


# ------------------------------------------------------------------ the assignment
def test_the_table_covers_every_optimizer_on_the_ravine():
    table = {
        (c.target.name, c.spec.parsed_options.problem)
        for c in grader(NAME).checks
        if c.spec.type == "convergence" and c.spec.visibility == "public"
    }
    for name in ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"):
        assert (name, "ravine") in table
    assert {("adam", "rosenbrock"), ("momentum", "rosenbrock")} <= table
    assert {("sgd", "mlp"), ("momentum", "mlp"), ("adam", "mlp")} <= table
    assert any(c.spec.visibility == "hidden" for c in grader(NAME).checks)


def test_every_optimizer_and_schedule_mutant_is_graded_here():
    ours = {m.name for m in all_mutants() if m.kind in ("optimizers", "schedules")}
    assert ours == {m.name for m in MUTANTS}


def test_sgd_in_place_is_caught_by_the_purity_case_only():
    (mutant,) = [m for m in MUTANTS if m.name == "sgd_in_place"]
    g = grader(NAME)
    session = LocalSession({("optimizers", "sgd"): mutant.factory})
    for check in checks_of("optimizers", "sgd"):
        verdict = g.verdict(check, session.run(check.plan))
        failed = {c.name for c in verdict.cases if not c.passed}
        if check.spec.type == "update":
            assert failed == {"pure"}, (check.spec.id, failed)
            assert "modified its param argument in place" in verdict.message
            assert verdict.misconception == mutant.misconception
        else:
            assert verdict.status == "passed", (check.spec.id, verdict.message)


def test_adam_without_bias_correction_reports_the_first_step_size():
    (mutant,) = [m for m in MUTANTS if m.name == "adam_no_bias_correction"]
    check = next(c for c in checks_of("optimizers", "adam") if c.spec.id == "adam.update")
    session = LocalSession({("optimizers", "adam"): mutant.factory})
    verdict = grader(NAME).verdict(check, session.run(check.plan))
    assert "3.16 x the reference's" in verdict.message


# ------------------------------------------------------------------ correct formulations
TORCH_FORM = """
import numpy as np
import gradekit

class Momentum:
    def __init__(self, lr=0.01, mu=0.9):
        self.lr, self.mu = lr, mu
    def init(self, param):
        return {"buf": np.zeros_like(param)}
    def update(self, param, grad, state):
        buf = self.mu * state["buf"] + grad
        return param - self.lr * buf, {"buf": buf}

class Nesterov(Momentum):
    def update(self, param, grad, state):
        buf = self.mu * state["buf"] + grad
        return param - self.lr * (grad + self.mu * buf), {"buf": buf}

@gradekit.hookimpl
def gradekit_register(registry):
    registry.optimizers["momentum"] = Momentum
    registry.optimizers["nesterov"] = Nesterov
"""


def test_momentum_and_nesterov_in_torch_form_pass(tmp_path):
    path = tmp_path / "torch_form.py"
    path.write_text(textwrap.dedent(TORCH_FORM))
    result = grader(NAME).grade(path)
    ours = [
        c for c in result.checks if c.component in ("optimizers/momentum", "optimizers/nesterov")
    ]
    assert len(ours) >= 10
    assert [(c.name, c.message) for c in ours if c.status != "passed"] == []


class _Jittered:
    """A reference optimizer whose every update is perturbed by 1e-12 relative noise."""

    def __init__(self, inner, rng):
        self.inner, self.rng = inner, rng

    def init(self, param):
        return self.inner.init(param)

    def update(self, param, grad, state):
        w, s = self.inner.update(param, grad, state)
        return w * (1 + 1e-12 * self.rng.standard_normal(w.shape)), s


def _convergence_checks():
    return [c for c in grader(NAME).checks if c.spec.type == "convergence"]


@pytest.mark.parametrize("check", _convergence_checks(), ids=lambda c: c.spec.id)
def test_reference_curve_converges_and_is_well_conditioned(check):
    """The reference converges, and rounding-level changes move its curve by far less than
    the band: a correct submission that orders its operations differently passes."""
    opts = check.spec.parsed_options
    ref = check.expected
    assert ref.ok and np.all(np.isfinite(ref.losses))
    start, final = ref.losses[0], ref.losses[-1]
    assert final < (0.3 if opts.problem == "mlp" else 1e-2) * start
    rng = np.random.default_rng(0)

    def jittered(**kw):
        return _Jittered(check.target.reference(**kw), rng)

    session = LocalSession({(check.target.kind, check.target.name): jittered})
    got = trajectory(session.run(check.plan), opts.problem, opts.steps)
    floor = opts.floor
    gap = np.abs(np.log10(got.losses + floor) - np.log10(ref.losses + floor))
    assert gap.max() < opts.band / 100


# ------------------------------------------------------------------ the check kind
def _check(steps=60, problem="ravine", **kwargs):
    from gradekit.checks.base import Target

    kind = check_kinds()["convergence"]
    options = ConvergenceOptions(problem=problem, steps=steps)
    target = Target("optimizers", "sgd", kwargs, 0, COMPONENTS["optimizers"]["sgd"])
    plan = kind.plan(target, options)
    expected = kind.expect(
        target, options, plan, LocalSession({("optimizers", "sgd"): target.reference}).run
    )
    return kind, target, options, plan, expected


def test_divergence_is_named_with_its_step():
    kind, target, options, plan, expected = _check(lr=0.15)
    # lr = 0.25 on the ravine: the steep direction grows by |1 - 2.5| = 1.5 per step
    run = LocalSession(
        {("optimizers", "sgd"): lambda **kw: COMPONENTS["optimizers"]["sgd"](lr=0.25)}
    ).run
    outcome = run(plan)
    cases = {c.name: c for c in kind.judge(target, options, plan, outcome, expected)}
    losses = trajectory(outcome, "ravine", options.steps).losses
    limit = options.explode * np.nanmax(expected.losses)
    first = int(np.argmax(losses > limit))
    assert not cases["no divergence"].passed
    assert cases["no divergence"].message.startswith(f"diverged at step {first}: loss ")
    assert not cases["loss curve"].passed and not cases["final loss"].passed


def test_nan_divergence_stops_the_run_early_and_is_named():
    kind, target, options, plan, expected = _check(lr=0.15)

    class NaNAfter3:
        def __init__(self, **kw):
            pass

        def init(self, param):
            return {"t": np.array(0.0)}

        def update(self, param, grad, state):
            t = float(state["t"]) + 1
            return param - 0.15 * grad * (np.nan if t == 4 else 1.0), {"t": np.array(t)}

    outcome = LocalSession({("optimizers", "sgd"): NaNAfter3}).run(plan)
    assert len(outcome.values["run"]["w"]) == 5  # start + 4 steps, then stopped
    cases = {c.name: c for c in kind.judge(target, options, plan, outcome, expected)}
    assert cases["no divergence"].message.startswith("diverged at step 4: loss nan")


def test_losses_are_recomputed_by_the_parent_and_forged_paths_are_rejected():
    kind, target, options, plan, expected = _check(lr=0.15)
    good = {"w": expected.path["w"].copy()}

    def judge(values):
        outcome = Outcome(values={"run": values})
        return {c.name: c for c in kind.judge(target, options, plan, outcome, expected)}

    assert all(c.passed for c in judge(good).values())
    # a reported loss is not a parameter: rejected, never read
    assert not judge({**good, "loss": np.zeros(options.steps + 1)})["run"].passed
    # a path that jumps to the minimum does not start at the problem's start
    assert "start" in judge({"w": np.zeros_like(good["w"])})["run"].message
    # a finite path that stops early is not a divergence but an unusable run
    assert "stopped after 10 of 60" in judge({"w": good["w"][:11]})["run"].message
    # a path that jumps straight to the minimum after the start: the parent's losses say so
    forged = good["w"].copy()
    forged[1:] = 0.0
    cases = judge({"w": forged})
    assert not cases["loss curve"].passed and cases["final loss"].passed
    assert "received 0, expected" in cases["loss curve"].message


def test_curves_keep_both_paths_for_plots():
    _, target, _, plan, expected = _check(lr=0.15)
    outcome = LocalSession({("optimizers", "sgd"): target.reference}).run(plan)
    data = curves(plan, outcome, expected)
    assert data["problem"] == "ravine" and data["steps"] == 60
    assert data["received"]["path"]["w"].shape == (61, 2)
    np.testing.assert_array_equal(data["reference"]["losses"], expected.losses)
    loss = PROBLEMS["ravine"]().loss
    assert data["received"]["losses"][7] == loss({"w": data["received"]["path"]["w"][7]})


def test_unknown_problem_is_rejected():
    with pytest.raises(ValidationError, match="unknown problem 'bowl'"):
        ConvergenceOptions(problem="bowl")
    assert isinstance(check_kinds()["convergence"], Convergence)


NOT_A_PAIR = """
import gradekit

class SGD:
    def __init__(self, lr=0.01):
        self.lr = lr
    def init(self, param):
        return {}
    def update(self, param, grad, state):
        return param - self.lr * grad

@gradekit.hookimpl
def gradekit_register(registry):
    registry.optimizers["sgd"] = SGD
"""


def test_a_broken_return_is_explained_in_both_kinds_of_check(tmp_path):
    path = tmp_path / "student.py"
    path.write_text(textwrap.dedent(NOT_A_PAIR))
    by_name = {c.name: c for c in grader(NAME).grade(path).checks}
    assert "update must return (new_param, new_state)" in by_name["sgd.update"].message
    ravine = by_name["sgd.ravine"]
    assert ravine.score == 0 and "in gradekit's training loop: update must return" in ravine.message
    assert by_name["adam.update"].status == "error"  # not registered: those checks only
