"""Weight-penalty checks: ``penalty(w)`` and ``grad(w)`` against the reference, and the
gradient against central differences of the student's own penalty.

Weights include exact zeros, where L1's subgradient is sign(0) = 0; the central
differences are taken at weights kept ``margin`` away from 0, where |w| is smooth.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..hookspecs import hookimpl
from ..numerics import STEP
from ..sandbox.plan import Outcome, Plan
from .base import Case, CheckKind, Options, Target
from .central_differences import probe_offsets, richardson
from .compare import close
from .features import Unusable, array, number, purity_case, value, watched
from .inputs import away_from


class PenaltyOptions(Options):
    shapes: tuple[tuple[int, ...], ...] = ((5, 4), (7,))
    """The weight arrays: a matrix and a bias-like vector by default."""
    zeros: int = 3
    """Entries of each array set exactly to 0."""
    margin: float = 0.05
    directions: int = 2
    samples: int = 3
    rtol: float = 1e-9
    numeric_rtol: float = 1e-6


class PenaltyCheck(CheckKind):
    """``penalty`` and ``grad`` equal the reference's, and ``grad`` is the penalty's slope."""

    name = "penalty"
    kinds = ("penalties",)
    options = PenaltyOptions
    summary = "penalty value and gradient (sign(0) = 0), and central differences"

    def plan(self, target: Target, options: PenaltyOptions) -> Plan:
        rng = target.rng()
        plan = Plan()
        plan.make("c", target.kind, target.name, **target.kwargs)
        weights = []
        for j, shape in enumerate(options.shapes):
            w = rng.standard_normal(shape)
            flat = w.reshape(-1)
            flat[rng.choice(flat.size, size=min(options.zeros, flat.size), replace=False)] = 0.0
            weights.append(w)
            ref = plan.array(w)
            plan.call("c", "penalty", ref, save=f"penalty{j}", watch=True)
            plan.call("c", "grad", ref, save=f"grad{j}", watch=True)
        w0 = away_from(rng.standard_normal(options.shapes[0]), 0.0, options.margin)
        plan.call("c", "grad", plan.array(w0), save="grad_smooth")
        dirs = [rng.standard_normal(w0.shape) for _ in range(options.directions)]
        for i in rng.choice(w0.size, size=min(options.samples, w0.size), replace=False):
            e = np.zeros(w0.shape)
            e[np.unravel_index(int(i), w0.shape)] = 1.0
            dirs.append(e)
        probes = []
        for k, v in enumerate(dirs):
            # The step stays below the margin: no probe crosses |w|'s kink at 0.
            h = min(STEP * max(1.0, float(np.max(np.abs(w0)))), options.margin / 4)
            keys = []
            for m, s in enumerate(probe_offsets(h)):
                key = f"probe{k}:{m}"
                plan.call("c", "penalty", plan.array(w0 + s * v), save=key)
                keys.append(key)
            probes.append((v, h, keys, k >= options.directions))
        plan.meta = {"weights": weights, "probes": probes}
        return plan

    def judge(
        self, target: Target, options: PenaltyOptions, plan: Plan, outcome: Outcome, expected: Any
    ) -> list[Case]:
        cases = []
        for j, w in enumerate(plan.meta["weights"]):
            label = f"w{j + 1}"
            cases.append(self._value(outcome, expected, j, label, options))
            cases.append(self._grad(outcome, expected, j, label, w, options))
        cases.append(self._numeric(outcome, plan, options))
        cases.append(purity_case(watched(outcome, {"penalty": "penalty", "grad": "grad"}), outcome))
        return cases

    def _value(
        self, outcome: Outcome, ref: Outcome, j: int, label: str, options: PenaltyOptions
    ) -> Case:
        name = f"penalty({label})"
        try:
            got = number(outcome, f"penalty{j}", name)
        except Unusable as exc:
            return Case(name, False, str(exc))
        want = ref.values[f"penalty{j}"]
        case = close(name, np.array(got), np.array(want, dtype=float), rtol=options.rtol)
        return Case(name, case.passed, case.message)

    def _grad(
        self,
        outcome: Outcome,
        ref: Outcome,
        j: int,
        label: str,
        w: np.ndarray,
        options: PenaltyOptions,
    ) -> Case:
        name = f"grad({label})"
        try:
            got = value(outcome, f"grad{j}", name)
        except Unusable as exc:
            return Case(name, False, str(exc))
        want = np.asarray(ref.values[f"grad{j}"], dtype=float)
        case = close(name, got, want, rtol=options.rtol)
        if not case.passed and isinstance(got, np.ndarray) and got.shape == want.shape:
            wrong_at_zero = (w == 0) & ~np.isclose(got, want, rtol=options.rtol, atol=0)
            if wrong_at_zero.any():
                i = tuple(int(a) for a in np.argwhere(wrong_at_zero)[0])
                case.message += (
                    f"; at the zero weight {label}[{', '.join(map(str, i))}] the gradient is "
                    f"{float(got[i]):.6g}, expected {float(want[i]):.6g} (sign(0) = 0)"
                )
        return Case(name, case.passed, case.message)

    def _numeric(self, outcome: Outcome, plan: Plan, options: PenaltyOptions) -> Case:
        try:
            grad = array(outcome, "grad_smooth", plan.meta["weights"][0].shape, "grad")
            worst = (0.0, "")
            for v, h, keys, coord in plan.meta["probes"]:
                f = [number(outcome, key, "penalty at a probe") for key in keys]
                numeric = richardson(f, h)
                analytic = float(np.sum(grad * v))
                err = abs(analytic - numeric) / max(abs(analytic) + abs(numeric), 1e-8)
                if err > worst[0]:
                    if coord:
                        i = ", ".join(str(int(a)) for a in np.argwhere(v)[0])
                        where = f"grad(w1)[{i}]"
                    else:
                        where = "grad(w1) along a random direction"
                    worst = (
                        err,
                        f"numeric: {where}: received {analytic:.6g} from your grad, expected "
                        f"{numeric:.6g} from central differences of your penalty; relative "
                        f"error {err:.1e} > tolerance {options.numeric_rtol:.0e}",
                    )
        except Unusable as exc:
            return Case("numeric", False, f"numeric: {exc}", compared=False)
        passed = worst[0] <= options.numeric_rtol
        return Case("numeric", passed, "" if passed else worst[1], compared=False)


@hookimpl
def gradekit_check_kinds() -> list[CheckKind]:
    """The weight-penalty check."""
    return [PenaltyCheck()]
