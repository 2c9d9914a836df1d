"""Preprocessing: zero-centering, standardizing, PCA and whitening of data ``(N, D)``.

Statistics are fit on the training set only and reused unchanged on test data; fitting
them on the test set leaks information from it.
"""

from __future__ import annotations

import numpy as np


def _checked(component: object, x: np.ndarray) -> np.ndarray:
    """``x`` as float64, after checking that ``component`` is fit, on samples of this shape."""
    mean = getattr(component, "mean_", None)
    name = type(component).__name__
    if mean is None:
        raise RuntimeError(
            f"{name}.transform called before fit(x): fit the statistics on the training "
            "set first, then transform train and test data with them"
        )
    x = np.asarray(x, dtype=np.float64)
    if x.shape[1:] != mean.shape:
        raise ValueError(f"{name} was fit on samples of shape {mean.shape}, received {x.shape}")
    return x


def _fit_eigen(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, and the SVD ``U, S`` of the covariance ``Xc.T Xc / N`` of the centred data."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"expected data of shape (N, D), received shape {x.shape}")
    mean = x.mean(axis=0)
    centred = x - mean
    cov = centred.T @ centred / x.shape[0]
    u, s, _ = np.linalg.svd(cov)
    return mean, u, s


class ZeroCenter:
    """Zero-centering: ``x - mu``, with ``mu`` the per-feature mean of the training set."""

    def __init__(self) -> None:
        self.mean_: np.ndarray | None = None

    def fit(self, x: np.ndarray) -> ZeroCenter:
        """Store the per-feature training mean ``mean_``; return self."""
        self.mean_ = np.asarray(x, dtype=np.float64).mean(axis=0)
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        """Return ``x - mean_``."""
        x = _checked(self, x)
        return x - self.mean_


class Standardize:
    """Standardizing: ``(x - mu) / sqrt(var + eps)``, statistics of the training set.

    ``var`` is the biased per-feature variance (``np.var``, ddof=0), like sklearn's
    StandardScaler. The course puts eps inside the root (as batchnorm does): for
    ``var >> eps`` this is ``(x - mu) / sigma`` to a relative ``eps / (2 var)``, and a
    constant feature maps to 0 instead of NaN. ``std_`` is sigma itself; ``scale_`` is the
    divisor ``sqrt(var + eps)``.
    """

    def __init__(self, eps: float = 1e-8) -> None:
        self.eps = eps
        self.mean_: np.ndarray | None = None
        self.std_: np.ndarray | None = None
        self.scale_: np.ndarray | None = None

    def fit(self, x: np.ndarray) -> Standardize:
        """Store the training ``mean_``, ``std_`` and ``scale_`` per feature; return self."""
        x = np.asarray(x, dtype=np.float64)
        self.mean_ = x.mean(axis=0)
        var = x.var(axis=0)
        self.std_ = np.sqrt(var)
        self.scale_ = np.sqrt(var + self.eps)
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        """Return ``(x - mean_) / scale_``."""
        x = _checked(self, x)
        return (x - self.mean_) / self.scale_


class PCA:
    """PCA as in the lecture: ``X -= mean; cov = X.T X / N; U, S, _ = svd(cov); X U[:, :k]``.

    ``U_`` holds all eigenvectors of the training covariance (columns, by decreasing
    variance), ``S_`` all its eigenvalues, and ``components_ = U_[:, :k]``; ``k=None``
    keeps all D. The signs of the columns are whatever the SVD returns: compare projections
    up to sign, or compare ``components_ @ components_.T``.
    """

    def __init__(self, k: int | None = None) -> None:
        self.k = k
        self.mean_: np.ndarray | None = None
        self.U_: np.ndarray | None = None
        self.S_: np.ndarray | None = None
        self.components_: np.ndarray | None = None

    def fit(self, x: np.ndarray) -> PCA:
        """Store the training ``mean_``, ``U_``, ``S_`` and ``components_``; return self."""
        self.mean_, self.U_, self.S_ = _fit_eigen(x)
        self.components_ = self.U_[:, : self.k]
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        """Return ``(x - mean_) @ components_``, of shape ``(M, k)``."""
        x = _checked(self, x)
        return (x - self.mean_) @ self.components_


class Whitening:
    """PCA whitening ``Xrot / sqrt(S + eps)``, or ZCA whitening ``(Xrot / sqrt(S + eps)) U.T``.

    With ``Xrot = (x - mean) U`` from the PCA of the training covariance ``Xc.T Xc / N``,
    the whitened training data has covariance ``diag(S / (S + eps))``: the identity up to
    ``eps / S`` per direction; eps (1e-5, the lecture's) keeps near-zero directions finite.
    ``W_`` is the whitening matrix, ``transform(x) = (x - mean_) @ W_``: ``U diag(1 /
    sqrt(S + eps))`` for PCA and the symmetric ``U diag(1 / sqrt(S + eps)) U.T`` for ZCA.
    The lecture's ``svd(X.T X)`` and ``S^-1/2`` are the same up to the factor 1/N in S.
    """

    def __init__(self, eps: float = 1e-5, zca: bool = False) -> None:
        self.eps = eps
        self.zca = zca
        self.mean_: np.ndarray | None = None
        self.U_: np.ndarray | None = None
        self.S_: np.ndarray | None = None
        self.W_: np.ndarray | None = None

    def fit(self, x: np.ndarray) -> Whitening:
        """Store the training ``mean_``, ``U_``, ``S_`` and the matrix ``W_``; return self."""
        self.mean_, self.U_, self.S_ = _fit_eigen(x)
        self.W_ = self.U_ / np.sqrt(self.S_ + self.eps)
        if self.zca:
            self.W_ = self.W_ @ self.U_.T
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        """Return ``(x - mean_) @ W_``."""
        x = _checked(self, x)
        return (x - self.mean_) @ self.W_
