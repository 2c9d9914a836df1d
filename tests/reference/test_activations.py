"""The reference activations: values against independent formulas, gradients against central
differences, stability at +-1000, conventions at kinks, and detection of every mutant.

Each check is a helper returning an error (or ``inf`` for a non-finite result or a warning), so
the same helpers both pass the reference and fail the mutants.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from gradekit.numerics import numeric_gradient, numeric_gradient_array, relative_error
from gradekit_reference.activations import (
    ACTIVATIONS,
    ELU,
    GELU,
    SELU,
    LeakyReLU,
    PReLU,
    ReLU,
    Sigmoid,
    Swish,
)
from gradekit_reference.mutants.activations import MUTANTS

pytestmark = pytest.mark.filterwarnings("error")

GRAD_TOL = 1e-7
"""Max relative error of an analytic gradient against central differences (float64)."""
VALUE_TOL = 1e-10
"""Max of |y - expected| / (1 + |expected|) for forward values."""
LARGE_GRAD_TOL = 1e-6
"""Same mixed error, for gradients at +-30 .. +-1000, where relative error is meaningless."""
D = 6
"""Features (the last axis): every input below ends with it, so PReLU(num_parameters=D) fits."""
KINK_MARGIN = 1e-3
"""Sampled inputs stay this far from a kink (x = 0), far beyond the finite-difference step."""
STATIONARY_MARGIN = 0.05
"""...and this far from a zero of f', where a relative error is only round-off."""
PRELU_SLOPES = np.linspace(0.1, 0.6, D)
"""The per-feature slopes the test writes into PReLU(num_parameters=D).params["a"]."""

SELU_ALPHA = 1.6732632423543772  # Klambauer et al. (2017), eq. 14
SELU_LAMBDA = 1.0507009873554805

_erf = np.vectorize(math.erf, otypes=[np.float64])
_tanh = np.vectorize(math.tanh, otypes=[np.float64])


# --- the cases and the independent formulas ------------------------------------------------

DEFAULTS: dict[str, dict[str, Any]] = {
    "leaky_relu": {"alpha": 0.1},
    "prelu": {"num_parameters": 1, "init": 0.25},
    "elu": {"alpha": 1.0},
    "gelu": {"approximate": False},
    "swish": {"beta": 1.0},
    "silu": {"beta": 1.0},
}
"""The course's constructor defaults, which the reference must have."""


@dataclass(frozen=True)
class Case:
    """A registry name and constructor arguments (the rest take their defaults)."""

    name: str
    kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def hyper(self) -> dict[str, Any]:
        """Every hyperparameter, defaults filled in."""
        return {**DEFAULTS.get(self.name, {}), **self.kwargs}

    @property
    def id(self) -> str:
        """A stable test id, e.g. ``prelu(num_parameters=6,init=0.2)``."""
        args = ",".join(f"{k}={v}" for k, v in self.kwargs.items())
        return f"{self.name}({args})"


CASES = [
    Case("sigmoid"),
    Case("tanh"),
    Case("relu"),
    Case("leaky_relu"),
    Case("leaky_relu", {"alpha": 0.3}),
    Case("prelu"),
    Case("prelu", {"num_parameters": D, "init": 0.2}),
    Case("elu"),
    Case("elu", {"alpha": 0.5}),
    Case("selu"),
    Case("gelu"),
    Case("gelu", {"approximate": True}),
    Case("softplus"),
    Case("swish"),
    Case("swish", {"beta": 1.7}),
    Case("silu"),
]
CASE_IDS = [case.id for case in CASES]


def slopes(case: Case) -> np.ndarray:
    """The PReLU slopes in force during a check: the init, or those the test writes in."""
    n = case.hyper["num_parameters"]
    return PRELU_SLOPES if n > 1 else np.full(n, case.hyper["init"])


def build(factory: Callable[..., Any], case: Case) -> Any:
    """Construct the component; like the grader, set PReLU's per-feature slopes to known values."""
    layer = factory(**case.kwargs)
    if case.name == "prelu" and case.hyper["num_parameters"] > 1:
        layer.params["a"] = PRELU_SLOPES.copy()
    return layer


def logistic(z: np.ndarray) -> np.ndarray:
    """The sigmoid as (1 + tanh(z/2)) / 2: stable, and not the reference's e^-|z| split."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def expected_forward(case: Case, x: np.ndarray) -> np.ndarray:
    """f(x) from the formula in reference-semantics.md, written independently."""
    h, name = case.hyper, case.name
    if name == "sigmoid":
        return logistic(x)
    if name == "tanh":
        return _tanh(x)
    if name == "relu":
        return x * (x > 0)
    if name == "leaky_relu":
        return np.where(x >= 0, x, h["alpha"] * x)
    if name == "prelu":
        return np.maximum(x, 0) + slopes(case) * np.minimum(x, 0)
    if name in ("elu", "selu"):
        alpha, scale = (h["alpha"], 1.0) if name == "elu" else (SELU_ALPHA, SELU_LAMBDA)
        return scale * np.where(x > 0, x, alpha * (np.exp(np.minimum(x, 0)) - 1))
    if name == "gelu" and h["approximate"]:
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
    if name == "gelu":
        return 0.5 * x * (1 + _erf(x / math.sqrt(2)))
    if name == "softplus":
        return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))
    if name in ("swish", "silu"):
        return x * logistic(h["beta"] * x)
    raise AssertionError(f"no formula for {name}")


def avoid(case: Case) -> list[tuple[float, float]]:
    """(point, margin) pairs sampled inputs keep away from: kinks and zeros of f'."""
    if case.name in ("relu", "leaky_relu", "prelu", "elu", "selu"):
        # Central differences straddling x = 0 average both sides (0.5 for ReLU): never a
        # check point, see test_relu_kink_is_not_a_check_point.
        return [(0.0, KINK_MARGIN)]
    if case.name == "gelu":
        return [(-0.7518, STATIONARY_MARGIN)]  # GELU' = Phi + x phi vanishes at -0.7518
    if case.name in ("swish", "silu"):
        return [(-1.2785 / case.hyper["beta"], STATIONARY_MARGIN)]  # s (1 + bx(1 - s)) = 0
    return []


def sample(case: Case, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Inputs in [-3, 3] pushed out of every (point, margin) window of ``avoid``."""
    x = rng.uniform(-3.0, 3.0, shape)
    for point, margin in avoid(case):
        d = x - point
        x = np.where(np.abs(d) < margin, point + np.where(d < 0, -margin, margin), x)
    return x


def upstream(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """An upstream gradient of both signs with magnitudes in [0.5, 1.5]."""
    return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 1.5, shape)


# --- the checks: each returns an error, inf for a non-finite result ------------------------

GRID = np.linspace(-4.0, 4.0, 5 * D).reshape(5, D)
CUBE = np.linspace(-2.0, 2.0, 2 * 3 * D).reshape(2, 3, D)
LARGE = np.array([[-1000.0, -710.0, -30.0, 30.0, 710.0, 1000.0]])
"""Batch size 1; e^710 overflows float64, e^-710 is subnormal."""
GRAD_SHAPES = [(4, D), (1, D), (2, 3, D)]


def _mixed_error(received: np.ndarray, expected: np.ndarray) -> float:
    received = np.asarray(received, dtype=np.float64)
    if received.shape != expected.shape or not np.all(np.isfinite(received)):
        return math.inf
    return float(np.max(np.abs(received - expected) / (1.0 + np.abs(expected)), initial=0.0))


def _max_relative(received: np.ndarray, expected: np.ndarray) -> float:
    received = np.asarray(received, dtype=np.float64)
    if received.shape != expected.shape or not np.all(np.isfinite(received)):
        return math.inf
    return float(np.max(relative_error(received, expected), initial=0.0))


def forward_error(factory: Callable[..., Any], case: Case, x: np.ndarray) -> float:
    """Mixed error of forward(x) against the independent formula."""
    return _mixed_error(build(factory, case).forward(x.copy()), expected_forward(case, x))


def input_grad_error(factory: Callable[..., Any], case: Case, seed: int = 0) -> float:
    """Worst relative error of backward against central differences, over GRAD_SHAPES."""
    rng = np.random.default_rng(seed)
    worst = 0.0
    for shape in GRAD_SHAPES:
        x, dout = sample(case, rng, shape), upstream(rng, shape)
        layer = build(factory, case)
        layer.forward(x.copy())
        dx = layer.backward(dout.copy())
        probe = build(factory, case)
        numeric = numeric_gradient_array(lambda z, p=probe: p.forward(z), x.copy(), dout)
        worst = max(worst, _max_relative(dx, numeric))
    return worst


def large_grad_error(factory: Callable[..., Any], case: Case) -> float:
    """Mixed error of backward at LARGE against one-entry-at-a-time central differences.

    One entry at a time keeps the round-off of the other entries' values (up to 1000) out of
    each difference.
    """
    layer = build(factory, case)
    layer.forward(LARGE.copy())
    dx = layer.backward(np.ones_like(LARGE))
    probe = build(factory, case)
    numeric = np.zeros_like(LARGE)
    for i in np.ndindex(LARGE.shape):
        onehot = np.zeros_like(LARGE)
        onehot[i] = 1.0
        numeric[i] = numeric_gradient_array(probe.forward, LARGE.copy(), onehot)[i]
    return _mixed_error(dx, numeric)


def param_grad_error(factory: Callable[..., Any], case: Case, seed: int = 1) -> float:
    """Worst relative error of ``grads[k]`` against central differences in ``params[k]``.

    For an activation without parameters, 0 if ``params`` and ``grads`` are both empty.
    """
    rng = np.random.default_rng(seed)
    worst = 0.0
    for shape in GRAD_SHAPES:
        x, dout = sample(case, rng, shape), upstream(rng, shape)
        layer = build(factory, case)
        layer.forward(x.copy())
        layer.backward(dout.copy())
        if set(layer.grads) != set(layer.params):
            return math.inf
        for key, value in layer.params.items():
            probe = build(factory, case)

            def loss(p: Any = probe, x: np.ndarray = x, dout: np.ndarray = dout) -> float:
                return float(np.sum(p.forward(x) * dout))

            numeric = numeric_gradient(loss, probe.params[key])
            if np.shape(layer.grads[key]) != np.shape(value):
                return math.inf
            worst = max(worst, _max_relative(layer.grads[key], numeric))
    return worst


def warnings_at_large(factory: Callable[..., Any], case: Case) -> float:
    """0 if forward and backward at LARGE raise no RuntimeWarning (overflow, invalid), else inf."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            layer = build(factory, case)
            layer.forward(LARGE.copy())
            layer.backward(np.ones_like(LARGE))
        except (RuntimeWarning, FloatingPointError):
            return math.inf
    return 0.0


LEFT_SLOPE: dict[str, Callable[[Case], Any]] = {
    "relu": lambda c: 0.0,
    "leaky_relu": lambda c: c.hyper["alpha"],
    "prelu": slopes,
    "elu": lambda c: c.hyper["alpha"],
}
"""f'(0) by the contract's convention (the mask is x > 0): the left branch's slope."""


def kink_error(factory: Callable[..., Any], case: Case) -> float:
    """Mixed error of backward at exactly x = 0 against ``LEFT_SLOPE``; 0 if smooth there."""
    if case.name not in LEFT_SLOPE:
        return 0.0
    layer = build(factory, case)
    layer.forward(np.zeros((2, D)))
    expected = np.broadcast_to(np.asarray(LEFT_SLOPE[case.name](case), dtype=float), (2, D))
    return _mixed_error(layer.backward(np.ones((2, D))), expected)


def dout_change(factory: Callable[..., Any], case: Case) -> float:
    """The largest change a backward makes to the ``dout`` it is given (0: left alone)."""
    layer = build(factory, case)
    layer.forward(GRID)
    dout = np.linspace(-1.0, 1.0, GRID.size).reshape(GRID.shape)
    before = dout.copy()
    layer.backward(dout)
    return float(np.max(np.abs(dout - before)))


Check = Callable[[Callable[..., Any], Case], float]
CHECKS: dict[str, tuple[Check, float]] = {
    "forward_grid": (lambda f, c: forward_error(f, c, GRID), VALUE_TOL),
    "forward_3d": (lambda f, c: forward_error(f, c, CUBE), VALUE_TOL),
    "forward_zeros": (lambda f, c: forward_error(f, c, np.zeros((2, D))), VALUE_TOL),
    "forward_large": (lambda f, c: forward_error(f, c, LARGE), VALUE_TOL),
    "input_grad": (input_grad_error, GRAD_TOL),
    "input_grad_large": (large_grad_error, LARGE_GRAD_TOL),
    "param_grad": (param_grad_error, GRAD_TOL),
    "no_warnings": (warnings_at_large, 0.0),
    "kink": (kink_error, 0.0),
    "dout_unchanged": (dout_change, 0.0),
}
"""Check name -> (error function, tolerance). All but no_warnings run with numpy's floating
point warnings silenced, so they judge the values alone, as a sandboxed grader does."""


def run_check(factory: Callable[..., Any], case: Case, check: str) -> float:
    """The error of one check; numpy's overflow warnings are silenced except in no_warnings."""
    fn, _ = CHECKS[check]
    if check == "no_warnings":
        return fn(factory, case)
    with np.errstate(all="ignore"):
        return fn(factory, case)


def failing_checks(factory: Callable[..., Any], case: Case) -> set[str]:
    """The names of the checks whose error exceeds their tolerance."""
    return {name for name, (_, tol) in CHECKS.items() if not run_check(factory, case, name) <= tol}


# --- the reference passes every check ------------------------------------------------------


@pytest.mark.parametrize("check", list(CHECKS))
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_reference_passes(case: Case, check: str) -> None:
    error = run_check(ACTIVATIONS[case.name], case, check)
    assert error <= CHECKS[check][1], f"{case.id} {check}: error {error:.3g}"


def test_registry_names() -> None:
    assert set(ACTIVATIONS) == {
        "sigmoid",
        "tanh",
        "relu",
        "leaky_relu",
        "prelu",
        "elu",
        "selu",
        "gelu",
        "softplus",
        "swish",
        "silu",
    }
    assert ACTIVATIONS["silu"] is ACTIVATIONS["swish"] is Swish


@pytest.mark.parametrize(
    ("factory", "attribute", "value"),
    [
        (LeakyReLU, "alpha", 0.1),  # the lecture's slope; torch's default is 0.01
        (ELU, "alpha", 1.0),
        (GELU, "approximate", False),
        (Swish, "beta", 1.0),
        (PReLU, "num_parameters", 1),
        (PReLU, "init", 0.25),
        (SELU, "alpha", SELU_ALPHA),
        (SELU, "scale", SELU_LAMBDA),
    ],
)
def test_course_defaults(factory: Callable[..., Any], attribute: str, value: Any) -> None:
    assert getattr(factory(), attribute) == value


@pytest.mark.parametrize(("num_parameters", "init"), [(1, 0.25), (4, 0.1)])
def test_prelu_initial_slopes(num_parameters: int, init: float) -> None:
    layer = PReLU(num_parameters=num_parameters, init=init)
    assert set(layer.params) == {"a"}
    np.testing.assert_array_equal(layer.params["a"], np.full(num_parameters, init))


@pytest.mark.parametrize("case", [c for c in CASES if c.name != "prelu"], ids=lambda c: c.id)
def test_parameter_free_activations_have_empty_dicts(case: Case) -> None:
    layer = build(ACTIVATIONS[case.name], case)
    layer.forward(GRID)
    layer.backward(np.ones_like(GRID))
    assert layer.params == {} and layer.grads == {}


def relu_lecture_example_error(factory: Callable[..., Any]) -> float:
    """The lecture's example: x = [1, -2, 3, -1], upstream [4, -1, -5, 9] -> dx = [4, 0, -5, 0].

    The expected dx is the upstream gradient where x > 0 and 0 elsewhere, computed here.
    """
    x = np.array([1.0, -2.0, 3.0, -1.0])
    dout = np.array([4.0, -1.0, -5.0, 9.0])
    layer = factory()
    layer.forward(x)
    return _mixed_error(layer.backward(dout), np.where(x > 0, dout, 0.0))


def test_relu_lecture_example() -> None:
    assert relu_lecture_example_error(ReLU) == 0.0


def test_relu_lecture_example_detects_gating_on_dout() -> None:
    (mutant,) = [m for m in MUTANTS if m.name == "relu_backward_gates_on_dout"]
    assert relu_lecture_example_error(mutant.factory) > 0.1  # gives [4, 0, 0, 9]


def test_relu_kink_is_not_a_check_point() -> None:
    """At x = 0 a central difference gives (h - 0) / 2h = 0.5, neither side's derivative.

    The course's f'(0) is 0 (mask x > 0), so a check at 0 would fail a correct ReLU: the
    gradient checks above sample |x| >= KINK_MARGIN instead.
    """
    x = np.zeros((1, 3))
    numeric = numeric_gradient_array(ReLU().forward, x, np.ones_like(x))
    np.testing.assert_allclose(numeric, 0.5)
    layer = ReLU()
    layer.forward(x)
    np.testing.assert_array_equal(layer.backward(np.ones_like(x)), 0.0)


@pytest.mark.parametrize(
    ("layer", "expected"),
    [(ReLU(), 0.0), (LeakyReLU(alpha=0.1), 0.1), (PReLU(init=0.25), 0.25), (ELU(alpha=0.5), 0.5)],
    ids=["relu", "leaky_relu", "prelu", "elu"],
)
def test_derivative_at_kink_takes_the_left_branch(layer: Any, expected: float) -> None:
    """The convention at x = 0: the mask is x > 0 everywhere, so f'(0) is the left slope."""
    layer.forward(np.zeros((1, 2)))
    np.testing.assert_array_equal(layer.backward(np.ones((1, 2))), expected)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_inputs_unchanged_and_backward_linear_in_dout(case: Case) -> None:
    rng = np.random.default_rng(2)
    x, d1, d2 = sample(case, rng, (3, D)), upstream(rng, (3, D)), upstream(rng, (3, D))
    x0, d10 = x.copy(), d1.copy()
    layer = build(ACTIVATIONS[case.name], case)
    layer.forward(x)
    g1 = layer.backward(d1)
    g2 = layer.backward(d2)
    g12 = layer.backward(2.0 * d1 - 3.0 * d2)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(d1, d10)
    np.testing.assert_allclose(g12, 2.0 * g1 - 3.0 * g2, rtol=1e-12, atol=1e-12)


def test_sigmoid_backward_uses_the_cached_output() -> None:
    """Backward needs nothing but forward's cache: a later change to x does not matter."""
    x = np.linspace(-2.0, 2.0, D).reshape(1, D)
    layer = Sigmoid()
    s = layer.forward(x)
    x[:] = 100.0
    np.testing.assert_allclose(layer.backward(np.ones((1, D))), s * (1 - s), rtol=1e-15)


def test_backward_before_forward_and_mismatched_shapes_are_errors() -> None:
    with pytest.raises(RuntimeError, match="before forward"):
        ReLU().backward(np.ones(3))
    layer = Sigmoid()
    layer.forward(np.ones((2, 3)))
    with pytest.raises(ValueError, match="shape"):
        layer.backward(np.ones((3, 2)))
    with pytest.raises(ValueError, match="last axis"):
        PReLU(num_parameters=4).forward(np.ones((2, 3)))


# --- every mutant fails the checks the reference passes ------------------------------------

CAUGHT_BY: dict[str, set[str]] = {
    "relu_backward_gates_on_dout": {"input_grad"},
    "relu_kink_one": {"kink"},
    "relu_writes_into_dout": {"dout_unchanged"},
    "leaky_relu_kink_one": {"kink"},
    "sigmoid_backward_from_input": {"input_grad"},
    "sigmoid_overflow": {"forward_large", "no_warnings"},
    "tanh_backward_from_input": {"input_grad"},
    "leaky_relu_torch_slope": {"forward_grid"},
    "prelu_grad_a_mean": {"param_grad"},
    "prelu_grad_a_positive_part": {"param_grad"},
    "elu_derivative_exp_everywhere": {"input_grad", "no_warnings"},
    "elu_derivative_alpha_only": {"input_grad"},
    "selu_swapped_constants": {"forward_grid"},
    "selu_missing_lambda": {"forward_grid"},
    "gelu_sigmoid_approximation": {"forward_grid"},
    "gelu_tanh_when_exact": {"forward_grid"},
    "softplus_overflow": {"forward_large", "no_warnings"},
    "swish_derivative_missing_x_term": {"input_grad"},
}
"""The checks that must catch each mutant (others may catch it too)."""


def test_every_mutant_has_an_expected_catch() -> None:
    assert {m.name for m in MUTANTS} == set(CAUGHT_BY)
    assert all(m.kind == "activations" and m.target in ACTIVATIONS for m in MUTANTS)


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.name)
def test_mutant_is_detected(mutant: Any) -> None:
    failed = failing_checks(mutant.factory, Case(mutant.target))
    assert CAUGHT_BY[mutant.name] <= failed, f"{mutant.name}: only {sorted(failed)} failed"
