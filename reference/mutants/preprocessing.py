"""Known-buggy preprocessors, each naming the student's misconception."""

from __future__ import annotations

import numpy as np

from gradekit_reference.preprocessing import PCA, Standardize, Whitening

from . import Mutant


class StandardizeRefitsOnTransform(Standardize):
    """Standardize whose transform recomputes mean and std from the data it is given."""

    def transform(self, x: np.ndarray) -> np.ndarray:
        """Standardize ``x`` with its own statistics (a test-set leak)."""
        super().transform(x)
        x = np.asarray(x, dtype=np.float64)
        return (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + self.eps)


class StandardizeByVariance(Standardize):
    """Standardize that divides by the variance instead of the standard deviation."""

    def fit(self, x: np.ndarray) -> StandardizeByVariance:
        """Fit, then use ``var + eps`` as the divisor (wrong)."""
        super().fit(x)
        self.scale_ = self.scale_**2
        return self


class PCAUncentred(PCA):
    """PCA of ``X.T X / N`` on the raw data, projecting the raw data."""

    def fit(self, x: np.ndarray) -> PCAUncentred:
        """Take the SVD of the uncentred second moment (wrong)."""
        x = np.asarray(x, dtype=np.float64)
        self.mean_ = np.zeros(x.shape[1])
        self.U_, self.S_, _ = np.linalg.svd(x.T @ x / x.shape[0])
        self.components_ = self.U_[:, : self.k]
        return self


class WhiteningNoEps(Whitening):
    """Whitening that divides by ``sqrt(S)``, ignoring eps."""

    def fit(self, x: np.ndarray) -> WhiteningNoEps:
        """Build ``W_`` with eps = 0 (wrong)."""
        super().fit(x)
        with np.errstate(divide="ignore"):
            self.W_ = self.U_ / np.sqrt(self.S_)
        if self.zca:
            self.W_ = self.W_ @ self.U_.T
        return self


class WhiteningDividesByS(Whitening):
    """Whitening that divides the rotated data by ``S + eps`` instead of its square root."""

    def fit(self, x: np.ndarray) -> WhiteningDividesByS:
        """Build ``W_`` from ``1 / (S + eps)`` (wrong)."""
        super().fit(x)
        self.W_ = self.U_ / (self.S_ + self.eps)
        if self.zca:
            self.W_ = self.W_ @ self.U_.T
        return self


MUTANTS: tuple[Mutant, ...] = (
    Mutant(
        "standardize_refits_on_transform",
        "preprocessors",
        "standardize",
        StandardizeRefitsOnTransform,
        "Standardizing the test set with its own mean and std: the statistics must come from "
        "the training set only and be reused at test time, or test information leaks in.",
    ),
    Mutant(
        "standardize_by_variance",
        "preprocessors",
        "standardize",
        StandardizeByVariance,
        "Scaling by the variance instead of the standard deviation: (x - mu) / sigma has "
        "unit variance, (x - mu) / sigma^2 does not.",
    ),
    Mutant(
        "pca_uncentred",
        "preprocessors",
        "pca",
        PCAUncentred,
        "PCA without zero-centering: X -= mean comes first, otherwise the first component "
        "points at the mean instead of the direction of largest variance.",
    ),
    Mutant(
        "whitening_no_eps",
        "preprocessors",
        "whitening",
        WhiteningNoEps,
        "Whitening without eps: Xrot / sqrt(S + eps) needs eps, or directions with (near) "
        "zero variance blow up to inf or huge noise.",
    ),
    Mutant(
        "whitening_divides_by_s",
        "preprocessors",
        "whitening",
        WhiteningDividesByS,
        "Whitening by S instead of sqrt(S): S holds variances, so dividing the rotated data "
        "by sqrt(S) gives unit variance; dividing by S gives variance 1 / S.",
    ),
)
