"""The reference preprocessors against their formulas, and that the same checks catch every mutant.

Every check fits on a training set and transforms both it and a shifted, rescaled test
set, so a transform that recomputes statistics on its input is caught. Expected values
come from the formulas computed here (means by sums, eigenvectors by ``eigh`` rather than
the reference's ``svd``). Each ``check_*`` returns None or a message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from gradekit.components import Preprocessor
from gradekit_reference.mutants.preprocessing import MUTANTS
from gradekit_reference.preprocessing import PCA, Standardize, Whitening, ZeroCenter

REFERENCE: dict[str, Callable[..., Any]] = {
    "zero_center": ZeroCenter,
    "standardize": Standardize,
    "pca": PCA,
    "whitening": Whitening,
}
SCALES = np.array([3.0, 1.5, 0.7, 0.3])
"""Distinct standard deviations along the principal axes: eigenvectors are unique up to sign."""
TOL = 1e-9
"""Float64 round-off of sums and products over a few hundred rows of O(1) numbers."""


def _data(seed: int, degenerate: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Correlated training data ``(400, 4)`` and a test set that is shifted and rescaled.

    With ``degenerate``, a fifth feature repeats the first up to noise of std 1e-3, so the
    covariance has an eigenvalue near 5e-7, below the whitening eps of 1e-5.
    """
    rng = np.random.default_rng(seed)
    mixing = np.linalg.qr(np.random.default_rng(99).normal(size=(4, 4)))[0]
    offset = np.array([1.0, -2.0, 0.5, 3.0])
    train = rng.normal(size=(400, 4)) * SCALES @ mixing.T + offset
    test = 2.0 * rng.normal(size=(150, 4)) * SCALES @ mixing.T + offset + 3.0
    if degenerate:
        train = np.hstack([train, train[:, :1] + 1e-3 * rng.normal(size=(400, 1))])
        test = np.hstack([test, test[:, :1] + 1e-3 * rng.normal(size=(150, 1))])
    return train, test


def _moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and biased covariance by their definitions."""
    n = x.shape[0]
    mean = x.sum(axis=0) / n
    centred = x - mean
    return mean, centred.T @ centred / n


def _eigen(cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (descending) and eigenvectors of a symmetric matrix, by ``eigh``."""
    vals, vecs = np.linalg.eigh(cov)
    return vals[::-1], vecs[:, ::-1]


def _fit_transform(
    factory: Callable[..., Any], kwargs: dict, train: np.ndarray, test: np.ndarray
) -> tuple[Any, np.ndarray, np.ndarray, str | None]:
    """Fit on ``train``, transform both; report modified inputs and a fit that is not self."""
    component = factory(**kwargs)
    tr, te = train.copy(), test.copy()
    fitted = component.fit(tr)
    out_train, out_test = np.asarray(component.transform(tr)), np.asarray(component.transform(te))
    if not (np.array_equal(tr, train) and np.array_equal(te, test)):
        return component, out_train, out_test, "fit or transform modified its input"
    if fitted is not component:
        return component, out_train, out_test, "fit(x) must return self"
    return component, out_train, out_test, None


def _compare(name: str, received: np.ndarray, expected: np.ndarray, tol: float) -> str | None:
    """None if ``received`` matches ``expected`` within ``tol`` times its largest entry."""
    if received.shape != expected.shape:
        return f"{name}: shape {received.shape}, expected {expected.shape}"
    err = np.abs(received - expected)
    bound = tol * max(1.0, float(np.abs(expected).max()))
    if not np.isfinite(received).all() or err.max() > bound:
        i = tuple(int(k) for k in np.unravel_index(np.nanargmax(err), err.shape))
        at = ", ".join(map(str, i))
        return f"{name}[{at}] = {received[i]:.10g}, expected {expected[i]:.10g} (tol {bound:.2g})"
    return None


def _signs(received: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """The column signs that make ``received`` agree with ``expected`` (the SVD's freedom)."""
    signs = np.sign(np.sum(received * expected, axis=0))
    return np.where(signs == 0, 1.0, signs)


def check_unfitted(factory: Callable[..., Any], kwargs: dict, seed: int) -> str | None:
    """transform before fit raises a RuntimeError."""
    try:
        factory(**kwargs).transform(_data(seed)[0])
    except RuntimeError:
        return None
    except Exception as exc:
        return f"transform before fit raised {type(exc).__name__}, expected RuntimeError"
    return "transform before fit did not raise"


def check_zero_center(factory: Callable[..., Any], kwargs: dict, seed: int) -> str | None:
    """Train and test data minus the TRAINING mean."""
    train, test = _data(seed)
    _, out_train, out_test, problem = _fit_transform(factory, kwargs, train, test)
    mean, _ = _moments(train)
    return (
        problem
        or _compare("transform(train)", out_train, train - mean, TOL)
        or _compare("transform(test)", out_test, test - mean, TOL)
    )


def check_standardize(factory: Callable[..., Any], kwargs: dict, seed: int) -> str | None:
    """Train data to mean 0 and std 1; test data scaled with the TRAINING mean and std.

    The course divides by sqrt(var + eps), a relative change of eps / (2 var) from sigma;
    dividing by sigma + eps changes it by eps / sigma. The tolerance eps / min(var, sigma)
    accepts both conventions.
    """
    train, test = _data(seed)
    _, out_train, out_test, problem = _fit_transform(factory, kwargs, train, test)
    if problem:
        return problem
    mean, cov = _moments(train)
    sigma = np.sqrt(np.diag(cov))
    tol = kwargs.get("eps", 1e-8) / min(sigma.min() ** 2, sigma.min()) + TOL
    mean_out, cov_out = _moments(out_train)
    return (
        _compare("mean of transform(train)", mean_out, np.zeros(4), TOL)
        or _compare("std of transform(train)", np.sqrt(np.diag(cov_out)), np.ones(4), tol)
        or _compare("transform(test)", out_test, (test - mean) / sigma, tol)
    )


def check_standardize_constant_feature(
    factory: Callable[..., Any], kwargs: dict, seed: int
) -> str | None:
    """A constant feature maps to 0, not NaN: the eps guard."""
    train, _ = _data(seed)
    train[:, 2] = 0.7
    component = factory(**kwargs).fit(train)
    out = np.asarray(component.transform(train))
    if not np.isfinite(out).all() or np.abs(out[:, 2]).max() > 1e-6:
        return f"a constant feature became {out[:3, 2]}, expected zeros"
    return None


def check_pca(factory: Callable[..., Any], kwargs: dict, seed: int) -> str | None:
    """Projections on the top-k eigenvectors of the centred TRAINING covariance.

    The projected training data has mean 0 and covariance diag(top-k eigenvalues).
    """
    train, test = _data(seed)
    _, out_train, out_test, problem = _fit_transform(factory, kwargs, train, test)
    if problem:
        return problem
    mean, cov = _moments(train)
    vals, vecs = _eigen(cov)
    basis = vecs[:, : kwargs.get("k")]
    expected_train = (train - mean) @ basis
    if out_train.shape != expected_train.shape:
        return f"transform(train) has shape {out_train.shape}, expected {expected_train.shape}"
    signs = _signs(out_train, expected_train)
    top = np.diag(vals[: basis.shape[1]])
    return (
        _compare("transform(train)", out_train * signs, expected_train, TOL)
        or _compare("transform(test)", out_test * signs, (test - mean) @ basis, TOL)
        or _compare("covariance of transform(train)", _moments(out_train)[1], top, TOL)
    )


def check_whitening(factory: Callable[..., Any], kwargs: dict, seed: int) -> str | None:
    """The whitening matrix, read off as ``transform(mean + I)``, against its formula.

    PCA: ``V diag(1 / sqrt(S + eps))`` up to column signs; ZCA: ``V diag(...) V.T``, which
    is symmetric. The whitened training data then has covariance ``diag(S / (S + eps))``
    (PCA) or ``V diag(S / (S + eps)) V.T`` (ZCA) exactly, and the test data goes through the
    same TRAINING matrix.
    """
    eps, zca = kwargs.get("eps", 1e-5), kwargs.get("zca", False)
    train, test = _data(seed, degenerate=kwargs.pop("degenerate", False))
    component, out_train, out_test, problem = _fit_transform(factory, kwargs, train, test)
    if problem:
        return problem
    mean, cov = _moments(train)
    vals, vecs = _eigen(cov)
    d = len(vals)
    expected = vecs / np.sqrt(vals + eps)
    expected_cov = np.diag(vals / (vals + eps))
    if zca:
        expected = expected @ vecs.T
        expected_cov = vecs @ expected_cov @ vecs.T
    received = np.asarray(component.transform(mean + np.eye(d))) - np.asarray(
        component.transform(mean[None, :])
    )
    if received.shape != (d, d):
        return f"transform of {d} samples of width {d} has shape {received.shape}"
    if zca and np.abs(received - received.T).max() > TOL * np.abs(received).max():
        return "the ZCA whitening matrix is not symmetric"
    signs = 1.0 if zca else _signs(received, expected)
    scale = np.abs(expected).max()
    return (
        _compare(
            "whitening matrix / its largest entry", received * signs / scale, expected / scale, TOL
        )
        or _compare("covariance of transform(train)", _moments(out_train)[1], expected_cov, TOL)
        or _compare(
            "transform(test) / largest matrix entry",
            out_test * signs / scale,
            (test - mean) @ expected / scale,
            TOL,
        )
    )


def check_whitening_near_identity(
    factory: Callable[..., Any], kwargs: dict, seed: int
) -> str | None:
    """With eps = 1e-12, the whitened covariance is I to within eps / min(S) + round-off."""
    train, test = _data(seed)
    _, out_train, _, problem = _fit_transform(factory, {**kwargs, "eps": 1e-12}, train, test)
    if problem:
        return problem
    vals, _ = _eigen(_moments(train)[1])
    return _compare("covariance", _moments(out_train)[1], np.eye(4), 1e-12 / vals.min() + TOL)


def check_whitening_rank_deficient(
    factory: Callable[..., Any], kwargs: dict, seed: int
) -> str | None:
    """A duplicated feature (an eigenvalue 0) still gives finite output, thanks to eps."""
    train, test = _data(seed)
    train, test = np.hstack([train, train[:, :1]]), np.hstack([test, test[:, :1]])
    _, out_train, out_test, problem = _fit_transform(factory, kwargs, train, test)
    if problem:
        return problem
    if not (np.isfinite(out_train).all() and np.isfinite(out_test).all()):
        return "whitening data with a zero-variance direction gave inf or NaN"
    return None


# --- the tables ---------------------------------------------------------------------------

SEEDS = (0, 1)
CHECKS: dict[str, list[tuple[Callable[..., str | None], dict]]] = {
    "zero_center": [(check_unfitted, {}), (check_zero_center, {})],
    "standardize": [
        (check_unfitted, {}),
        (check_standardize, {}),
        (check_standardize, {"eps": 1e-6}),
        (check_standardize_constant_feature, {}),
    ],
    "pca": [(check_unfitted, {}), (check_pca, {}), (check_pca, {"k": 2}), (check_pca, {"k": 1})],
    "whitening": [(check_unfitted, {})]
    + [
        (check_whitening, {"zca": zca, "eps": eps, "degenerate": degenerate})
        for zca in (False, True)
        for eps in (1e-5, 1e-2)
        for degenerate in (False, True)
    ]
    + [
        (check_whitening_near_identity, {"zca": False}),
        (check_whitening_near_identity, {"zca": True}),
        (check_whitening_rank_deficient, {"zca": False}),
        (check_whitening_rank_deficient, {"zca": True}),
    ],
}
CASES = [
    (target, check, kwargs, seed)
    for target, checks in CHECKS.items()
    for check, kwargs in checks
    for seed in SEEDS
]


@pytest.mark.parametrize(
    ("target", "check", "kwargs", "seed"),
    CASES,
    ids=[f"{t}-{c.__name__}-{k}-seed{s}" for t, c, k, s in CASES],
)
def test_reference(target: str, check: Callable[..., str | None], kwargs: dict, seed: int) -> None:
    assert check(REFERENCE[target], dict(kwargs), seed) is None


@pytest.mark.parametrize(
    ("target", "defaults", "fitted"),
    [
        ("zero_center", {}, ("mean_",)),
        ("standardize", {"eps": 1e-8}, ("mean_", "std_", "scale_")),
        ("pca", {"k": None}, ("mean_", "U_", "S_", "components_")),
        ("whitening", {"eps": 1e-5, "zca": False}, ("mean_", "U_", "S_", "W_")),
    ],
)
def test_defaults_attributes_and_protocol(target: str, defaults: dict, fitted: tuple) -> None:
    component = REFERENCE[target]()
    assert {k: getattr(component, k) for k in defaults} == defaults
    assert isinstance(component, Preprocessor)
    assert all(getattr(component, name) is None for name in fitted)
    component.fit(_data(0)[0])
    assert all(isinstance(getattr(component, name), np.ndarray) for name in fitted)


def test_standardize_stats_are_the_training_ones() -> None:
    train, _ = _data(3)
    component = Standardize().fit(train)
    mean, cov = _moments(train)
    assert np.allclose(component.mean_, mean, rtol=0, atol=TOL)
    assert np.allclose(component.std_, np.sqrt(np.diag(cov)), rtol=TOL, atol=0)
    assert np.allclose(component.scale_, np.sqrt(np.diag(cov) + 1e-8), rtol=TOL, atol=0)


def test_whitening_matrix_attribute_is_u_diag_ut_for_zca() -> None:
    component = Whitening(zca=True).fit(_data(3)[0])
    u, s = component.U_, component.S_
    assert np.allclose(component.W_, (u / np.sqrt(s + 1e-5)) @ u.T, rtol=0, atol=TOL)
    assert np.allclose(component.W_, component.W_.T, rtol=0, atol=TOL)


def test_transform_checks_the_width() -> None:
    component = ZeroCenter().fit(_data(0)[0])
    with pytest.raises(ValueError, match="shape"):
        component.transform(np.zeros((3, 5)))


# --- mutants ------------------------------------------------------------------------------


def failures(factory: Callable[..., Any], target: str) -> list[str]:
    """Every check of ``target`` applied to ``factory``: the messages of those that fail."""
    results = [check(factory, dict(kw), seed) for check, kw in CHECKS[target] for seed in SEEDS]
    return [r for r in results if r is not None]


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.name)
def test_checks_detect_mutant(mutant: Any) -> None:
    assert mutant.kind == "preprocessors"
    assert failures(mutant.factory, mutant.target), f"{mutant.name} passed every check"
