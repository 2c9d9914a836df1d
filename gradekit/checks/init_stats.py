"""Initializer checks: the distribution of the weights drawn, and the symmetry problem.

``distribution`` calls ``init(shape, rng)`` for several ``(fan_in, fan_out)`` shapes, with
generators the grader seeds, and judges the pooled draws by their statistics: mean, std,
kurtosis (normal 3, uniform 1.8) and, for uniform families, the limit. Tolerances are
standard errors of those statistics, never golden arrays: any order of random calls passes.
The expected statistics are *measured* on the trusted component with many more draws, so
a mutant's expected outcome is what the mutant really draws (its ``std()`` is the target's).

``symmetry`` trains a tiny tanh net from the initializer's weights with gradekit's own
loop: with a constant initialization every hidden unit stays identical (the lecture's
symmetry problem), while the reference's He and Xavier break the symmetry (the control).
What it proves about the student's code is only what the "initial weights" case compares:
their initializer returns float arrays of the right shapes, equal entry by entry to the
reference's (every weight is ``value``). The identical units after training follow from
that by the lecture's argument; the check demonstrates it with gradekit's loop, which the
parent reruns from the returned initial weights (the worker's trained weights are only
compared with that recomputation), and the control, run in the parent on the reference,
shows the same loop separates the units when the weights are random, so the equality comes
from the initialization and not from the loop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydantic import field_validator

from ..hookspecs import hookimpl
from ..routines import symmetry_data, two_layer_gd
from ..sandbox.plan import Outcome, Plan
from .base import Case, CheckKind, Options, Run, Target
from .compare import array_problem, close, describe, failed_call

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
    """Tolerances are ``k`` standard errors of each statistic."""
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
            draws = got.get("draws")
            bad = next(
                (
                    f"init({shape}, rng) returned {float_problem(d, shape)}"
                    for d in draws or []
                    if float_problem(d, shape)
                ),
                None,
            )
            if bad or not draws:
                problems.append(bad or f"init({shape}, rng) returned nothing")
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


# ---------------------------------------------------------------------- symmetry
class SymmetryOptions(Options):
    din: int = 4
    hidden: int = 6
    dout: int = 3
    batch: int = 8
    steps: int = 25
    lr: float = 0.1
    controls: tuple[str, ...] = ("he", "xavier")
    """Reference initializers that must break the symmetry in the same loop (the control)."""


def _symmetry_plan(name: str, kwargs: dict[str, Any], options: SymmetryOptions, seed: int):
    plan = Plan()
    plan.make("init", "initializers", name, **kwargs)
    plan.routine(
        "symmetry_training",
        save="run",
        initializer={"component": "init"},
        din=options.din,
        hidden=options.hidden,
        dout=options.dout,
        batch=options.batch,
        steps=options.steps,
        lr=options.lr,
        seed=seed,
    )
    return plan


def unit_spread(params: dict[str, np.ndarray]) -> tuple[float, int]:
    """How far the hidden units are from identical, relative to the weights' scale.

    Unit j is column j of W1, entry j of b1 and row j of W2; returns the largest difference
    from unit 0 over ``max(1, max |weight|)``, and the unit where it occurs.
    """
    w1, b1, w2 = params["W1"], params["b1"], params["W2"]
    diff = np.stack(
        [
            np.max(np.abs(w1 - w1[:, :1]), axis=0),
            np.abs(b1 - b1[0]),
            np.max(np.abs(w2 - w2[:1, :]), axis=1),
        ]
    ).max(axis=0)
    scale = max(1.0, float(max(np.max(np.abs(w1)), np.max(np.abs(w2)))))
    j = int(np.argmax(diff))
    return float(diff[j]) / scale, j


SYMMETRIC = 1e-9
"""Hidden units closer than this (relative) are identical; BLAS may differ by rounding."""
BROKEN = 1e-3
"""A control's hidden units must differ by at least this much."""


@dataclass
class SymmetryExpected:
    initial: dict[str, np.ndarray]
    symmetric: bool
    spread: float
    controls: dict[str, float]
    failure: None = None


class Symmetry(CheckKind):
    """A constant initialization keeps every hidden unit identical through training."""

    name = "symmetry"
    kinds = ("initializers",)
    options = SymmetryOptions
    summary = "the symmetry problem: hidden units trained from these weights stay identical"

    def plan(self, target: Target, options: SymmetryOptions) -> Plan:
        return _symmetry_plan(target.name, target.kwargs, options, target.seed % 2**31)

    def expect(self, target: Target, options: SymmetryOptions, plan: Plan, run: Run) -> Any:
        from gradekit_reference import COMPONENTS

        from ..sandbox.runner import LocalSession

        out = run(plan)
        if out.failure is not None:
            raise RuntimeError(f"the trusted {target.name} fails: {out.failure.message}")
        values = out.values["run"]
        spread, _ = unit_spread(values["trained"])
        controls = {}
        for name in options.controls:
            session = LocalSession({("initializers", name): COMPONENTS["initializers"][name]})
            control = session.run(_symmetry_plan(name, {}, options, target.seed % 2**31))
            controls[name] = unit_spread(control.values["run"]["trained"])[0]
        return SymmetryExpected(
            {"W1": values["W1_0"], "W2": values["W2_0"]}, spread <= SYMMETRIC, spread, controls
        )

    def judge(
        self,
        target: Target,
        options: SymmetryOptions,
        plan: Plan,
        outcome: Outcome,
        expected: SymmetryExpected,
    ) -> list[Case]:
        missing = failed_call(outcome, "run")
        if missing:
            message = missing.message.replace("run", "initial weights", 1)
            return [Case("initial weights", False, message)]
        got = outcome.values["run"]
        got = got if isinstance(got, dict) else {}
        o = options
        shapes = {"W1": (o.din, o.hidden), "W2": (o.hidden, o.dout)}
        initial = {k: got.get(f"{k}_0") for k in shapes}
        problems = [
            f"{k} = init({shapes[k]}, rng) returned {float_problem(v, shapes[k])}"
            for k, v in initial.items()
            if float_problem(v, shapes[k])
        ]
        if problems:
            return [Case("initial weights", False, "initial weights: " + "; ".join(problems))]
        cases = [self._initial(initial, expected)]
        x, t = symmetry_data(o.din, o.dout, o.batch, target.seed % 2**31)
        trained = two_layer_gd(initial["W1"], initial["W2"], x, t, o.steps, o.lr)
        cases.append(self._reproduced(got.get("trained"), trained))
        cases.append(self._units(trained, expected, options))
        cases.append(self._control(expected))
        return cases

    def _initial(self, initial: dict[str, np.ndarray], expected: SymmetryExpected) -> Case:
        name = "initial weights"
        if expected.symmetric:
            for key, want in expected.initial.items():
                case = close(key, initial[key], want, rtol=1e-12)
                if not case.passed:
                    message = f"{name}: {case.message}; a constant initializer sets every weight"
                    return Case(name, False, f"{message} to its value")
            return Case(name, True)
        if (
            unit_spread(
                {"W1": initial["W1"], "b1": np.zeros(initial["W1"].shape[1]), "W2": initial["W2"]}
            )[0]
            <= SYMMETRIC
        ):
            return Case(
                name, False, f"{name}: every hidden unit starts equal; random weights must differ"
            )
        return Case(name, True)

    def _reproduced(self, returned: Any, trained: dict[str, np.ndarray]) -> Case:
        name = "training reproduced"
        if not isinstance(returned, dict):
            message = f"{name}: received {describe(returned)}"
            return Case(name, False, message, 0.25, compared=False)
        for key, want in trained.items():
            case = close(key, returned.get(key), want, rtol=1e-9, source="grader's recomputation")
            if not case.passed:
                return Case(name, False, f"{name}: {case.message}", 0.25, compared=False)
        return Case(name, True, "", 0.25, compared=False)

    def _units(
        self, trained: dict[str, np.ndarray], expected: SymmetryExpected, options: SymmetryOptions
    ) -> Case:
        name = "hidden units"
        spread, j = unit_spread(trained)
        symmetric = spread <= SYMMETRIC
        if symmetric == expected.symmetric:
            return Case(name, True)
        steps = f"after {options.steps} full-batch gradient-descent steps"
        if expected.symmetric:
            message = (
                f"{name}: {steps}, hidden unit {j} differs from unit 0 by {spread:.3g} "
                f"(relative; tolerance {SYMMETRIC:.0e}), expected identical units; "
                f"{_CONSTANT_READING}"
            )
        else:
            message = (
                f"{name}: {steps}, every hidden unit is identical (spread {spread:.1e}), "
                f"expected {expected.spread:.3g} as the reference: the initialization must "
                "break the symmetry"
            )
        return Case(name, False, message, 2.0)

    def _control(self, expected: SymmetryExpected) -> Case:
        weak = {k: v for k, v in expected.controls.items() if v < BROKEN}
        if not weak:
            return Case("control", True, "", 0.25, compared=False)
        listed = ", ".join(f"{k} {v:.1e}" for k, v in weak.items())
        return Case(
            "control",
            False,
            f"control: the grader's loop kept the hidden units identical from the reference's "
            f"random weights ({listed} < {BROKEN:.0e}): report this to your instructor",
            0.25,
            compared=False,
        )


_CONSTANT_READING = (
    "with a constant initialization every hidden unit computes the same function and "
    "receives the same gradient, so the units stay identical: the symmetry problem"
)


@hookimpl
def gradekit_check_kinds() -> list[CheckKind]:
    """The initializer distribution and symmetry checks."""
    return [Distribution(), Symmetry()]
