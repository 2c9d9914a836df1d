"""Preprocessors; PCA and whitening use the symmetric eigendecomposition (eigh)."""

from __future__ import annotations

import numpy as np


def _centered(x):
    mean = np.mean(x, axis=0)
    return mean, x - mean


def _eig_desc(xc):
    """Eigenvalues (decreasing) and eigenvectors (columns) of Xc^T Xc / N."""
    cov = np.einsum("ni,nj->ij", xc, xc) / xc.shape[0]
    vals, vecs = np.linalg.eigh(cov)
    order = np.argsort(vals)[::-1]
    return np.clip(vals[order], 0.0, None), vecs[:, order]


class ZeroCenter:
    def fit(self, x):
        self.mu, _ = _centered(x)
        return self

    def transform(self, x):
        return np.subtract(x, self.mu)


class Standardize:
    def __init__(self, eps=1e-8):
        self.eps = eps

    def fit(self, x):
        self.mu, xc = _centered(x)
        self.inv_scale = 1.0 / np.sqrt(np.mean(xc**2, axis=0) + self.eps)
        return self

    def transform(self, x):
        return (x - self.mu) * self.inv_scale


class PCA:
    def __init__(self, k=None):
        self.k = k

    def fit(self, x):
        self.mu, xc = _centered(x)
        self.eigenvalues, vecs = _eig_desc(xc)
        self.basis = vecs if self.k is None else vecs[:, : self.k]
        return self

    def transform(self, x):
        return (x - self.mu) @ self.basis


class Whitening:
    def __init__(self, eps=1e-5, zca=False):
        self.eps = eps
        self.zca = zca

    def fit(self, x):
        self.mu, xc = _centered(x)
        vals, vecs = _eig_desc(xc)
        matrix = vecs / np.sqrt(vals + self.eps)
        self.matrix = matrix @ vecs.T if self.zca else matrix
        return self

    def transform(self, x):
        return (x - self.mu) @ self.matrix
