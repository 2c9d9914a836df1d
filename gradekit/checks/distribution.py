"""The initializer check of the weights drawn: their distribution, never their order.

``distribution`` calls ``init(shape, rng)`` for several ``(fan_in, fan_out)`` shapes, with
generators the grader seeds, and judges the pooled draws by their statistics: mean, std,
kurtosis (normal 3, uniform 1.8) and, for uniform families, the limit. Tolerances are
standard errors of those statistics, never golden arrays: any order of random calls passes.
The expected statistics are *measured* on the trusted component with many more draws, so
a mutant's expected outcome is what the mutant really draws (its ``std()`` is the target's).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydantic import field_validator

from ..hookspecs import hookimpl
from ..sandbox.plan import Outcome, Plan
from .base import Case, CheckKind, Options, Run, Target
from .compare import array_problem, close, failed_call

Shape = tuple[int, int]


def float_problem(value: Any, shape: tuple[int, ...]) -> str | None:
    """Why ``value`` is not a finite float ndarray of ``shape``, or None."""
    problem = array_problem(value, shape)
    if problem is None and value.dtype.kind != "f":
        problem = f"expected a float array, received dtype {value.dtype}"
    return problem


# ------------------------------------------------------------------ distribution
class DistributionOptions(Options):
    shapes: tuple[tuple[int, int], ...] = ((512, 128), (128, 640), (1024, 96))
    """``(fan_in, fan_out)`` shapes; non-square, so fan_in and fan_out cannot be confused."""
    draws: int = 100_000
    """Weights drawn per shape, at least: whole calls of ``init(shape, rng)``, two or more."""
    max_calls: int = 64
    """At most this many calls per shape (small shapes then draw fewer weights)."""
    reference_factor: int = 4
    """The trusted component is measured on this many times as many draws."""
    k: float = 6.0
    """Tolerances are ``k`` standard errors of each statistic: each is a mean over 1e5 or
    more independent draws, so nearly normal, and a correct initializer fails one with
    probability about 2e-9 (a case pools three shapes: below 1e-8)."""
    require_reproducible: bool = False
    """Also require identical draws for the same seed (off: only statistics are judged)."""

    @field_validator("shapes")
    @classmethod
    def _positive(cls, shapes: tuple[Shape, ...]) -> tuple[Shape, ...]:
        if not shapes or any(min(s) < 1 for s in shapes):
            raise ValueError("shapes must be non-empty (fan_in, fan_out) pairs of positive sizes")
        return shapes


def _calls(shape: Shape, options: DistributionOptions) -> int:
    size = shape[0] * shape[1]
    return int(min(options.max_calls, max(2, math.ceil(options.draws / size))))


@dataclass
class Moments:
    """Statistics of one shape's pooled draws from the trusted component."""

    n: int
    mean: float
    std: float
    kurtosis: float
    kurtosis_var: float
    """n times the variance of the sample kurtosis (delta method, from m4, m6, m8)."""
    max_abs: float
    constant: np.ndarray | None = None
    """The first draw, when every draw is one repeated value (a constant initializer)."""


@dataclass
class Measured:
    """The expected outcome of a distribution check: moments per shape."""

    shapes: list[Moments] = field(default_factory=list)
    failure: None = None


def _moments(w: np.ndarray) -> Moments:
    mean = float(w.mean())
    d = w - mean
    var = float(np.mean(d * d))
    std = math.sqrt(var)
    if std == 0.0:
        return Moments(w.size, mean, 0.0, 0.0, 0.0, float(np.max(np.abs(w))))
    z2 = (d * d) / var
    z4 = z2 * z2
    m4, m6, m8 = float(np.mean(z4)), float(np.mean(z4 * z2)), float(np.mean(z4 * z4))
    kvar = m8 - m4 * m4 - 4.0 * m4 * (m6 - m4) + 4.0 * m4 * m4 * (m4 - 1.0)
    return Moments(w.size, mean, std, m4, max(kvar, 0.0), float(np.max(np.abs(w))))


def _family(kurtosis: float) -> str:
    if abs(kurtosis - 3.0) < 0.2:
        return "normal"
    if abs(kurtosis - 1.8) < 0.1:
        return "uniform"
    return "reference's"


def _label(shape: Shape) -> str:
    return f"(Din, Dout) = ({shape[0]}, {shape[1]})"


class Distribution(CheckKind):
    """The weights an initializer draws have the reference's mean, std and family."""

    name = "distribution"
    kinds = ("initializers",)
    options = DistributionOptions
    summary = "the mean, std and family (normal or uniform) of the weights drawn, per shape"

    def plan(self, target: Target, options: DistributionOptions) -> Plan:
        rng = target.rng()
        plan = Plan()
        plan.make("init", target.kind, target.name, **target.kwargs)
        for i, shape in enumerate(options.shapes):
            seeds = [int(s) for s in rng.integers(0, 2**31, _calls(shape, options))]
            plan.routine(
                "initializer_draws",
                save=f"s{i}",
                initializer={"component": "init"},
                shape=list(shape),
                seeds=seeds,
            )
            if options.require_reproducible and i == 0:
                plan.routine(
                    "initializer_draws",
                    save="repeat",
                    initializer={"component": "init"},
                    shape=list(shape),
                    seeds=seeds[:1],
                )
            plan.meta[f"s{i}"] = seeds
        return plan

    def expect(self, target: Target, options: DistributionOptions, plan: Plan, run: Run) -> Any:
        """Moments of the trusted component's draws, ``reference_factor`` times as many."""
        rng = target.rng(1)
        measured = Measured()
        for shape in options.shapes:
            calls = _calls(shape, options) * options.reference_factor
            trusted = Plan()
            trusted.make("init", target.kind, target.name, **target.kwargs)
            trusted.routine(
                "initializer_draws",
                save="m",
                initializer={"component": "init"},
                shape=list(shape),
                seeds=[int(s) for s in rng.integers(0, 2**31, calls)],
            )
            outcome = run(trusted)
            if outcome.failure is not None or "m" not in outcome.values:
                detail = outcome.failure.message if outcome.failure else outcome.detail
                raise RuntimeError(f"the trusted {target.name} cannot draw {shape}: {detail}")
            draws = outcome.values["m"]["draws"]
            w = np.concatenate([np.asarray(d, dtype=np.float64).ravel() for d in draws])
            moments = _moments(w)
            if np.ptp(w) == 0.0:
                moments.constant = np.asarray(draws[0], dtype=np.float64)
            measured.shapes.append(moments)
        return measured

    def judge(
        self,
        target: Target,
        options: DistributionOptions,
        plan: Plan,
        outcome: Outcome,
        expected: Measured,
    ) -> list[Case]:
        valid: list[tuple[int, Shape, list[np.ndarray], np.ndarray]] = []
        problems: list[str] = []
        for i, shape in enumerate(options.shapes):
            key = f"s{i}"
            missing = failed_call(outcome, key)
            got = outcome.values.get(key)
            if missing or not isinstance(got, dict):
                problems.append(f"init({shape[0]}, {shape[1]}) was not computed")
                continue
            draws, calls = got.get("draws"), len(plan.meta[key])
            if not (isinstance(draws, list) and len(draws) == calls):
                problems.append(f"init({shape}, rng): the draws of its {calls} calls are missing")
                continue
            bad = next(
                (
                    f"init({shape}, rng) returned {float_problem(d, shape)}"
                    for d in draws
                    if float_problem(d, shape)
                ),
                None,
            )
            if bad:
                problems.append(bad)
                continue
            valid.append((i, shape, draws, got.get("after")))
        cases = [
            Case(
                "array",
                not problems,
                "array: " + "; ".join(problems[:2]) if problems else "",
            )
        ]
        if problems and not valid:
            return cases
        first_constant = expected.shapes[valid[0][0]].constant is not None
        if first_constant:
            cases.append(self._constant_values(valid, expected))
        else:
            cases += self._statistics(valid, expected, options)
            cases.append(self._uses_rng(valid, plan))
        if options.require_reproducible:
            cases.append(self._reproducible(outcome, valid))
        return cases

    # ------------------------------------------------------------- the cases
    def _constant_values(self, valid: list, expected: Measured) -> Case:
        for i, shape, draws, _ in valid:
            want = expected.shapes[i].constant
            for draw in draws:
                case = close(f"W of shape {shape}", draw, want, rtol=1e-12)
                if not case.passed:
                    return Case(
                        "values",
                        False,
                        f"values: {case.message}; a constant initializer sets every weight "
                        "to its value (the symmetry-problem demo)",
                    )
        return Case("values", True)

    def _statistics(self, valid: list, expected: Measured, options: DistributionOptions):
        k = options.k
        fails: dict[str, list[str]] = {"mean": [], "std": [], "family": []}
        for i, shape, draws, _ in valid:
            e = expected.shapes[i]
            w = np.concatenate([d.astype(np.float64).ravel() for d in draws])
            got = _moments(w)
            n, scale = got.n, 1.0 / got.n + 1.0 / e.n
            where = f"{_label(shape)}, {n} draws"
            tol = k * math.sqrt(got.std**2 / got.n + e.std**2 / e.n) + 1e-300
            if abs(got.mean - e.mean) > tol:
                fails["mean"].append(
                    f"mean: {where}: received {got.mean:.4g}, expected {e.mean:.3g} ± {tol:.2g} "
                    f"({k:g} standard errors); the weights must be centred on 0"
                )
            tol = k * e.std * math.sqrt(max(e.kurtosis - 1.0, 0.0) / 4.0 * scale) + 1e-300
            if abs(got.std - e.std) > tol:
                ratio = got.std / e.std if e.std else math.inf
                fails["std"].append(
                    f"std: {where}: received {got.std:.4g}, expected {e.std:.4g} ± {tol:.2g} "
                    f"from the reference ({k:g} standard errors; ratio {ratio:.3f})"
                )
            fails["family"] += self._family(shape, where, got, e, k, scale)
        weights = {"mean": 1.0, "std": 2.0, "family": 1.0}
        cases = []
        for name, messages in fails.items():
            message = messages[0] if messages else ""
            if len(messages) > 1:
                message += f" (and {len(messages) - 1} more of the {len(valid)} shapes)"
            cases.append(Case(name, not messages, message, weights[name]))
        return cases

    def _family(
        self, shape: Shape, where: str, got: Moments, e: Moments, k: float, scale: float
    ) -> list[str]:
        family = _family(e.kurtosis)
        if got.std == 0.0:
            return [f"family: {where}: every weight is {got.mean:.4g}, expected random draws"]
        tol = k * math.sqrt(e.kurtosis_var * scale)
        if abs(got.kurtosis - e.kurtosis) > tol:
            hint = {
                "normal": "; a normal has kurtosis 3, a uniform 1.8",
                "uniform": "; a uniform has kurtosis 1.8, a normal 3",
            }.get(family, "")
            return [
                f"family: {where}: kurtosis {got.kurtosis:.3f}, expected {e.kurtosis:.3f} ± "
                f"{tol:.2g} (a {family} distribution{hint})"
            ]
        if family == "uniform":
            # U(-a, a): no draw beyond a, and n draws reach within 25/n of it (P > 1 - e^-25).
            high = e.max_abs / (1.0 - min(25.0 / e.n, 0.5))
            low = e.max_abs * (1.0 - min(25.0 / got.n, 1.0))
            if not low <= got.max_abs <= high:
                return [
                    f"family: {where}: received max |w| = {got.max_abs:.4g}, expected the "
                    f"uniform limit {e.max_abs:.4g} (U(-a, a) has std a / sqrt(3))"
                ]
        return []

    def _uses_rng(self, valid: list, plan: Plan) -> Case:
        problems = []
        for i, shape, draws, after in valid:
            seeds = plan.meta[f"s{i}"]
            fresh = np.stack([np.random.default_rng(s).random(4) for s in seeds])
            if not (isinstance(after, np.ndarray) and after.shape == fresh.shape):
                problems.append("the generator's state could not be read back")
                break
            unused = np.all(after == fresh, axis=1)
            if unused.any():
                problems.append(
                    f"init({shape}, rng) left the generator it was given untouched "
                    f"({int(unused.sum())} of {len(seeds)} calls): draw from rng, not np.random"
                )
                break
            if np.array_equal(draws[0], draws[1]):
                problems.append(
                    f"two different seeds gave identical {shape} weights: the draws must "
                    "come from the rng argument"
                )
                break
        message = f"rng: {problems[0]}" if problems else ""
        return Case("rng", not problems, message, 0.5, compared=False, severe=True)

    def _reproducible(self, outcome: Outcome, valid: list) -> Case:
        got = outcome.values.get("repeat")
        draws = got.get("draws") if isinstance(got, dict) else None
        same = bool(
            draws
            and valid
            and valid[0][0] == 0
            and isinstance(draws[0], np.ndarray)
            and np.array_equal(draws[0], valid[0][2][0])
        )
        message = "" if same else "reproducible: the same seed gave different weights"
        return Case("reproducible", same, message, 0.5, compared=False)


@hookimpl
def gradekit_check_kinds() -> list[CheckKind]:
    """The initializer distribution check."""
    return [Distribution()]
