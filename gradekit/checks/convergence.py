"""Convergence checks, table-driven like optax's: an optimizer trained on a test problem.

The worker runs the trusted ``optimize`` routine with the student's optimizer and returns
every parameter it visited. The parent validates that path, recomputes the loss at every
point with its own copy of the problem (a loss reported by the worker is never used), and
compares the loss curve with the reference's in log space:

- **no divergence**: every loss is finite and below ``explode`` times the largest loss of
  the reference's run; the message names the step ("diverged at step 37: loss 3.2e+08");
- **loss curve**: after the first ``skip`` steps, ``|log10(loss + floor) - log10(ref +
  floor)| <= band`` at every step;
- **final loss**: the last loss is at most ``final_factor`` times the reference's.

Divergence, and a final loss no lower than the start where the reference's is, fail the
optimizer's purpose: those cases are severe (see ``credit``).

The paths and loss curves stay available for plots: see ``curves``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import Field, field_validator

from ..hookspecs import hookimpl
from ..problems import PROBLEMS, Problem
from ..results import Figure, Panel, Series
from ..sandbox.plan import Failure, Outcome, Plan
from .base import Case, CheckKind, Options, Run, Target
from .compare import describe, failed_call

RUN = "run"
"""The name under which the plan saves the routine's result."""


class ConvergenceOptions(Options):
    problem: str = "ravine"
    """A problem of ``gradekit.problems.PROBLEMS``: ``ravine``, ``rosenbrock`` or ``mlp``."""
    steps: int = Field(default=100, ge=1, le=20_000)
    skip: int = Field(default=5, ge=0)
    """The first steps are not compared (they may differ most, relatively)."""
    band: float = Field(default=0.5, gt=0)
    """Allowed distance of the loss curves in decades: 0.5 is a factor of about 3."""
    floor: float = Field(default=1e-8, gt=0)
    """Added to both losses before the logarithm: below it, losses count as converged."""
    final_factor: float = Field(default=10.0, ge=1)
    """The final loss must be at most this many times the reference's (plus ``floor``)."""
    explode: float = Field(default=1e3, gt=1)
    """A loss above this many times the largest loss of the reference's run diverged."""

    @field_validator("problem")
    @classmethod
    def _known_problem(cls, value: str) -> str:
        if value not in PROBLEMS:
            raise ValueError(f"unknown problem {value!r}; known: {', '.join(PROBLEMS)}")
        return value


@dataclass
class Trajectory:
    """A validated run: the parameters at every step and the losses recomputed from them."""

    path: dict[str, np.ndarray] | None
    """Parameter name -> array of shape ``(n, *shape)``; ``n - 1`` steps were done."""
    losses: np.ndarray | None
    """The trusted problem's loss at every point of ``path`` (nan where not finite)."""
    problem: str
    failure: Failure | None = None
    """Set when the run raised or its result is unusable (then ``path`` is None)."""
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.path is not None and self.losses is not None


def validate(problem: Problem, value: Any, steps: int) -> tuple[dict[str, np.ndarray], str]:
    """Check a returned path against the trusted problem; return it and "" or {} and why.

    The path must have the problem's parameter names and shapes, start exactly at the
    problem's start point, and either run all ``steps`` or stop right after the first
    non-finite point (the routine stops there).
    """
    start = problem.start()
    if not isinstance(value, dict) or set(value) != set(start):
        keys = sorted(value) if isinstance(value, dict) else describe(value)
        return {}, f"expected the parameters {sorted(start)}, received {keys}"
    lengths = set()
    for key, first in start.items():
        got = value[key]
        if not isinstance(got, np.ndarray) or got.dtype.kind not in "fiu":
            return {}, f"parameter {key!r}: expected a real array, received {describe(got)}"
        if got.ndim != first.ndim + 1 or got.shape[1:] != first.shape or len(got) < 1:
            return {}, f"parameter {key!r}: received a path of shape {got.shape}"
        if not np.array_equal(got[0], first):
            return {}, f"parameter {key!r}: the path does not begin at the problem's start"
        lengths.add(len(got))
    if len(lengths) != 1 or max(lengths) > steps + 1:
        return {}, f"paths of {sorted(lengths)} points for {steps} steps"
    path = {k: np.asarray(v, dtype=np.float64) for k, v in value.items()}
    n = lengths.pop()
    finite = np.array([all(np.all(np.isfinite(v[i])) for v in path.values()) for i in range(n)])
    if not finite[:-1].all():
        return {}, "the path goes on after a non-finite point"
    if n < steps + 1 and finite[-1]:
        return {}, f"the run stopped after {n - 1} of {steps} steps"
    return path, ""


def losses_of(problem: Problem, path: dict[str, np.ndarray]) -> np.ndarray:
    """The trusted loss at every point of ``path``; nan where a parameter is not finite."""
    n = len(next(iter(path.values())))
    out = np.full(n, np.nan)
    with np.errstate(all="ignore"):
        for i in range(n):
            point = {k: v[i] for k, v in path.items()}
            if all(np.all(np.isfinite(v)) for v in point.values()):
                out[i] = problem.loss(point)
    return out


def trajectory(outcome: Outcome, problem_name: str, steps: int) -> Trajectory:
    """Validate an outcome's run and recompute its losses (for the student or the reference)."""
    problem = PROBLEMS[problem_name]()
    missing = failed_call(outcome, RUN)
    if missing is not None:
        if outcome.failure is not None:
            f = outcome.failure
            why = f"the run stopped: {f.type}: {f.message}"
            if 'File "' not in f.trace:  # raised in the training loop, not in your code
                why += (
                    " (in gradekit's training loop: update must return (new_param, "
                    "new_state), new_param an array of the parameter's shape)"
                )
            return Trajectory(None, None, problem_name, f, why)
        failure = Failure(-1, outcome.status, outcome.detail, "")
        return Trajectory(None, None, problem_name, failure, missing.message)
    path, why = validate(problem, outcome.values[RUN], steps)
    if why:
        return Trajectory(None, None, problem_name, Failure(-1, "invalid", why, ""), why)
    return Trajectory(path, losses_of(problem, path), problem_name)


def _at(losses: np.ndarray, t: int) -> float:
    """The loss at step ``t``, nan once the run has stopped (diverged)."""
    return float(losses[t]) if t < len(losses) else float("nan")


def _g(x: float) -> str:
    return f"{x:.3g}" if np.isfinite(x) else str(x)


class Convergence(CheckKind):
    """Training on a test problem follows the reference's loss curve and reaches its loss."""

    name = "convergence"
    kinds = ("optimizers",)
    options = ConvergenceOptions
    summary = "the loss curve on a test problem against the reference's, without divergence"

    def plan(self, target: Target, options: ConvergenceOptions) -> Plan:
        plan = Plan()
        plan.make("opt", target.kind, target.name, **target.kwargs)
        plan.routine(
            "optimize",
            save=RUN,
            optimizer={"component": "opt"},
            problem=options.problem,
            steps=options.steps,
        )
        plan.meta = {"problem": options.problem, "steps": options.steps}
        return plan

    def expect(
        self, target: Target, options: ConvergenceOptions, plan: Plan, run: Run
    ) -> Trajectory:
        return trajectory(run(plan), options.problem, options.steps)

    def judge(
        self,
        target: Target,
        options: ConvergenceOptions,
        plan: Plan,
        outcome: Outcome,
        expected: Trajectory,
    ) -> list[Case]:
        where = f"{options.steps} steps on the {options.problem}"
        if not expected.ok:
            return [Case("run", False, f"the reference's run failed: {expected.detail}")]
        got = trajectory(outcome, options.problem, options.steps)
        if not got.ok:
            return [Case("run", False, f"{where}: {got.detail}")]
        return [
            self._divergence(options, got.losses, expected.losses, where),
            self._curve(options, got.losses, expected.losses, where),
            self._final(options, got.losses, expected.losses, where),
        ]

    def figure(
        self,
        target: Target,
        options: ConvergenceOptions,
        plan: Plan,
        outcome: Outcome,
        expected: Trajectory,
    ) -> Figure | None:
        """The loss curve beside the reference's and, on a 2-D problem, both paths."""
        data = curves(plan, outcome, expected)
        runs = {k: data[k] for k in ("received", "reference") if data[k] and data[k]["path"]}
        if not runs:
            return None
        labels = {"received": "yours", "reference": "reference"}
        panels = [loss_panel({labels[k]: v["losses"] for k, v in runs.items()})]
        if all(set(v["path"]) == {"w"} for v in runs.values()):
            path = path_panel(options.problem, {labels[k]: v["path"]["w"] for k, v in runs.items()})
            if path is not None:
                panels.append(path)
        title = f"{target.name} on the {options.problem}, {options.steps} steps"
        return Figure(title=title, panels=panels)

    def _divergence(
        self, options: ConvergenceOptions, losses: np.ndarray, ref: np.ndarray, where: str
    ) -> Case:
        top = float(np.nanmax(np.where(np.isfinite(ref), ref, np.nan)))
        limit = options.explode * top
        bad = ~np.isfinite(losses) | (losses > limit)
        if not bad.any():
            return Case("no divergence", True, compared=False)
        t = int(np.argmax(bad))
        loss = float(losses[t])
        why = (
            "the parameters are not finite"
            if np.isnan(loss)
            else f"above {limit:.3g}, {options.explode:g} x the largest loss of the reference's run"
        )
        return Case(
            "no divergence",
            False,
            f"diverged at step {t}: loss {loss:.3g}, {why}; the reference's loss at step "
            f"{t} is {_g(_at(ref, t))} ({where})",
            compared=False,
            severe=True,
        )

    def _curve(
        self, options: ConvergenceOptions, losses: np.ndarray, ref: np.ndarray, where: str
    ) -> Case:
        steps = range(options.skip, options.steps + 1)
        if not steps:
            return Case("loss curve", True)
        got = np.array([_at(losses, t) for t in steps])
        want = np.array([_at(ref, t) for t in steps])
        ok_g, ok_w = np.isfinite(got), np.isfinite(want)
        with np.errstate(all="ignore"):
            dist = np.abs(np.log10(got + options.floor) - np.log10(want + options.floor))
        out = np.where(ok_g & ok_w, dist > options.band, ok_g != ok_w)
        if not out.any():
            return Case("loss curve", True)
        i = int(np.argmax(out))
        gap = (
            f"|log10 ratio| {dist[i]:.2f} > {options.band:g} decades"
            if ok_g[i] and ok_w[i]
            else "one run has diverged"
        )
        return Case(
            "loss curve",
            False,
            f"loss at step {steps[i]}: received {_g(got[i])}, expected {_g(want[i])} from the "
            f"reference; {gap} ({int(out.sum())} of {len(out)} steps from step "
            f"{options.skip} outside the band; {where})",
        )

    def _final(
        self, options: ConvergenceOptions, losses: np.ndarray, ref: np.ndarray, where: str
    ) -> Case:
        want = _at(ref, options.steps)
        if not np.isfinite(want):  # only a diverging mutant: nothing to reach
            return Case("final loss", True)
        limit = options.final_factor * (want + options.floor)
        got = _at(losses, options.steps)
        if np.isfinite(got) and got <= limit:
            return Case("final loss", True)
        message = (
            f"final loss at step {options.steps}: received {_g(got)}, expected at most "
            f"{limit:.3g} ({options.final_factor:g} x the reference's {want:.3g}; {where})"
        )
        stuck = not got < losses[0] and want < ref[0]  # both runs start at the same point
        if stuck:
            message += f": no lower than the starting loss {_g(float(losses[0]))}, no progress"
        return Case("final loss", False, message, severe=stuck)


def loss_panel(runs: dict[str, np.ndarray], title: str = "loss") -> Panel:
    """Loss curves by step on a log axis, at most ``POINTS`` points each."""
    series = []
    for label, losses in runs.items():
        steps = _thin(len(losses))
        series.append(Series.of(label, losses[steps], steps))
    return Panel(kind="line", title=title, xlabel="step", ylabel="loss", log=True, series=series)


def path_panel(problem: str, paths: dict[str, np.ndarray], title: str = "path") -> Panel | None:
    """Parameter paths over the problem's contours; None unless the parameter is 2-D."""
    series = []
    for label, w in paths.items():
        w = np.asarray(w, dtype=np.float64)
        if w.ndim != 2 or w.shape[1] != 2:
            return None
        keep = _thin(len(w))
        series.append(Series.of(label, w[keep, 1], w[keep, 0]))
    return Panel(
        kind="path", title=title, xlabel="w[0]", ylabel="w[1]", problem=problem, series=series
    )


POINTS = 200
"""The most points of a curve or a path in a figure (longer ones are thinned evenly)."""


def _thin(n: int) -> np.ndarray:
    if n <= POINTS:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, POINTS).round().astype(int))


def curves(plan: Plan, outcome: Outcome, expected: Trajectory) -> dict[str, Any]:
    """What a report plots for a convergence check: both paths and both loss curves.

    ``received`` is None when the submission's run failed or is unusable.
    """
    problem, steps = plan.meta["problem"], plan.meta["steps"]
    got = trajectory(outcome, problem, steps)
    return {
        "problem": problem,
        "steps": steps,
        "received": {"path": got.path, "losses": got.losses} if got.ok else None,
        "reference": {"path": expected.path, "losses": expected.losses},
    }


@hookimpl
def gradekit_check_kinds() -> list[CheckKind]:
    """The convergence check (optimizer x problem)."""
    return [Convergence()]
