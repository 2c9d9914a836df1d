"""Features of an outcome, compared between the student's outcome and the expected one.

A check kind that judges behaviour rather than raw values reduces each outcome to named
features with the same code on both sides, and compares them feature by feature:

- ``Exact``: a deterministic array or number (a test-time output, a running variance),
  compared entry by entry within ``rtol``;
- ``Category``: which of a few behaviours the outcome shows (``"ok"``, ``"vertical"``,
  ``"swapped"``), equal or not; the student's own message says what it did;
- ``Statistic``: an estimate from random draws with its standard error and degrees of
  freedom (``estimates``: dependence between entries counted). The expected side draws
  independently of the student (the stochastic check runs it with other seeds), so the
  difference of two estimates has standard error ``sqrt(se_1^2 + se_2^2)``, and the
  tolerance is ``tolerance_factor(z, df, kurtosis)`` of those (Student's t, widened for
  heavy tails) plus an ``allowance`` that absorbs a documented legitimate difference (a
  box rounded to the pixel the other way). A correct component then fails such a case
  with probability ``false_alarm_rate(z)`` (5.7e-7 at ``z = 5``): the rate each model's
  docstring states, case by case;
- ``Missing``: a feature that could not be computed (a call raised, a bad array).

A feature may be added as severe (``FeatureSet.add(..., severe=...)``): failing it means
the component fails its purpose (a frozen dropout mask, a test time that depends on the
batch), and ``compare_all`` marks the case so (see ``gradekit.credit``). Severity is read
from the student's feature set, always computed by the model's own code.

Because the expected side may be the reference or a mutant, a mutant whose features the
student matches explains the failure, and the grader names its misconception.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..sandbox.plan import Outcome, says_mutated
from .base import Case
from .compare import array_problem, close, describe
from .estimates import (
    difference,
    false_alarm_rate,
    kurtosis_of_mean,
    null_variance,
    tolerance_factor,
    variance,
)


class Unusable(Exception):
    """A value a feature needs is missing or malformed; the message says which and why."""


@dataclass
class Exact:
    value: Any
    rtol: float
    label: str


@dataclass
class Category:
    value: str
    message: str = ""


@dataclass
class Statistic:
    value: float
    se: float
    n: int
    label: str
    allowance: float = 0.0
    df: float = math.inf
    """Degrees of freedom of ``se`` (at least 1): the effective number of independent draws,
    less the parameters estimated from them."""
    kurtosis: float = 0.0
    """The estimate's excess kurtosis (its values' own over the number of draws)."""


@dataclass
class Missing:
    message: str


Feature = Exact | Category | Statistic | Missing


@dataclass
class Expected:
    """What ``expect`` returns for feature-based kinds: the trusted side's features."""

    features: dict[str, tuple[float, Feature]]
    failure: Any = None
    """The trusted run's failure, if any: the grader skips mutants that cannot run the plan."""


def value(outcome: Outcome, key: str, label: str | None = None) -> Any:
    """A saved value, or ``Unusable`` saying why it is not there."""
    if key in outcome.values:
        return outcome.values[key]
    label = label or key
    if outcome.failure is not None:
        f = outcome.failure
        raise Unusable(f"{label}: not computed, your code raised {f.type}: {f.message}")
    raise Unusable(f"{label}: not computed ({outcome.detail or outcome.status})")


def array(
    outcome: Outcome, key: str, shape: tuple[int, ...] | None = None, label: str | None = None
) -> np.ndarray:
    """A saved finite real array (of ``shape``) as float64, or ``Unusable``."""
    return valid(value(outcome, key, label), shape, label or key)


def valid(got: Any, shape: tuple[int, ...] | None, label: str) -> np.ndarray:
    """``got`` as a float64 array if it is a finite real array (of ``shape``), else ``Unusable``."""
    problem = array_problem(got, shape)
    if problem:
        raise Unusable(f"{label}: {problem}")
    return got.astype(np.float64)


def number(outcome: Outcome, key: str, label: str | None = None) -> float:
    """A saved real number (a size-1 array counts), or ``Unusable``; NaN is kept."""
    got = value(outcome, key, label)
    if isinstance(got, np.ndarray) and got.size == 1 and got.dtype.kind in "fiu":
        return float(got.reshape(()))
    if type(got) in (int, float):
        return float(got)
    raise Unusable(f"{label or key}: expected a number, received {describe(got)}")


def mean_stat(samples: np.ndarray, label: str, allowance: float = 0.0) -> Statistic:
    """The mean of ``samples``, an array whose axes are the draw's dimensions (calls,
    examples, ...), with its standard error: the iid one unless entries that share indices
    are alike (``estimates.variance``)."""
    samples = np.asarray(samples, dtype=np.float64)
    if samples.size == 0:
        raise Unusable(f"{label}: nothing to measure")
    mean = float(samples.mean())
    var, units = variance(samples - mean)
    kurtosis = kurtosis_of_mean(samples - mean, units)
    return Statistic(
        mean, math.sqrt(var), samples.size, label, allowance, max(units - 1, 1.0), kurtosis
    )


def correlation_stat(x: np.ndarray, axis: int, label: str) -> Statistic:
    """Pearson's r between the even and the odd slices of ``x`` along ``axis`` (0 with 1,
    2 with 3, ...; an odd last one is left out), whose axes are the draw's dimensions,
    with its standard error when the two are independent (the hypothesis the cases test):
    ``1/sqrt(n)`` for independent entries, larger when entries that share indices are
    alike (``estimates.null_variance``).

    One side that never varies is independent of the other (r = 0 exactly: a mask shared
    by the batch may keep every unit of a few draws); when neither varies, nothing is
    measured (a layer that keeps every unit)."""
    x = np.asarray(x, dtype=np.float64)
    pairs = x.shape[axis] // 2
    a = np.take(x, np.arange(0, 2 * pairs, 2), axis=axis)
    b = np.take(x, np.arange(1, 2 * pairs, 2), axis=axis)
    if a.size < 2:
        raise Unusable(f"{label}: too few values to measure a correlation")
    sa, sb = a.std(), b.std()
    if sa == 0 and sb == 0:
        raise Unusable(f"{label}: the values never vary, so independence cannot be measured")
    if sa == 0 or sb == 0:
        return Statistic(0.0, 0.0, a.size, label, df=max(a.size - 2, 1))
    za, zb = (a - a.mean()) / sa, (b - b.mean()) / sb
    var, units = null_variance(za, zb)
    kurtosis = float(np.mean(za**4) * np.mean(zb**4) - 3.0) / units
    r = float(np.mean(za * zb))
    return Statistic(r, math.sqrt(var), a.size, label, 0.0, max(units - 2, 1.0), kurtosis)


def guarded(make: Callable[[], Feature]) -> Feature:
    """``make()``, or ``Missing`` with the reason a value it needed is unusable."""
    try:
        return make()
    except Unusable as exc:
        return Missing(str(exc))
    except Exception as exc:  # a malformed value no validation foresaw: that case fails
        return Missing(f"could not be judged ({type(exc).__name__}: {exc})"[:300])


Severity = Callable[[Feature], bool]
"""Whether failing a case means the component fails its purpose, given the student's feature."""


def always(feature: Feature) -> bool:
    """A case whose every failure is severe."""
    return True


class FeatureSet(dict[str, tuple[float, Feature]]):
    """Named features with their weights, in the order they were added, and which of them
    are severe when they fail."""

    def __init__(self) -> None:
        super().__init__()
        self.severity: dict[str, Severity] = {}

    def add(
        self,
        name: str,
        make: Callable[[], Feature],
        weight: float = 1.0,
        severe: Severity | None = None,
    ) -> None:
        """Compute a feature now; a value it needs that is unusable makes it ``Missing``.
        ``severe`` says, from this feature, whether failing the case fails the purpose."""
        self[name] = (weight, guarded(make))
        if severe is not None:
            self.severity[name] = severe


def first_violation(bad: np.ndarray, message: Callable[..., str]) -> Category:
    """``Category("ok")`` when no entry of ``bad`` is set, else ``"violated"`` with
    ``message(*index)`` of the first one set: what the student sees, at that entry."""
    if not bad.any():
        return Category("ok")
    return Category("violated", message(*(int(a) for a in np.argwhere(bad)[0])))


def ok_or(problem: str | None) -> Category:
    """``Category("ok")``, or ``"violated"`` with the problem as the student's message."""
    return Category("ok") if problem is None else Category("violated", problem)


def compare(
    name: str,
    weight: float,
    got: Feature,
    want: Feature,
    *,
    z: float,
    source: str = "reference",
) -> Case:
    """One case: the student's feature against the expected one."""
    if isinstance(got, Missing) or isinstance(want, Missing):
        if isinstance(got, Missing) and isinstance(want, Missing):
            return Case(name, True, "", weight)  # both fail the same way (a mutant)
        message = (
            got.message
            if isinstance(got, Missing)
            else f"{name}: computed, where the {source}'s is not ({want.message})"
        )
        if isinstance(got, Missing) and not message.startswith(name):
            message = f"{name}: {message}"
        return Case(name, False, message, weight)
    if isinstance(want, Exact):
        assert isinstance(got, Exact)
        expected = np.asarray(want.value, dtype=np.float64)
        received = got.value
        if np.ndim(expected) == 0 and not isinstance(received, np.ndarray):
            received = np.asarray(received, dtype=np.float64)
        case = close(want.label, received, expected, rtol=want.rtol, source=source)
        return Case(name, case.passed, case.message, weight, severe=case.severe)
    if isinstance(want, Category):
        assert isinstance(got, Category)
        if got.value == want.value:
            return Case(name, True, "", weight)
        message = got.message or f"{name}: behaves as {got.value!r}, expected {want.value!r}"
        return Case(name, False, message, weight)
    assert isinstance(got, Statistic) and isinstance(want, Statistic)
    mine = (got.se, got.df, got.kurtosis) if np.isfinite(got.se) else (0.0, math.inf, 0.0)
    se, df, kurtosis = difference(*mine, want.se, want.df, want.kurtosis)
    factor = tolerance_factor(z, df, kurtosis)
    tol = factor * se + want.allowance
    diff = abs(got.value - want.value)
    if np.isfinite(got.value) and diff <= tol:
        return Case(name, True, "", weight)
    extra = f" + an allowance of {want.allowance:.3g}" if want.allowance else ""
    return Case(
        name,
        False,
        f"{want.label}: received {got.value:.4g}, expected {want.value:.4g} ± {want.se:.2g} "
        f"(the {source}'s estimate over {want.n} draws); the difference {diff:.3g} exceeds the "
        f"tolerance {tol:.3g} ({factor:.3g} standard errors of the difference{extra}, which a "
        f"correct implementation exceeds with probability {false_alarm_rate(z):.1g})",
        weight,
    )


def compare_all(
    got: FeatureSet,
    want: dict[str, tuple[float, Feature]],
    *,
    z: float,
) -> list[Case]:
    """Every expected feature against the student's, in the expected order; a case the
    student's feature set marks severe is severe when it fails."""
    cases = []
    for name, (weight, feature) in want.items():
        mine = got.get(name, (weight, Missing(f"{name}: not computed")))[1]
        rule = got.severity.get(name)
        case = compare(name, weight, mine, feature, z=z)
        case.severe = case.severe or (rule is not None and rule(mine))
        cases.append(case)
    return cases


def purity_case(changed: list[str], outcome: Outcome) -> Case:
    """Inputs must be left alone: ``changed`` lists the calls that modified theirs.

    No credit when no watched call completed (nothing was shown to be pure)."""
    ran = any(
        k.endswith(".mutated") or (isinstance(v, dict) and "mutated" in v)
        for k, v in outcome.values.items()
    )
    if not ran:
        return Case("inputs unchanged", False, "", 0.5, compared=False)
    message = "; ".join(f"{c} modified its input in place" for c in changed[:3])
    return Case("inputs unchanged", not changed, message, 0.5, compared=False)


def watched(outcome: Outcome, labels: dict[str, str]) -> list[str]:
    """The calls a ``watch`` saw modify an input: saved keys by prefix -> call label."""
    found = set()
    for key, value in outcome.values.items():
        if key.endswith(".mutated") and says_mutated(value):
            found |= {label for prefix, label in labels.items() if key.startswith(prefix)}
    return sorted(found)
