"""The reference L1/L2 penalties and early stopping, and that the same checks catch every mutant.

Each ``check_*`` returns None when the component behaves as the course specifies, or a
message saying what differs; the reference must pass all of them, and every mutant must
fail at least one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from gradekit.components import EarlyStopping as EarlyStoppingProtocol
from gradekit.components import Penalty
from gradekit.numerics import numeric_gradient, relative_error
from gradekit_reference.mutants.regularizers import MUTANTS
from gradekit_reference.regularizers import L1, L2, EarlyStopping

REFERENCE: dict[str, Callable[..., Any]] = {"l1": L1, "l2": L2, "early_stopping": EarlyStopping}

# The CS231n-style weights: no entry is closer than 0.03 to the kink of |w| at 0.
W = np.linspace(-0.4, 0.6, 20).reshape(4, 5)
LAMS = (1e-3, 0.5)


def _expected_penalty(target: str, lam: float, w: np.ndarray) -> tuple[float, np.ndarray]:
    """The course's penalty and gradient, entry by entry."""
    entries = [float(v) for v in w.ravel()]
    if target == "l2":
        value = lam / 2 * sum(v * v for v in entries)
        grad = [lam * v for v in entries]
    else:
        value = lam * sum(abs(v) for v in entries)
        grad = [lam * ((v > 0) - (v < 0)) for v in entries]
    return value, np.array(grad).reshape(w.shape)


def _worst(err: np.ndarray) -> tuple[int, ...]:
    """The index of the largest error, as plain ints."""
    return tuple(int(k) for k in np.unravel_index(err.argmax(), err.shape))


def check_penalty_value(factory: Callable[..., Any], target: str, lam: float) -> str | None:
    """penalty(w) against ``(lam/2)||w||^2`` (L2) or ``lam ||w||_1`` (L1)."""
    w = W.copy()
    received = factory(lam=lam).penalty(w)
    expected, _ = _expected_penalty(target, lam, W)
    if not np.array_equal(w, W):
        return "penalty(w) modified w"
    if relative_error(received, expected) > 1e-12:
        return f"penalty(w) = {received!r}, expected {expected!r} (lam = {lam})"
    return None


def check_grad_formula(factory: Callable[..., Any], target: str, lam: float) -> str | None:
    """grad(w) against ``lam w`` (L2) or ``lam sign(w)`` (L1)."""
    w = W.copy()
    received = np.asarray(factory(lam=lam).grad(w))
    _, expected = _expected_penalty(target, lam, W)
    if not np.array_equal(w, W):
        return "grad(w) modified w"
    if received.shape != W.shape:
        return f"grad(w) has shape {received.shape}, expected {W.shape}"
    err = relative_error(received, expected)
    if err.max() > 1e-12:
        i = _worst(err)
        return (
            f"grad(w)[{i[0]}, {i[1]}] = {received[i]:.6g}, expected {expected[i]:.6g} (lam = {lam})"
        )
    return None


def check_grad_numeric(factory: Callable[..., Any], target: str, lam: float) -> str | None:
    """grad(w) against central differences of penalty(w), away from 0.

    Both penalties are polynomials of degree <= 2 between kinks, so central differences
    are exact up to round-off, about eps * |penalty| / h / |grad| < 1e-8 relative here.
    """
    component = factory(lam=lam)
    w = W.copy()
    numeric = numeric_gradient(lambda: component.penalty(w), w)
    received = np.asarray(component.grad(W.copy()))
    err = relative_error(received, numeric)
    if err.max() > 1e-6:
        i = _worst(err)
        return f"grad(w)[{i[0]}, {i[1]}] = {received[i]:.6g}, central difference {numeric[i]:.6g}"
    return None


def check_sign_at_zero(factory: Callable[..., Any], target: str, lam: float) -> str | None:
    """The L1 gradient is 0 at w = 0 (sign(0) = 0) and +-lam elsewhere."""
    if target != "l1":
        return None
    w = np.array([-2.0, -1e-300, 0.0, -0.0, 1e-300, 3.0])
    received = np.asarray(factory(lam=lam).grad(w))
    expected = lam * np.array([-1.0, -1.0, 0.0, 0.0, 1.0, 1.0])
    if not np.array_equal(received, expected):
        return f"grad({w.tolist()}) = {received.tolist()}, expected {expected.tolist()}"
    return None


PENALTY_CHECKS = (check_penalty_value, check_grad_formula, check_grad_numeric, check_sign_at_zero)


@pytest.mark.parametrize("lam", LAMS)
@pytest.mark.parametrize("target", ["l1", "l2"])
@pytest.mark.parametrize("check", PENALTY_CHECKS, ids=lambda c: c.__name__)
def test_penalty(check: Callable[..., str | None], target: str, lam: float) -> None:
    assert check(REFERENCE[target], target, lam) is None


@pytest.mark.parametrize("target", ["l1", "l2"])
def test_penalty_defaults_and_protocol(target: str) -> None:
    component = REFERENCE[target]()
    assert component.lam == 1e-3
    assert isinstance(component, Penalty)
    assert isinstance(component.penalty(W), float)


# --- early stopping -----------------------------------------------------------------------


def _v_curve(best: int, epochs: int) -> list[float]:
    """A validation curve decreasing to its minimum at ``best``, then increasing."""
    return [1.0 + 0.1 * (e - best) ** 2 for e in range(epochs)]


# (name, losses, patience, min_delta, best epoch, epoch whose step returns True or None).
# The expected epochs follow from the rule "improve iff loss < best - min_delta; stop
# after patience non-improving epochs": with the minimum at b, the stop is at b + patience.
CURVES = [
    ("v_patience2", _v_curve(3, 12), 2, 0.0, 3, 3 + 2),
    ("v_patience5", _v_curve(4, 15), 5, 0.0, 4, 4 + 5),
    ("patience0", _v_curve(2, 6), 0, 0.0, 2, 2 + 1),
    # After epoch 1 the loss keeps falling by 0.01 < min_delta; the cumulative fall stays
    # above 0.5 - 0.05 until after the stop at 1 + 3.
    ("min_delta", [1.0, 0.5, 0.49, 0.48, 0.47, 0.46, 0.2, 0.1], 3, 0.05, 1, 1 + 3),
    # An improvement inside the patience window restarts the count at epoch 4.
    ("restart", [1.0, 0.9, 0.95, 0.95, 0.8, 0.85, 0.85, 0.85, 0.5], 3, 0.0, 4, 4 + 3),
    # An equal loss is no improvement.
    ("plateau", [1.0, 1.0, 1.0, 1.0], 2, 0.0, 0, 0 + 2),
    ("decreasing", [1.0 / (e + 1) for e in range(10)], 3, 0.0, 9, None),
]


def _train(es: Any, losses: list[float]) -> tuple[int | None, list[dict[str, np.ndarray]]]:
    """Drive ``es`` like a trainer whose updates are in place; return the stop epoch and snapshots.

    The parameters change every epoch by ``w -= 0.1 * dw`` on the same arrays, as in the
    lecture's SGD loop, so only copies keep an earlier epoch's values.
    """
    params = {"W": np.linspace(-0.4, 0.6, 6).reshape(2, 3), "b": np.zeros(3)}
    snapshots = []
    for epoch, loss in enumerate(losses):
        params["W"] -= 0.1 * np.linspace(-0.6, 0.4, 6).reshape(2, 3)
        params["b"] -= 0.1
        snapshots.append({k: v.copy() for k, v in params.items()})
        if es.step(loss, params):
            return epoch, snapshots
    return None, snapshots


def check_early_stopping(factory: Callable[..., Any], case: tuple) -> str | None:
    """Stop epoch, best loss and best parameters on one constructed curve."""
    name, losses, patience, min_delta, best, stop = case
    es = factory(patience=patience, min_delta=min_delta)
    stopped, snapshots = _train(es, losses)
    if stopped != stop:
        return f"{name}: step returned True at epoch {stopped}, expected {stop}"
    if es.best_loss != losses[best]:
        return f"{name}: best_loss = {es.best_loss!r}, expected {losses[best]!r} (epoch {best})"
    if es.best_params is None or set(es.best_params) != set(snapshots[best]):
        return f"{name}: best_params has keys {es.best_params and sorted(es.best_params)}"
    for key, value in snapshots[best].items():
        if not np.array_equal(es.best_params[key], value):
            return f"{name}: best_params[{key!r}] are not the parameters of epoch {best}"
    return None


def check_best_params_are_copies(factory: Callable[..., Any], case: tuple) -> str | None:
    """Changing the arrays passed at the best epoch later leaves best_params unchanged."""
    es = factory(patience=2, min_delta=0.0)
    params = {"W": np.linspace(-0.4, 0.6, 6).reshape(2, 3)}
    es.step(0.5, params)
    params["W"] += 1.0
    params["W"] = params["W"] * 0.0
    if not np.array_equal(es.best_params["W"], np.linspace(-0.4, 0.6, 6).reshape(2, 3)):
        return "best_params changed when the parameter arrays were updated in place"
    return None


EARLY_STOPPING_CHECKS = [(check_early_stopping, case) for case in CURVES] + [
    (check_best_params_are_copies, None)
]


@pytest.mark.parametrize("case", CURVES, ids=[c[0] for c in CURVES])
def test_early_stopping_curve(case: tuple) -> None:
    assert check_early_stopping(EarlyStopping, case) is None


def test_early_stopping_best_params_are_copies() -> None:
    assert check_best_params_are_copies(EarlyStopping, None) is None


@pytest.mark.parametrize("case", CURVES, ids=[c[0] for c in CURVES])
def test_early_stopping_best_epoch_and_wait(case: tuple) -> None:
    _, losses, patience, min_delta, best, _ = case
    es = EarlyStopping(patience=patience, min_delta=min_delta)
    stopped, _ = _train(es, losses)
    assert es.best_epoch == best
    last = len(losses) - 1 if stopped is None else stopped
    assert es.wait == last - best


def test_early_stopping_initial_state_and_protocol() -> None:
    es = EarlyStopping()
    assert (es.patience, es.min_delta) == (5, 0.0)
    assert es.best_loss == np.inf
    assert es.best_params is None
    assert isinstance(es, EarlyStoppingProtocol)


def test_early_stopping_nan_is_not_an_improvement() -> None:
    es = EarlyStopping(patience=1)
    assert es.step(1.0, {"w": np.ones(2)}) is False
    assert es.step(float("nan"), {"w": np.zeros(2)}) is True
    assert es.best_loss == 1.0
    assert np.array_equal(es.best_params["w"], np.ones(2))


# --- mutants ------------------------------------------------------------------------------


def failures(factory: Callable[..., Any], target: str) -> list[str]:
    """Every check of ``target`` applied to ``factory``: the messages of those that fail."""
    if target == "early_stopping":
        results = [check(factory, case) for check, case in EARLY_STOPPING_CHECKS]
    else:
        results = [check(factory, target, lam) for check in PENALTY_CHECKS for lam in LAMS]
    return [r for r in results if r is not None]


@pytest.mark.parametrize("target", sorted(REFERENCE))
def test_reference_passes_every_check(target: str) -> None:
    assert failures(REFERENCE[target], target) == []


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.name)
def test_checks_detect_mutant(mutant: Any) -> None:
    assert mutant.target in REFERENCE
    assert mutant.kind in {"penalties", "early_stopping"}
    assert failures(mutant.factory, mutant.target), f"{mutant.name} passed every check"
