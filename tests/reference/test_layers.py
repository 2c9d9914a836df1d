"""The reference layers against central differences, their formulas and their statistics.

Every check is a small function returning an error (or a z-score) so that the same check
shows the reference passing and each layer mutant failing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from gradekit.numerics import numeric_gradient, relative_error
from gradekit_reference.layers import BatchNorm, DropConnect, Dropout, Linear, VanillaDropout
from gradekit_reference.mutants.layers import MUTANTS

GRAD_TOL = 1e-7
"""Largest relative error of an analytic gradient against central differences."""
Z_TOL = 5.0
"""Largest |z-score| of a statistic against its expectation."""
EXACT_TOL = 1e-10
"""Largest relative error of a closed-form value."""

REFERENCE = {
    "linear": Linear,
    "batchnorm": BatchNorm,
    "dropout": Dropout,
    "vanilla_dropout": VanillaDropout,
    "dropconnect": DropConnect,
}


def max_relative_error(received: np.ndarray, expected: np.ndarray) -> float:
    """Entry-wise relative error; entries below 1e-3 of the largest are floored there."""
    scale = max(float(np.max(np.abs(expected), initial=0.0)), 1e-300)
    return float(np.max(relative_error(received, expected, floor=1e-3 * scale), initial=0.0))


def gradient_error(received: np.ndarray, expected: np.ndarray) -> float:
    """Norm-wise ``||a - b|| / (||a|| + ||b||)``: robust to round-off in tiny entries.

    Central differences of a sum of outputs carry an absolute round-off near 1e-10, which
    an entry-wise ratio would blow up wherever an entry of dout happens to be tiny.
    """
    a, b = np.asarray(received, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    if a.shape != b.shape:
        return np.inf
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-300))


# ---------------------------------------------------------------------------- gradients


@dataclass(frozen=True)
class GradCase:
    """A layer (built from a factory), an input batch and an upstream gradient."""

    target: str
    build: Callable[[Callable[..., Any]], Any]
    shape: tuple[int, int]
    training: bool = True
    mask_seed: int | None = None
    """Reset ``layer.rng`` to this seed before every forward: a fixed dropout mask."""
    warmup: int = 0
    """Training batches fed first (batchnorm's running statistics for evaluation)."""


def _batchnorm(factory: Callable[..., Any]) -> Any:
    layer = factory(4)
    layer.params["gamma"] = np.linspace(0.5, 1.5, 4)
    layer.params["beta"] = np.linspace(-0.2, 0.3, 4)
    return layer


GRAD_CASES = {
    "linear": GradCase("linear", lambda f: f(4, 3, rng=np.random.default_rng(1)), (5, 4)),
    "linear_batch_1": GradCase("linear", lambda f: f(4, 3, rng=np.random.default_rng(2)), (1, 4)),
    "batchnorm_train": GradCase("batchnorm", _batchnorm, (6, 4)),
    "batchnorm_eval": GradCase("batchnorm", _batchnorm, (6, 4), training=False, warmup=3),
    "dropout_train": GradCase("dropout", lambda f: f(0.7), (5, 6), mask_seed=3),
    "dropout_eval": GradCase("dropout", lambda f: f(0.7), (5, 6), training=False),
    "vanilla_dropout_train": GradCase("vanilla_dropout", lambda f: f(0.6), (5, 6), mask_seed=4),
    "vanilla_dropout_eval": GradCase("vanilla_dropout", lambda f: f(0.6), (5, 6), training=False),
    "dropconnect_train": GradCase(
        "dropconnect", lambda f: f(4, 3, p=0.6, rng=np.random.default_rng(5)), (5, 4), mask_seed=6
    ),
    "dropconnect_eval": GradCase(
        "dropconnect", lambda f: f(4, 3, p=0.6, rng=np.random.default_rng(5)), (5, 4), False
    ),
}


def gradient_errors(case: GradCase, factory: Callable[..., Any]) -> dict[str, float]:
    """Relative error of ``backward`` against central differences, for x and every param."""
    rng = np.random.default_rng(0)
    layer = case.build(factory)
    for _ in range(case.warmup):
        layer.forward(2.0 * rng.standard_normal(case.shape) + 1.0, training=True)
    x = 2.0 * rng.standard_normal(case.shape) + 0.5
    dout = rng.standard_normal((case.shape[0], layer.forward(x, training=case.training).shape[1]))

    def run(inp: np.ndarray) -> np.ndarray:
        if case.mask_seed is not None:
            layer.rng = np.random.default_rng(case.mask_seed)
        return layer.forward(inp, training=case.training)

    def objective() -> float:
        return float(np.sum(run(x) * dout))

    run(x)
    analytic = {"x": layer.backward(dout)}
    analytic |= {name: np.array(g) for name, g in layer.grads.items()}
    numeric = {"x": numeric_gradient(objective, x, richardson=True)}
    numeric |= {
        name: numeric_gradient(objective, p, richardson=True) for name, p in layer.params.items()
    }
    assert analytic.keys() == numeric.keys(), "grads must have the keys of params"
    return {name: gradient_error(analytic[name], numeric[name]) for name in numeric}


@pytest.mark.parametrize("case", sorted(GRAD_CASES))
def test_gradient_matches_central_differences(case: str) -> None:
    spec = GRAD_CASES[case]
    errors = gradient_errors(spec, REFERENCE[spec.target])
    assert max(errors.values()) <= GRAD_TOL, errors


@pytest.mark.parametrize("case", sorted(GRAD_CASES))
def test_backward_is_linear_in_dout_and_pure(case: str) -> None:
    spec = GRAD_CASES[case]
    rng = np.random.default_rng(7)
    layer = spec.build(REFERENCE[spec.target])
    x = rng.standard_normal(spec.shape)
    x_copy = x.copy()
    layer.rng = np.random.default_rng(1)
    y = layer.forward(x, training=spec.training)
    dout = rng.standard_normal(y.shape)
    dout_copy = dout.copy()
    dx1 = layer.backward(dout)
    g1 = {k: np.array(v) for k, v in layer.grads.items()}
    dx3 = layer.backward(3.0 * dout)
    assert np.array_equal(x, x_copy) and np.array_equal(dout, dout_copy)
    assert max_relative_error(dx3, 3.0 * dx1) <= EXACT_TOL
    for k, g in g1.items():
        assert max_relative_error(layer.grads[k], 3.0 * g) <= EXACT_TOL, k


# -------------------------------------------------------------------------------- linear


def test_linear_forward_and_init() -> None:
    layer = Linear(400, 300, rng=np.random.default_rng(0))
    assert layer.params["W"].shape == (400, 300) and np.array_equal(
        layer.params["b"], np.zeros(300)
    )
    # the lecture's Xavier: std 1/sqrt(din); 120000 draws give the std to about 0.2%
    assert abs(layer.params["W"].std() * np.sqrt(400) - 1.0) < 0.01
    layer = Linear(4, 3, weight_init=lambda shape, rng: np.linspace(-0.4, 0.6, 12).reshape(shape))
    layer.params["b"] = np.linspace(-0.1, 0.1, 3)
    x = np.linspace(-1.0, 1.0, 8).reshape(2, 4)
    expected = [
        [sum(x[n, i] * layer.params["W"][i, j] for i in range(4)) + layer.params["b"][j]
         for j in range(3)]
        for n in range(2)
    ]  # fmt: skip
    assert max_relative_error(layer.forward(x), np.array(expected)) <= EXACT_TOL


def test_linear_batch_size_one_gradients() -> None:
    layer = Linear(4, 3, rng=np.random.default_rng(0))
    x = np.linspace(-1.0, 1.0, 4).reshape(1, 4)
    dy = np.linspace(0.5, -0.5, 3).reshape(1, 3)
    layer.forward(x)
    dx = layer.backward(dy)
    assert dx.shape == (1, 4) and layer.grads["b"].shape == (3,)
    assert max_relative_error(layer.grads["W"], np.outer(x[0], dy[0])) <= EXACT_TOL
    assert max_relative_error(layer.grads["b"], dy[0]) <= EXACT_TOL


# ----------------------------------------------------------------------------- batchnorm


def batchnorm_train_moments_error(factory: Callable[..., Any]) -> float:
    """Largest |mean| or |var - 1| of a training-mode output with gamma = 1, beta = 0."""
    rng = np.random.default_rng(11)
    layer = factory(5)
    x = rng.normal(np.linspace(-3.0, 4.0, 5), np.linspace(0.5, 3.0, 5), size=(8, 5))
    y = layer.forward(x, training=True)
    return float(max(np.max(np.abs(y.mean(0))), np.max(np.abs(y.var(0) - 1.0))))


def batchnorm_running_update_error(factory: Callable[..., Any]) -> float:
    """Relative error of the running statistics after one batch from the initial 0 and 1."""
    x = np.linspace(-1.0, 2.0, 24).reshape(6, 4) ** 2
    layer = factory(4, momentum=0.2)
    layer.forward(x, training=True)
    mean = [sum(x[n, d] for n in range(6)) / 6 for d in range(4)]
    var = [sum((x[n, d] - mean[d]) ** 2 for n in range(6)) / 6 for d in range(4)]  # biased
    expected_mean = 0.8 * 0.0 + 0.2 * np.array(mean)
    expected_var = 0.8 * 1.0 + 0.2 * np.array(var)
    return max(
        max_relative_error(layer.running_mean, expected_mean),
        max_relative_error(layer.running_var, expected_var),
    )


def batchnorm_convergence_error(factory: Callable[..., Any], seed: int) -> float:
    """After 200 batches of N(mu, sigma^2): the running stats' error in units of sigma, sigma^2.

    The running variance averages the biased batch variance, whose expectation is
    ``(B - 1) / B * sigma^2``; the tolerance is a few standard deviations of the average.
    """
    rng = np.random.default_rng(seed)
    mu, sigma, batch = np.linspace(-2.0, 3.0, 6), np.linspace(0.5, 2.0, 6), 128
    layer = factory(6)
    for _ in range(200):
        layer.forward(rng.normal(mu, sigma, size=(batch, 6)), training=True)
    expected_var = (batch - 1) / batch * sigma**2
    return float(
        max(
            np.max(np.abs(layer.running_mean - mu) / sigma),
            np.max(np.abs(layer.running_var / expected_var - 1.0)),
        )
    )


def batchnorm_eval_error(factory: Callable[..., Any]) -> float:
    """Relative error of an evaluation forward against the running-statistics formula."""
    layer = factory(3, eps=1e-3)
    layer.params["gamma"] = np.array([0.5, 1.0, 2.0])
    layer.params["beta"] = np.array([-1.0, 0.0, 1.0])
    layer.running_mean = np.array([0.2, -0.4, 1.0])
    layer.running_var = np.array([0.5, 2.0, 4.0])
    x = np.linspace(-2.0, 2.0, 12).reshape(4, 3)
    expected = [
        [layer.params["gamma"][d] * (x[n, d] - layer.running_mean[d])
         / (layer.running_var[d] + 1e-3) ** 0.5 + layer.params["beta"][d] for d in range(3)]
        for n in range(4)
    ]  # fmt: skip
    before = (layer.running_mean.copy(), layer.running_var.copy())
    y = layer.forward(x, training=False)
    unchanged = np.array_equal(before[0], layer.running_mean) and np.array_equal(
        before[1], layer.running_var
    )
    return max_relative_error(y, np.array(expected)) if unchanged else np.inf


def test_batchnorm_train_output_is_standardized() -> None:
    assert batchnorm_train_moments_error(BatchNorm) <= 1e-3


def test_batchnorm_running_update_direction_and_biased_variance() -> None:
    assert batchnorm_running_update_error(BatchNorm) <= EXACT_TOL


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_batchnorm_running_stats_converge_and_eval_uses_them(seed: int) -> None:
    assert batchnorm_convergence_error(BatchNorm, seed) <= 0.15
    layer = BatchNorm(6)
    rng = np.random.default_rng(seed)
    mu, sigma = np.linspace(-2.0, 3.0, 6), np.linspace(0.5, 2.0, 6)
    for _ in range(200):
        layer.forward(rng.normal(mu, sigma, size=(128, 6)), training=True)
    # fresh data from the same distribution, evaluated with the running statistics
    y = layer.forward(rng.normal(mu, sigma, size=(4000, 6)), training=False)
    assert np.max(np.abs(y.mean(0))) < 0.15 and np.max(np.abs(y.std(0) - 1.0)) < 0.1


def test_batchnorm_eval_uses_running_statistics() -> None:
    assert batchnorm_eval_error(BatchNorm) <= EXACT_TOL


def test_batchnorm_defaults() -> None:
    layer = BatchNorm(3)
    assert (layer.eps, layer.momentum) == (1e-5, 0.1)
    assert np.array_equal(layer.params["gamma"], np.ones(3))
    assert np.array_equal(layer.params["beta"], np.zeros(3))
    assert np.array_equal(layer.running_mean, np.zeros(3))
    assert np.array_equal(layer.running_var, np.ones(3))


# ------------------------------------------------------------------------------- dropout


def keep_fraction_z(factory: Callable[..., Any], p: float, seed: int) -> float:
    """z-score of the fraction of units a training forward keeps, against p."""
    x = 1.0 + np.random.default_rng(seed + 100).random((200, 100))
    y = factory(p, rng=np.random.default_rng(seed)).forward(x, training=True)
    return float((np.mean(y != 0) - p) / np.sqrt(p * (1 - p) / x.size))


def train_eval_expectation_z(factory: Callable[..., Any], p: float, seed: int) -> float:
    """z-score of the mean training output against the (deterministic) evaluation output."""
    x = np.ones((200, 100))
    layer = factory(p, rng=np.random.default_rng(seed))
    y_train = layer.forward(x, training=True)
    y_eval = layer.forward(x, training=False)
    return float((y_train.mean() - y_eval.mean()) / (y_train.std() / np.sqrt(x.size)))


def eval_scale_error(factory: Callable[..., Any], scale: float) -> float:
    """Relative error of an evaluation forward against ``scale * x``."""
    x = np.linspace(-2.0, 3.0, 30).reshape(5, 6)
    return max_relative_error(factory(0.3).forward(x, training=False), scale * x)


@pytest.mark.parametrize("name", ["dropout", "vanilla_dropout"])
@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dropout_keep_fraction_and_expectation(name: str, p: float, seed: int) -> None:
    assert abs(keep_fraction_z(REFERENCE[name], p, seed)) <= Z_TOL
    assert abs(train_eval_expectation_z(REFERENCE[name], p, seed)) <= Z_TOL


@pytest.mark.parametrize(("name", "scale"), [("dropout", 1.0), ("vanilla_dropout", 0.3)])
def test_dropout_eval_is_identity_or_scaled_by_p(name: str, scale: float) -> None:
    assert eval_scale_error(REFERENCE[name], scale) <= EXACT_TOL


@pytest.mark.parametrize(("name", "rescale"), [("dropout", True), ("vanilla_dropout", False)])
def test_dropout_training_output_is_x_times_mask(name: str, rescale: bool) -> None:
    p = 0.4
    x = np.linspace(0.5, 2.0, 60).reshape(6, 10)
    y = REFERENCE[name](p, rng=np.random.default_rng(9)).forward(x, training=True)
    kept = y != 0
    assert np.allclose(y[kept], x[kept] / p if rescale else x[kept], rtol=1e-14, atol=0)


# --------------------------------------------------------------------------- dropconnect


def dropconnect_weight_mask_error(factory: Callable[..., Any]) -> float:
    """Relative error of the output variance against a per-weight Bernoulli(p) mask.

    With W = 1, b = 0 and x = 1, ``y_j = sum_i M_ij`` is Binomial(din, p), of variance
    ``din p (1 - p)``; masking the output unit instead gives ``din^2 p (1 - p)``.
    """
    din, dout, p = 16, 32, 0.7
    layer = factory(din, dout, p=p, rng=np.random.default_rng(21))
    layer.params["W"] = np.ones((din, dout))
    x = np.ones((1, din))
    y = np.concatenate([layer.forward(x, training=True).ravel() for _ in range(200)])
    return float(max(abs(y.var() / (din * p * (1 - p)) - 1.0), abs(y.mean() / (din * p) - 1.0)))


def dropconnect_eval_error(factory: Callable[..., Any]) -> float:
    """Relative error of an evaluation forward against ``x @ (p W) + b``."""
    layer = factory(4, 3, p=0.6, weight_init=lambda s, r: np.linspace(-0.4, 0.6, 12).reshape(s))
    layer.params["b"] = np.linspace(-0.1, 0.1, 3)
    x = np.linspace(-1.0, 1.0, 8).reshape(2, 4)
    expected = x @ (0.6 * np.linspace(-0.4, 0.6, 12).reshape(4, 3)) + layer.params["b"]
    return max_relative_error(layer.forward(x, training=False), expected)


def test_dropconnect_masks_individual_weights() -> None:
    assert dropconnect_weight_mask_error(DropConnect) <= 0.1


def test_dropconnect_training_mask_is_on_w() -> None:
    din, dout, p = 30, 20, 0.3
    layer = DropConnect(din, dout, p=p, rng=np.random.default_rng(8))
    w = layer.params["W"]
    y = layer.forward(np.eye(din), training=True)  # row i is W[i] * M[i] + b
    kept = y != 0
    assert np.array_equal(y[kept], w[kept])
    assert abs((kept.mean() - p) / np.sqrt(p * (1 - p) / kept.size)) <= Z_TOL
    layer.backward(np.ones((din, dout)))  # dW = (x.T @ dy) * M = M
    assert np.array_equal(layer.grads["W"], kept.astype(float))


def test_dropconnect_eval_scales_weights_by_p() -> None:
    assert dropconnect_eval_error(DropConnect) <= EXACT_TOL


# ------------------------------------------------------------------------------- mutants


def batchnorm_trained(factory: Callable[..., Any]) -> Any:
    """A batchnorm of 4 features after one training batch, with gamma and beta set."""
    layer = factory(4)
    layer.forward(np.random.default_rng(12).normal(1.0, 2.0, (8, 4)), training=True)
    layer.params["gamma"] = np.linspace(0.5, 2.0, 4)
    layer.params["beta"] = np.linspace(-1.0, 1.0, 4)
    return layer


def batchnorm_eval_per_example_error(factory: Callable[..., Any]) -> float:
    """Relative error of an example's test-time output alone against its output in a batch."""
    layer = batchnorm_trained(factory)
    x = np.random.default_rng(13).normal(1.0, 2.0, (6, 4))
    alone = layer.forward(x[:1], training=False)
    return max_relative_error(alone, layer.forward(x, training=False)[:1])


def batchnorm_eval_affine_error(factory: Callable[..., Any]) -> float:
    """Relative error of a test-time output against gamma xhat + beta, xhat from the
    running statistics."""
    layer = batchnorm_trained(factory)
    x = np.random.default_rng(14).normal(1.0, 2.0, (6, 4))
    xhat = (x - layer.running_mean) / np.sqrt(layer.running_var + layer.eps)
    expected = layer.params["gamma"] * xhat + layer.params["beta"]
    return max_relative_error(layer.forward(x, training=False), expected)


def batchnorm_offset_error(factory: Callable[..., Any]) -> float:
    """Relative error of a training output at inputs offset by 1e5 against the two-pass
    normalization: one-pass moments cancel there."""
    x = 1e5 + np.random.default_rng(15).standard_normal((8, 3))
    xhat = (x - x.mean(axis=0)) / np.sqrt(((x - x.mean(axis=0)) ** 2).mean(axis=0) + 1e-5)
    return max_relative_error(factory(3).forward(x, training=True), xhat)


def same_mask_share(factory: Callable[..., Any]) -> float:
    """How far the share of units two training forwards mask alike is from 1/2 (p = 0.5,
    1000 units: about 0.016 for fresh masks, 1/2 for a frozen one)."""
    layer = factory(0.5, rng=np.random.default_rng(5))
    x = np.ones((50, 20))
    first, second = (layer.forward(x, training=True) != 0 for _ in range(2))
    return abs(float(np.mean(first == second)) - 0.5)


def shared_mask_fraction(factory: Callable[..., Any]) -> float:
    """The share of examples whose training mask equals the first example's (p = 0.5, 20
    features: 2^-20 for independent masks)."""
    layer = factory(0.5, rng=np.random.default_rng(4))
    masks = layer.forward(np.ones((200, 20)), training=True) != 0
    return float(np.mean(np.all(masks[1:] == masks[0], axis=1)))


CHECKS: dict[str, tuple[Callable[[Callable[..., Any]], float], float]] = {
    "gradient_linear": (
        lambda f: max(gradient_errors(GRAD_CASES["linear"], f).values()),
        GRAD_TOL,
    ),
    "gradient_batchnorm_train": (
        lambda f: max(gradient_errors(GRAD_CASES["batchnorm_train"], f).values()),
        GRAD_TOL,
    ),
    "batchnorm_train_moments": (batchnorm_train_moments_error, 1e-3),
    "batchnorm_eval_per_example": (batchnorm_eval_per_example_error, EXACT_TOL),
    "batchnorm_eval_affine": (batchnorm_eval_affine_error, EXACT_TOL),
    "batchnorm_offset": (batchnorm_offset_error, 1e-9),
    "dropout_fresh_masks": (same_mask_share, 0.1),
    "dropout_eval": (lambda f: eval_scale_error(f, 1.0), EXACT_TOL),
    "dropout_expectation": (lambda f: abs(train_eval_expectation_z(f, 0.8, 0)), Z_TOL),
    "dropout_keep_fraction": (lambda f: abs(keep_fraction_z(f, 0.8, 0)), Z_TOL),
    "dropout_examples_independent": (shared_mask_fraction, 0.05),
    "vanilla_dropout_eval": (lambda f: eval_scale_error(f, 0.3), EXACT_TOL),
    "dropconnect_weight_mask": (dropconnect_weight_mask_error, 0.1),
    "dropconnect_eval": (dropconnect_eval_error, EXACT_TOL),
}
"""Check name -> (error of a factory, tolerance): the reference passes, a mutant fails."""

DETECTED_BY = {
    "linear_bias_grad_mean": "gradient_linear",
    "linear_weight_grad_averaged": "gradient_linear",
    "batchnorm_unbiased_variance": "batchnorm_train_moments",
    "batchnorm_running_stats_in_train": "batchnorm_train_moments",
    "batchnorm_backward_no_stat_paths": "gradient_batchnorm_train",
    "batchnorm_batch_stats_at_test": "batchnorm_eval_per_example",
    "batchnorm_test_no_affine": "batchnorm_eval_affine",
    "batchnorm_variance_by_moments": "batchnorm_offset",
    "dropout_frozen_mask": "dropout_fresh_masks",
    "dropout_active_at_test": "dropout_eval",
    "dropout_no_rescale": "dropout_expectation",
    "dropout_p_is_drop": "dropout_keep_fraction",
    "dropout_one_mask_per_batch": "dropout_examples_independent",
    "vanilla_dropout_no_test_scale": "vanilla_dropout_eval",
    "dropconnect_masks_units": "dropconnect_weight_mask",
    "dropconnect_no_test_scale": "dropconnect_eval",
}
"""Mutant name -> the check that catches it."""


def _target_of(check: str) -> str:
    targets = {m.target for m in MUTANTS if DETECTED_BY[m.name] == check}
    assert len(targets) == 1, f"check {check} serves several targets: {targets}"
    return targets.pop()


def test_every_mutant_has_a_check() -> None:
    names = [m.name for m in MUTANTS]
    assert len(names) == len(set(names))
    assert set(names) == set(DETECTED_BY)
    assert set(DETECTED_BY.values()) == set(CHECKS)
    assert all(m.kind == "layers" and m.target in REFERENCE for m in MUTANTS)


@pytest.mark.parametrize("check", sorted(CHECKS))
def test_reference_passes_mutant_check(check: str) -> None:
    error, tol = CHECKS[check]
    assert error(REFERENCE[_target_of(check)]) <= tol


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.name)
def test_mutant_is_detected(mutant: Any) -> None:
    error, tol = CHECKS[DETECTED_BY[mutant.name]]
    assert not error(mutant.factory) <= tol, f"{mutant.name} passes {DETECTED_BY[mutant.name]}"
