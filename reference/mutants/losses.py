"""Known-buggy losses: each subclass changes one step of a reference loss, as students do.

``MUTANTS`` lists them with the misconception the grader names when a submission matches.
"""

from __future__ import annotations

import numpy as np

from ..losses import Hinge, SoftmaxCrossEntropy, SquaredError
from . import Mutant


class SquaredErrorGradNoFactor2(SquaredError):
    """Squared error whose gradient drops the factor 2: ``dL/dy = (y - t) / N``."""

    def backward(self, dout: float = 1.0) -> np.ndarray:
        """Return ``dout * (y - t) / N``."""
        return super().backward(dout) / 2.0


class SquaredErrorSummed(SquaredError):
    """Squared error summed over the batch instead of averaged (value and gradient)."""

    def forward(self, y: np.ndarray, t: np.ndarray) -> float:
        """Return ``sum_n ||y_n - t_n||^2``."""
        return super().forward(y, t) * np.shape(y)[0]

    def backward(self, dout: float = 1.0) -> np.ndarray:
        """Return ``dout * 2 (y - t)``."""
        return super().backward(dout) * self._diff.shape[0]


class SoftmaxNoMaxSubtraction(SoftmaxCrossEntropy):
    """Softmax cross-entropy computed as ``log(sum(exp(z)))`` without subtracting the max."""

    def forward(self, y: np.ndarray, t: np.ndarray) -> float:
        """Return the mean cross-entropy with the naive, overflowing softmax."""
        z = np.asarray(y, dtype=np.float64)
        targets = self._targets(z, t)
        e = np.exp(z)
        probs = e / e.sum(axis=1, keepdims=True)
        self._cache = (probs, targets)
        return float(-np.sum(targets * np.log(probs)) / z.shape[0])


class SoftmaxLogOfProbability(SoftmaxCrossEntropy):
    """Softmax cross-entropy that subtracts the max but takes ``log`` of the probability,
    which underflows to ``log(0) = -inf`` for a score far below the row's largest."""

    def forward(self, y: np.ndarray, t: np.ndarray) -> float:
        """Return ``-mean(sum T log(softmax(z - max z)))`` computed from the probabilities."""
        z = np.asarray(y, dtype=np.float64)
        targets = self._targets(z, t)
        e = np.exp(z - z.max(axis=1, keepdims=True))
        probs = e / e.sum(axis=1, keepdims=True)
        self._cache = (probs, targets)
        with np.errstate(divide="ignore", invalid="ignore"):
            return float(-np.sum(targets * np.log(probs)) / z.shape[0])


class CrossEntropySummed(SoftmaxCrossEntropy):
    """Softmax cross-entropy summed over the batch instead of averaged (value and gradient)."""

    def forward(self, y: np.ndarray, t: np.ndarray) -> float:
        """Return ``-sum_n log softmax(z_n)[t_n]``."""
        return super().forward(y, t) * np.shape(y)[0]

    def backward(self, dout: float = 1.0) -> np.ndarray:
        """Return ``dout * (softmax - onehot)``."""
        return super().backward(dout) * self._cache[0].shape[0]


class CrossEntropyGradNotAveraged(SoftmaxCrossEntropy):
    """Softmax cross-entropy averaged in forward but not in backward: ``softmax - onehot``."""

    def backward(self, dout: float = 1.0) -> np.ndarray:
        """Return ``dout * (softmax - onehot)`` without the 1/N."""
        return super().backward(dout) * self._cache[0].shape[0]


class HingeGradWrongSign(Hinge):
    """Hinge whose subgradient has the wrong sign: ``+t / N`` on violated margins."""

    def backward(self, dout: float = 1.0) -> np.ndarray:
        """Return ``dout * t / N`` where ``1 - t z > 0``, else 0."""
        return -super().backward(dout)


class HingeKinkActive(Hinge):
    """Hinge whose subgradient counts the kink ``t z = 1`` as violated: ``1 - t z >= 0``."""

    def forward(self, y: np.ndarray, t: np.ndarray) -> float:
        """Return the hinge loss, caching the mask ``1 - t z >= 0``."""
        loss = super().forward(y, t)
        z, t = np.asarray(y, dtype=np.float64), np.asarray(t, dtype=np.float64)
        self._cache = (1.0 - t * z >= 0, t)
        return loss


MUTANTS: tuple[Mutant, ...] = (
    Mutant(
        "squared_error_grad_no_factor_2",
        "losses",
        "squared_error",
        SquaredErrorGradNoFactor2,
        "The gradient of ||y - t||^2 is taken as (y - t); the lecture's loss has no 1/2 in "
        "front, so dL/dy = 2 (y - t).",
    ),
    Mutant(
        "squared_error_summed",
        "losses",
        "squared_error",
        SquaredErrorSummed,
        "The squared error is summed over the mini-batch; the course averages every loss over "
        "the batch, so the loss and its gradient are N times too large.",
    ),
    Mutant(
        "softmax_log_of_probability",
        "losses",
        "softmax_cross_entropy",
        SoftmaxLogOfProbability,
        "The max is subtracted, but the log is taken of the probability, which underflows to "
        "0 for a score far below the largest: log(0) = -inf, and 0 * -inf = nan in the sum. "
        "Take log softmax directly: z - max z - log(sum(exp(z - max z))).",
        breaks_purpose=True,
    ),
    Mutant(
        "softmax_no_max_subtraction",
        "losses",
        "softmax_cross_entropy",
        SoftmaxNoMaxSubtraction,
        "Softmax computed as exp(z) / sum(exp(z)) without subtracting the largest score first: "
        "large scores overflow to inf and the loss becomes nan.",
        breaks_purpose=True,
    ),
    Mutant(
        "cross_entropy_summed",
        "losses",
        "softmax_cross_entropy",
        CrossEntropySummed,
        "The cross-entropy is summed over the mini-batch; the course averages it over the batch, "
        "so the loss and its gradient are N times too large.",
    ),
    Mutant(
        "cross_entropy_grad_not_averaged",
        "losses",
        "softmax_cross_entropy",
        CrossEntropyGradNotAveraged,
        "The loss is averaged over the batch but its gradient is softmax - onehot without the "
        "1/N, so backward disagrees with forward by a factor N.",
    ),
    Mutant(
        "hinge_grad_wrong_sign",
        "losses",
        "hinge",
        HingeGradWrongSign,
        "The hinge subgradient is taken as +t on violated margins; the derivative of "
        "1 - t z with respect to z is -t.",
    ),
    Mutant(
        "hinge_kink_active",
        "losses",
        "hinge",
        HingeKinkActive,
        "At exactly t z = 1 the contract fixes the hinge's subgradient to 0 (the margin is "
        "violated only where 1 - t z > 0); counting 1 - t z >= 0 gives -t / N at the kink.",
    ),
)
"""Every loss mutant, one misconception each."""
