"""Gradient checks: backward against the reference entry by entry, and against central
differences of the student's own forward, along random directions and at sampled entries.

The number of forward calls depends on ``directions`` and ``samples``, never on the size
of the layer (as torch's gradcheck fast mode). Inputs stay ``margin`` away from kinks; a
component whose contract fixes its derivative at a kink (``KINKS``) also runs one backward
with entries exactly there, compared with the reference.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from ..hookspecs import hookimpl
from ..numerics import STEP
from ..results import Figure, Panel, Series
from ..sandbox.plan import Outcome, Plan, says_mutated
from .base import Case, CheckKind, Options, Target
from .central_differences import probe_directions, probe_errors, probe_offsets
from .compare import array_problem, close, failed_call, scalar_close
from .inputs import away_from, input_shape, loss_inputs, output_shape, reference_params


class GradientOptions(Options):
    batch: int = 4
    features: int = 6
    """The input width when the component's kwargs do not fix it (``din`` or ``dim``)."""
    margin: float = 0.05
    """Inputs keep at least this distance from kinks (0 for ReLU, 1 = t z for hinge)."""
    directions: int = 2
    samples: int = 3
    """Entries per array checked one by one, for feedback that names the entry."""
    rtol: float = 1e-7
    """Against the reference's analytic gradient."""
    numeric_rtol: float = 1e-6
    """Against central differences (Richardson-extrapolated) of the student's forward."""
    training: bool = True
    fixed_seed: int | None = None
    """Reseed the component's ``rng`` before every forward: a fixed dropout mask."""
    reference: bool = True
    """Compare forward, dx and grads with the reference. False for a random layer whose mask
    depends on the order of its random calls: then only central differences of the
    student's own forward (with ``fixed_seed``), linearity and purity are judged."""
    masked: tuple[str, ...] = ()
    """Without the reference: arrays (``y``, ``dx``, ``dW``, ...) that a random mask scales
    entry by entry, compared with the reference's where both masks keep the entry."""
    targets: Literal["real", "labels", "signs"] | None = None
    """For losses: the kind of target (default by the loss's name)."""


KINKS: dict[tuple[str, str], str] = {
    ("activations", "relu"): "f'(0) = 0",
    ("activations", "leaky_relu"): "f'(0) = alpha",
    ("activations", "prelu"): "f'(0) = a",
    ("losses", "hinge"): "the subgradient is 0 where t z = 1 exactly",
}
"""The conventions at kinks the contract fixes, by component (docs/contract.md)."""


def _at_kinks(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A boolean mask choosing about a third of ``x``'s entries (at least one)."""
    chosen = rng.random(x.shape) < 1 / 3
    chosen.flat[int(rng.integers(x.size))] = True
    return chosen


class Gradient(CheckKind):
    """``backward`` is the derivative of ``forward``, and equals the reference's."""

    name = "gradient"
    kinds = ("layers", "activations", "losses")
    options = GradientOptions
    summary = "backward against the reference and against central differences"

    # ----------------------------------------------------------------- plans
    def plan(self, target: Target, options: GradientOptions) -> Plan:
        if target.kind == "losses" and not options.reference:
            raise ValueError("reference = false is for random layers: a loss has no mask")
        if target.kind == "losses":
            return self._loss_plan(target, options)
        rng = target.rng()
        plan = Plan()
        plan.make("c", target.kind, target.name, **target.kwargs)
        params = reference_params(target, rng)
        refs = {k: plan.array(v) for k, v in params.items()}
        for key, ref in refs.items():
            plan.set_param("c", key, ref)
        x = away_from(rng.standard_normal(input_shape(target, options)), 0.0, options.margin)
        arrays = {"x": x, **params}
        xr = plan.array(x)

        def forward(save: str | None, watch: bool = False, x_ref: Any = xr) -> None:
            if options.fixed_seed is not None:
                plan.set_rng("c", options.fixed_seed)
            plan.call("c", "forward", x_ref, save=save, watch=watch, training=options.training)

        y_shape = output_shape(target, params, x, options.training, options.fixed_seed)
        dout, dout2 = rng.standard_normal(y_shape), rng.standard_normal(y_shape)
        forward("y", watch=True)
        plan.call("c", "backward", plan.array(dout), save="dx", watch=True)
        plan.get("c", "grads", save="grads")
        forward(None)
        plan.call("c", "backward", plan.array(dout2), save="dx2")
        forward(None)
        plan.call("c", "backward", plan.array(2 * dout - 3 * dout2), save="dx3")

        probes = []
        for name, value in arrays.items():
            base = xr if name == "x" else refs[name]
            dirs = probe_directions(value, options.directions, options.samples, rng)
            for j, v in enumerate(dirs):
                h = STEP * max(1.0, float(np.max(np.abs(value)))) / float(np.max(np.abs(v)))
                direction = plan.array(v)
                keys = []
                for k, step in enumerate(probe_offsets(h)):
                    key = f"p:{name}:{j}:{k}"
                    moved = plan.shifted(base, direction, step)
                    if name == "x":
                        forward(key, x_ref=moved)
                    else:
                        plan.set_param("c", name, moved)
                        forward(key)
                    keys.append(key)
                if name != "x":
                    plan.set_param("c", name, base)
                probes.append((name, v, h, keys, j >= options.directions))
        if (target.kind, target.name) in KINKS:
            forward(None, x_ref=plan.array(np.where(_at_kinks(x, rng), 0.0, x)))
            plan.call("c", "backward", plan.array(dout), save="kink")
        plan.meta = {"dout": dout, "probes": probes}
        return plan

    def _loss_plan(self, target: Target, options: GradientOptions) -> Plan:
        rng = target.rng()
        y, t = loss_inputs(target, options, rng)
        plan = Plan()
        plan.make("c", target.kind, target.name, **target.kwargs)
        tr = plan.array(t)
        plan.call("c", "forward", plan.array(y), tr, save="loss", watch=True)
        plan.call("c", "backward", 1.0, save="dx")
        plan.call("c", "backward", 2.5, save="dx2")
        probes = []
        base = plan.array(y)
        for j, v in enumerate(probe_directions(y, options.directions, options.samples, rng)):
            h = STEP * max(1.0, float(np.max(np.abs(y))))
            direction = plan.array(v)
            keys = []
            for k, step in enumerate(probe_offsets(h)):
                key = f"p:y:{j}:{k}"
                plan.call("c", "forward", plan.shifted(base, direction, step), tr, save=key)
                keys.append(key)
            probes.append(("y", v, h, keys, j >= options.directions))
        if (target.kind, target.name) in KINKS:  # the hinge: t z = 1 exactly
            at_margin = np.where(_at_kinks(y, rng), t, y)
            plan.call("c", "forward", plan.array(at_margin), tr)
            plan.call("c", "backward", 1.0, save="kink")
        plan.meta = {"dout": None, "probes": probes}
        return plan

    # ------------------------------------------------------------- judgement
    def judge(
        self, target: Target, options: GradientOptions, plan: Plan, outcome: Outcome, expected: Any
    ) -> list[Case]:
        ref: Outcome = expected
        v = outcome.values
        meta = plan.meta
        loss = target.kind == "losses"
        first = "loss" if loss else "y"
        cases: list[Case] = []
        missing = failed_call(outcome, first)
        if missing:
            return [missing]
        if not options.reference:
            cases.append(self._shapes(outcome, ref))
            cases += [self._masked(name, outcome, ref, options) for name in options.masked]
        elif loss:
            cases.append(scalar_close("loss", v["loss"], ref.values["loss"], rtol=options.rtol))
        else:
            cases.append(close("forward", v["y"], ref.values["y"], rtol=options.rtol))
        if options.reference:
            cases.append(
                failed_call(outcome, "dx")
                or close("dx", v["dx"], ref.values["dx"], rtol=options.rtol)
            )
        if options.reference and not loss:
            cases += self._param_cases(outcome, ref, options)
        if options.reference:
            cases.append(self._linearity(outcome, ref, loss, options.rtol))
        else:
            cases.append(self._self_linearity(outcome, loss))
        if options.reference and "kink" in ref.values:
            cases.append(self._kink(target, outcome, ref, options))
        probes = self._probes(outcome, ref, meta, options) if options.reference else None
        cases.append(self._numeric(outcome, meta, loss, options, probes))
        cases.append(self._purity(outcome, ref, loss))
        return cases

    def _probes(self, outcome: Outcome, ref: Outcome, meta: dict, options: GradientOptions) -> str:
        """Why the forwards at the probes differ from the reference's there ("" if they
        do not): central differences earn credit only on forwards that are compared."""
        for _, _, _, keys, _ in meta["probes"]:
            for key in keys:
                got, want = outcome.values.get(key), ref.values.get(key)
                if isinstance(want, float | int):
                    if type(got) not in (int, float) or not np.isfinite(got):
                        return "a probe forward returned no number"
                    case = scalar_close("probe", float(got), float(want), rtol=options.rtol)
                else:
                    case = close("probe", got, want, rtol=options.rtol)
                if not case.passed:
                    return "your forward near the input differs from the reference's there"
        return ""

    def _kink(
        self, target: Target, outcome: Outcome, ref: Outcome, options: GradientOptions
    ) -> Case:
        """The backward at inputs with entries exactly at the kink, against the reference's:
        central differences cannot judge a kink, the contract's convention does."""
        name = "at the kink"
        case = failed_call(outcome, "kink") or close(
            name, outcome.values["kink"], ref.values["kink"], rtol=options.rtol
        )
        if case.passed:
            return case
        rule = KINKS[(target.kind, target.name)]
        return Case(name, False, f"{case.message} (the contract fixes {rule})")

    def _shapes(self, outcome: Outcome, ref: Outcome) -> Case:
        """Without the reference: dx and every grad exist, finite, of the reference's shape."""
        v, want = outcome.values, ref.values
        got_grads = v.get("grads") if isinstance(v.get("grads"), dict) else {}
        problems = [
            f"forward: {array_problem(v.get('y'), np.shape(want['y']))}",
            f"dx: {array_problem(v.get('dx'), np.shape(want['dx']))}",
        ] + [
            f"d{k}: {array_problem(got_grads.get(k), np.shape(e))}"
            for k, e in (want.get("grads") or {}).items()
        ]
        problems = [p for p in problems if not p.endswith(": None")]
        return Case("shapes", not problems, "; ".join(problems[:3]), compared=False)

    def _masked(self, name: str, outcome: Outcome, ref: Outcome, options: GradientOptions) -> Case:
        """``name`` against the reference's, on the entries both masks keep: the masks
        differ, the kept entries' values must not (a scale of 1/p, the unmasked value)."""
        got, want = _named_array(outcome, name), _named_array(ref, name)
        problem = array_problem(got, np.shape(want)) if want is not None else "no reference"
        if problem is not None:
            return Case(name, False, f"{name}: {problem}")
        kept, ref_kept = got != 0, want != 0
        if ref_kept.any() and not kept.any():
            return Case(name, False, f"{name}: every entry is 0: the mask keeps no unit")
        if not ref_kept.all() and kept.all():
            return Case(name, False, f"{name}: no entry is 0: the mask drops no unit")
        both = kept & ref_kept
        if ref_kept.any() and not both.any():  # else nothing is compared: a mask chosen to
            # miss the reference's would earn the case with any values at all
            return Case(name, False, f"{name}: no entry is kept by both masks")
        case = close(name, got[both], want[both], rtol=options.rtol, source="reference")
        if case.passed:
            return Case(name, True)
        where = "on the entries both masks keep"
        return Case(name, False, case.message.replace("from the reference", f"{where}", 1))

    def _param_cases(self, outcome: Outcome, ref: Outcome, options: GradientOptions) -> list[Case]:
        expected = ref.values.get("grads") or {}
        if not expected:
            return []
        got = outcome.values.get("grads")
        if not isinstance(got, dict):
            missing = failed_call(outcome, "grads")
            return [missing or Case("grads", False, "grads: expected a dict of arrays")]
        return [
            close(f"d{k}", got[k], e, rtol=options.rtol)
            if k in got
            else Case(f"d{k}", False, f"d{k}: grads has no key {k!r} after backward")
            for k, e in expected.items()
        ]

    def _linearity(self, outcome: Outcome, ref: Outcome, loss: bool, rtol: float) -> Case:
        """Backward linear in ``dout``, judged on backwards each compared with the
        reference's: a later call, and one at ``2 a - 3 b``, give the reference's values."""
        v, want = outcome.values, ref.values
        name = "linear in dout"
        later = ("dx2",) if loss else ("dx2", "dx3")
        for key in ("dx", *later):
            problem = array_problem(v.get(key)) if key in v else "not computed"
            if problem:
                call = "backward" if key == "dx" else f"backward call {later.index(key) + 2}"
                return Case(name, False, f"{name}: not judged, {call}: {problem}", 0.5)
        if not loss and v["dx"].shape != v["dx3"].shape:
            return Case(name, False, f"{name}: backward returned arrays of different shapes", 0.5)
        for key, dout in (("dx2", "2.5" if loss else "b"), ("dx3", "2 a - 3 b")):
            if key not in later or not isinstance(want.get(key), np.ndarray):
                continue
            case = close("dx", v[key], want[key], rtol=rtol)
            if not case.passed:
                msg = f"{name}: backward({dout}), called after the others: {case.message}"
                return Case(name, False, msg, 0.5)
        return Case(name, True, "", 0.5)

    def _self_linearity(self, outcome: Outcome, loss: bool) -> Case:
        """Without the reference (a random mask): ``dx(2 a - 3 b) = 2 dx(a) - 3 dx(b)``."""
        v = outcome.values
        name = "linear in dout"
        if any(array_problem(v.get(k)) for k in ("dx", "dx2", "dx3")):
            return Case(name, False, f"{name}: backward was not computed three times", 0.5, False)
        if not (v["dx"].shape == v["dx2"].shape == v["dx3"].shape):
            return Case(
                name, False, f"{name}: backward returned arrays of different shapes", 0.5, False
            )
        case = close(
            "dx", v["dx3"], 2 * v["dx"] - 3 * v["dx2"], rtol=1e-8, source="2 dx(a) - 3 dx(b)"
        )
        msg = f"{name}: backward must be linear in the upstream gradient; {case.message}"
        return Case(name, case.passed, "" if case.passed else msg, 0.5, compared=False)

    def _numeric(
        self,
        outcome: Outcome,
        meta: dict,
        loss: bool,
        options: GradientOptions,
        probes: str | None = None,
    ) -> Case:
        if probes:
            return Case("numeric", False, f"numeric: not judged: {probes}", compared=False)
        errors = probe_errors(outcome, meta, loss)
        if errors is None:
            why = "a probe forward returned no usable value"
            if outcome.failure is not None:
                why = f"not computed, your code raised {outcome.failure.type} before the probes"
            return Case("numeric", False, f"numeric: {why}", compared=False)
        worst = max(errors, default=None, key=lambda e: e[1])
        if worst is None or worst[1] <= options.numeric_rtol:
            return Case("numeric", True, compared=False)
        _, err, analytic, numeric, where = worst
        return Case(
            "numeric",
            False,
            f"numeric: {where}: received {analytic:.6g} from your backward, expected "
            f"{numeric:.6g} from central differences of your forward; relative error "
            f"{err:.1e} > tolerance {options.numeric_rtol:.0e}",
            compared=False,
        )

    def figure(
        self, target: Target, options: GradientOptions, plan: Plan, outcome: Outcome, expected: Any
    ) -> Figure | None:
        """The worst relative error per array (dx, dW, ...): against the reference's
        backward and against central differences, with both tolerances."""
        loss = target.kind == "losses"
        v, ref = outcome.values, expected.values
        errors = probe_errors(outcome, plan.meta, loss) or []
        labels = ["dx"] + [f"d{k}" for k in (ref.get("grads") or {})]
        numeric = [max((e[1] for e in errors if e[0] == label), default=np.nan) for label in labels]
        against = []
        for label in labels:
            if label == "dx":
                got, want = v.get("dx"), ref.get("dx")
            else:
                got = (v.get("grads") if isinstance(v.get("grads"), dict) else {}).get(label[1:])
                want = ref["grads"][label[1:]]
            against.append(_relative_error(got, want) if options.reference else np.nan)
        if all(np.isnan(e) for e in numeric + against):
            return None
        floor = 1e-17  # an exact match drawn at the bottom of a log axis
        series = [Series.of("vs central differences", np.maximum(numeric, floor))]
        marks = {}
        if options.reference:
            series.insert(0, Series.of("vs reference", np.maximum(against, floor)))
            marks[f"reference tolerance {options.rtol:.0e}"] = options.rtol
        marks[f"numeric tolerance {options.numeric_rtol:.0e}"] = options.numeric_rtol
        panel = Panel(
            kind="bar",
            title="worst relative error per array",
            ylabel="relative error",
            log=True,
            categories=labels,
            marks=marks,
            series=series,
        )
        return Figure(title=f"{target.name}: gradient check", panels=[panel])

    def _purity(self, outcome: Outcome, ref: Outcome, loss: bool) -> Case:
        """Inputs left alone, as the expected outcome leaves them: the reference modifies
        none, and a mutant that writes into ``dout`` is matched by a submission that does."""
        first = "loss" if loss else "y"

        def changed(values: dict[str, Any]) -> list[str]:
            return [
                method
                for method, key in (("forward", first), ("backward", "dx"))
                if says_mutated(values.get(f"{key}.mutated"))
            ]

        mine = changed(outcome.values)
        if mine == changed(ref.values):
            return Case("inputs unchanged", True, "", 0.5, compared=False, evidence=True)
        message = "; ".join(f"{method} modified its input in place" for method in mine)
        if "backward" in mine:
            message += " (dout belongs to the caller: copy it before writing into it)"
        return Case(
            "inputs unchanged",
            False,
            message or "no input modified in place, unlike the expected outcome",
            0.5,
            compared=False,
            evidence=True,
        )


def _relative_error(received: Any, expected: Any) -> float:
    """``close``'s worst ``|r - e| / (|e| + max|e|)``; nan when either is unusable."""
    if array_problem(received) or array_problem(expected) or received.shape != expected.shape:
        return float("nan")
    scale = max(float(np.max(np.abs(expected))) if expected.size else 0.0, 1e-30)
    err = np.abs(received - expected) / (np.abs(expected) + scale)
    return float(err.max()) if err.size else 0.0


@hookimpl
def gradekit_check_kinds() -> list[CheckKind]:
    """The gradient check."""
    return [Gradient()]


def _named_array(outcome: Outcome, name: str) -> Any:
    """``y``, ``dx`` or a gradient ``d<param>`` from an outcome's saved values."""
    values = outcome.values
    if name in ("y", "dx"):
        return values.get(name)
    grads = values.get("grads")
    return grads.get(name[1:]) if isinstance(grads, dict) else None
