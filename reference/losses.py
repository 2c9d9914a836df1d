"""Reference losses of the lecture: squared error, softmax cross-entropy and hinge.

Convention: every loss is **averaged over the batch** (axis 0), so its gradient carries a
factor 1/N; with N = 1 the formulas are the lecture's per-example ones.
"""

from __future__ import annotations

import numpy as np


def _batch_size(y: np.ndarray) -> int:
    if y.ndim == 0 or y.shape[0] == 0:
        raise ValueError(f"expected a non-empty batch along axis 0, got shape {y.shape}")
    return y.shape[0]


class SquaredError:
    """Squared error ``L = (1/N) sum_n ||y_n - t_n||^2``, ``dL/dy = 2 (y - t) / N``.

    With N = 1 this is the lecture's ``||y - t||^2`` (no factor 1/2). A batch is averaged
    over axis 0 and summed over every other axis.
    """

    def __init__(self) -> None:
        self._diff: np.ndarray | None = None

    def forward(self, y: np.ndarray, t: np.ndarray) -> float:
        """Return the batch mean of the squared Euclidean distances ``||y_n - t_n||^2``."""
        y = np.asarray(y, dtype=np.float64)
        self._diff = y - np.asarray(t, dtype=np.float64)
        return float(np.sum(self._diff**2) / _batch_size(y))

    def backward(self, dout: float = 1.0) -> np.ndarray:
        """Return ``dout * 2 (y - t) / N``."""
        return dout * 2.0 * self._diff / self._diff.shape[0]


class SoftmaxCrossEntropy:
    """Softmax cross-entropy of scores z (N, K): ``L = -(1/N) sum_n sum_k T_nk log softmax(z_n)_k``.

    Targets are integer labels (N,) or one-hot / soft labels (N, K). ``log softmax`` uses the
    stable log-sum-exp (the row maximum is subtracted first), so scores of 1e4 stay finite.
    Gradient: ``dL/dz = (softmax(z) - T) / N`` for targets whose rows sum to 1 (in general
    ``(softmax(z) * sum_k T_nk - T) / N``).
    """

    def __init__(self) -> None:
        self._cache: tuple[np.ndarray, np.ndarray] | None = None

    @staticmethod
    def _targets(z: np.ndarray, t: np.ndarray) -> np.ndarray:
        """The targets as an (N, K) array: one-hot rows for integer labels."""
        t = np.asarray(t)
        if t.shape == z.shape:
            return t.astype(np.float64)
        if t.shape != z.shape[:1]:
            raise ValueError(f"targets of shape {t.shape} do not fit scores of shape {z.shape}")
        labels = t.astype(np.int64)
        if np.any(labels != t) or np.any(labels < 0) or np.any(labels >= z.shape[1]):
            raise ValueError(f"labels must be integers in [0, {z.shape[1]})")
        onehot = np.zeros_like(z)
        onehot[np.arange(z.shape[0]), labels] = 1.0
        return onehot

    def forward(self, y: np.ndarray, t: np.ndarray) -> float:
        """Return the batch mean of ``-sum_k T_k log softmax(z)_k``, via log-sum-exp."""
        z = np.asarray(y, dtype=np.float64)
        if z.ndim != 2:
            raise ValueError(f"expected scores of shape (N, K), got {z.shape}")
        n = _batch_size(z)
        targets = self._targets(z, t)
        shifted = z - z.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        self._cache = (np.exp(log_probs), targets)
        return float(-np.sum(targets * log_probs) / n)

    def backward(self, dout: float = 1.0) -> np.ndarray:
        """Return ``dout * (softmax(z) * sum_k T_k - T) / N`` (``softmax - onehot`` over N)."""
        probs, targets = self._cache
        mass = targets.sum(axis=1, keepdims=True)
        return dout * (probs * mass - targets) / probs.shape[0]


class Hinge:
    """Soft-margin hinge ``L = (1/N) sum_n max(0, 1 - t_n z_n)`` with t in {-1, +1}.

    Scores z and targets t have the same shape, (N,) or (N, 1). The subgradient is
    ``-t / N`` where the margin is violated (``1 - t z > 0``) and 0 elsewhere, including
    at the kink ``t z = 1``.
    """

    def __init__(self) -> None:
        self._cache: tuple[np.ndarray, np.ndarray] | None = None

    def forward(self, y: np.ndarray, t: np.ndarray) -> float:
        """Return the batch mean of ``max(0, 1 - t z)``."""
        z = np.asarray(y, dtype=np.float64)
        t = np.asarray(t, dtype=np.float64)
        if t.shape != z.shape:
            raise ValueError(f"targets of shape {t.shape} do not match scores of shape {z.shape}")
        margin = 1.0 - t * z
        self._cache = (margin > 0, t)
        return float(np.sum(np.maximum(0.0, margin)) / _batch_size(z))

    def backward(self, dout: float = 1.0) -> np.ndarray:
        """Return ``dout * (-t / N)`` where ``1 - t z > 0``, else 0."""
        active, t = self._cache
        return dout * np.where(active, -t, 0.0) / t.shape[0]
