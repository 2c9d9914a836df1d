"""Known-buggy layers: each subclass changes one step of a reference layer, as students do.

``MUTANTS`` lists them with the misconception the grader names when a submission matches.
"""

from __future__ import annotations

import numpy as np

from ..layers import BatchNorm, DropConnect, Dropout, Linear, VanillaDropout
from . import Mutant


class LinearBiasGradMean(Linear):
    """Linear whose bias gradient is the batch mean of dy instead of its sum."""

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Like Linear, but ``db = dy.mean(0)``."""
        dx = super().backward(dout)
        self.grads["b"] = np.asarray(dout, dtype=np.float64).mean(axis=0)
        return dx


class LinearWeightGradAveraged(Linear):
    """Linear whose weight gradient divides by the batch size: ``dW = x.T @ dy / N``."""

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Like Linear, but ``dW = x.T @ dy / N``."""
        dx = super().backward(dout)
        self.grads["W"] = self.grads["W"] / np.shape(dout)[0]
        return dx


class BatchNormUnbiasedVariance(BatchNorm):
    """BatchNorm that normalizes with the unbiased batch variance (divide by N - 1)."""

    def batch_variance(self, x: np.ndarray, mean: np.ndarray) -> np.ndarray:
        """``x.var(0, ddof=1)``."""
        return x.var(axis=0, ddof=1)


class BatchNormVarianceByMoments(BatchNorm):
    """BatchNorm whose batch variance is ``E[x^2] - E[x]^2``: one pass, and cancellation."""

    def batch_variance(self, x: np.ndarray, mean: np.ndarray) -> np.ndarray:
        """``mean(x^2) - mean(x)^2``, floored at 0."""
        return np.maximum((x * x).mean(axis=0) - mean * mean, 0.0)


class BatchNormRunningStatsInTrain(BatchNorm):
    """BatchNorm that normalizes with the running statistics in training mode too."""

    def forward(self, x: np.ndarray, *, training: bool = True) -> np.ndarray:
        """Update the running statistics, then normalize with them as in evaluation."""
        x = np.asarray(x, dtype=np.float64)
        if training:
            m = self.momentum
            self.running_mean = (1 - m) * self.running_mean + m * x.mean(axis=0)
            self.running_var = (1 - m) * self.running_var + m * x.var(axis=0)
        return super().forward(x, training=False)


class BatchNormBackwardNoStatPaths(BatchNorm):
    """BatchNorm whose backward ignores the mean and variance paths: ``dx = dy gamma inv``."""

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Fill the parameter gradients; return ``dy * gamma * inv`` as if mu, var were fixed."""
        super().backward(dout)
        _, inv, _ = self._cache
        return np.asarray(dout, dtype=np.float64) * self.params["gamma"] * inv


class BatchNormBatchStatsAtTest(BatchNorm):
    """BatchNorm that normalizes with the batch's own statistics at test time too."""

    def forward(self, x: np.ndarray, *, training: bool = True) -> np.ndarray:
        """Like BatchNorm in training; at test time ``xhat`` from the test batch's own mean
        and biased variance (the running statistics are left alone, and unused)."""
        if training:
            return super().forward(x, training=True)
        x = np.asarray(x, dtype=np.float64)
        inv = 1.0 / np.sqrt(x.var(axis=0) + self.eps)
        xhat = (x - x.mean(axis=0)) * inv
        self._cache = (xhat, inv, True)
        return self.params["gamma"] * xhat + self.params["beta"]


class BatchNormTestNoAffine(BatchNorm):
    """BatchNorm whose test-time forward returns ``xhat``, leaving out gamma and beta."""

    def forward(self, x: np.ndarray, *, training: bool = True) -> np.ndarray:
        """Like BatchNorm, but ``xhat`` (from the running statistics) at test time."""
        y = super().forward(x, training=training)
        return y if training else self._cache[0]


class DropoutFrozenMask(Dropout):
    """Inverted dropout that draws its mask once, at the first training forward, and reuses it."""

    def __init__(self, p: float = 0.5, rng: np.random.Generator | None = None) -> None:
        super().__init__(p, rng)
        self._frozen: np.ndarray | None = None

    def forward(self, x: np.ndarray, *, training: bool = True) -> np.ndarray:
        """Return ``x * mask`` with the first training forward's ``(u < p) / p`` (training)
        or ``x`` (evaluation); a new shape draws a new mask."""
        x = np.asarray(x, dtype=np.float64)
        if training and (self._frozen is None or self._frozen.shape != x.shape):
            self._frozen = (self.rng.random(x.shape) < self.p) / self.p
        self._mask = self._frozen if training else np.ones_like(x)
        return x * self._mask


class DropoutActiveAtTest(Dropout):
    """Inverted dropout that ignores ``training``: it drops units at test time too."""

    def forward(self, x: np.ndarray, *, training: bool = True) -> np.ndarray:
        """Return ``x * (u < p) / p`` in training and evaluation alike."""
        return super().forward(x, training=True)


class DropoutNoRescale(Dropout):
    """Inverted dropout that forgets the 1/p rescale: ``mask = (u < p)``, identity at test."""

    def forward(self, x: np.ndarray, *, training: bool = True) -> np.ndarray:
        """Return ``x * (u < p)`` (training) or ``x`` (evaluation)."""
        x = np.asarray(x, dtype=np.float64)
        if training:
            self._mask = (self.rng.random(x.shape) < self.p).astype(np.float64)
        else:
            self._mask = np.ones_like(x)
        return x * self._mask


class DropoutOneMaskPerBatch(Dropout):
    """Inverted dropout drawing one mask of features for the whole batch."""

    def forward(self, x: np.ndarray, *, training: bool = True) -> np.ndarray:
        """Return ``x * mask`` with one ``(u < p) / p`` row shared by every example."""
        x = np.asarray(x, dtype=np.float64)
        if training:
            row = (self.rng.random(x.shape[1:]) < self.p) / self.p
            self._mask = np.broadcast_to(row, x.shape).copy()
        else:
            self._mask = np.ones_like(x)
        return x * self._mask


class DropoutPIsDrop(Dropout):
    """Inverted dropout that reads p as the drop probability, as torch does."""

    def forward(self, x: np.ndarray, *, training: bool = True) -> np.ndarray:
        """Return ``x * mask`` with ``mask = (u < 1 - p) / (1 - p)`` in training."""
        x = np.asarray(x, dtype=np.float64)
        keep = 1.0 - self.p
        self._mask = (self.rng.random(x.shape) < keep) / keep if training else np.ones_like(x)
        return x * self._mask


class VanillaDropoutNoTestScale(VanillaDropout):
    """Vanilla dropout that forgets to scale by p at test time."""

    def forward(self, x: np.ndarray, *, training: bool = True) -> np.ndarray:
        """Return ``x * (u < p)`` (training) or ``x`` unscaled (evaluation)."""
        if training:
            return super().forward(x, training=True)
        x = np.asarray(x, dtype=np.float64)
        self._mask = np.ones_like(x)
        return x * self._mask


class DropConnectMasksUnits(DropConnect):
    """DropConnect that drops output units (dropout after the product) instead of weights."""

    def forward(self, x: np.ndarray, *, training: bool = True) -> np.ndarray:
        """Return ``(x @ W) * m + b`` with a unit mask m of shape (N, Dout) in training."""
        self._x = np.asarray(x, dtype=np.float64)
        h = self._x @ self.params["W"]
        if training:
            self._mask = (self.rng.random(h.shape) < self.p).astype(np.float64)
        else:
            self._mask = np.full_like(h, self.p)
        return h * self._mask + self.params["b"]

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Backpropagate through the unit mask: ``dW = x.T @ (dy * m)``."""
        dy = np.asarray(dout, dtype=np.float64)
        dh = dy * self._mask
        self.grads = {"W": self._x.T @ dh, "b": dy.sum(axis=0)}
        return dh @ self.params["W"].T


class DropConnectNoTestScale(DropConnect):
    """DropConnect that uses the full weights W at test time instead of p W."""

    def forward(self, x: np.ndarray, *, training: bool = True) -> np.ndarray:
        """Like DropConnect in training; ``x @ W + b`` in evaluation."""
        if training:
            return super().forward(x, training=True)
        self._x = np.asarray(x, dtype=np.float64)
        self._mask = np.ones_like(self.params["W"])
        return self._x @ self.params["W"] + self.params["b"]


MUTANTS: tuple[Mutant, ...] = (
    Mutant(
        "dropout_one_mask_per_batch",
        "layers",
        "dropout",
        DropoutOneMaskPerBatch,
        "Dropout draws a fresh mask for every example: one mask shared by the whole batch "
        "drops the same units for all of them, so the batch sees a single thinned network.",
    ),
    Mutant(
        "linear_bias_grad_mean",
        "layers",
        "linear",
        LinearBiasGradMean,
        "The bias gradient averages dy over the batch (db = mean(dy)) although b is added to "
        "every example, so db is the sum over the batch (the loss already did the averaging).",
    ),
    Mutant(
        "linear_weight_grad_averaged",
        "layers",
        "linear",
        LinearWeightGradAveraged,
        "The weight gradient is divided by the batch size (dW = x^T dy / N), averaging twice: "
        "the loss's gradient already carries the 1/N, so dW = x^T dy.",
    ),
    Mutant(
        "batchnorm_unbiased_variance",
        "layers",
        "batchnorm",
        BatchNormUnbiasedVariance,
        "Batchnorm normalizes with the unbiased batch variance (divide by N - 1); the lecture's "
        "algorithm uses the biased one (divide by N), so xhat has variance (N - 1)/N, not 1.",
        breaks_purpose=True,
    ),
    Mutant(
        "batchnorm_variance_by_moments",
        "layers",
        "batchnorm",
        BatchNormVarianceByMoments,
        "The batch variance computed as E[x^2] - E[x]^2 in one pass: on inputs with a large "
        "offset the two terms nearly cancel and the difference keeps only the rounding "
        "error; compute mean((x - mean)^2), two passes, as np.var does.",
    ),
    Mutant(
        "batchnorm_running_stats_in_train",
        "layers",
        "batchnorm",
        BatchNormRunningStatsInTrain,
        "Batchnorm normalizes with the running averages during training; training must use "
        "the mini-batch mean and variance, and the running ones only at test time.",
    ),
    Mutant(
        "batchnorm_backward_no_stat_paths",
        "layers",
        "batchnorm",
        BatchNormBackwardNoStatPaths,
        "Batchnorm's backward treats the batch mean and variance as constants "
        "(dx = dy gamma / sqrt(var + eps)); they depend on x, so dx needs the compact formula "
        "with the sum(dxhat) and xhat sum(dxhat xhat) terms.",
    ),
    Mutant(
        "batchnorm_batch_stats_at_test",
        "layers",
        "batchnorm",
        BatchNormBatchStatsAtTest,
        "Batchnorm at test time normalizes with the test batch's own mean and variance; it "
        "must use the running averages collected in training, so that a test example's output "
        "does not depend on the other examples in its batch (or fail for a batch of one).",
        breaks_purpose=True,
    ),
    Mutant(
        "batchnorm_test_no_affine",
        "layers",
        "batchnorm",
        BatchNormTestNoAffine,
        "Batchnorm's test-time output leaves out the learned scale and shift: test time is "
        "gamma * xhat + beta as in training, with xhat from the running statistics.",
    ),
    Mutant(
        "dropout_frozen_mask",
        "layers",
        "dropout",
        DropoutFrozenMask,
        "Dropout draws a new random mask at every forward pass, so each training step trains "
        "another thinned network; a mask drawn once and reused drops the same units forever, "
        "which only shrinks the network and does not regularize it.",
        breaks_purpose=True,
    ),
    Mutant(
        "dropout_active_at_test",
        "layers",
        "dropout",
        DropoutActiveAtTest,
        "Dropout is switched off at test time: inverted dropout is the identity there (the 1/p "
        "rescale in training already keeps the expectation); dropping units at test time "
        "makes every prediction random.",
        breaks_purpose=True,
    ),
    Mutant(
        "dropout_no_rescale",
        "layers",
        "dropout",
        DropoutNoRescale,
        "Inverted dropout without dividing the mask by p: the training output shrinks to p "
        "times its expectation while test time uses no scaling.",
    ),
    Mutant(
        "dropout_p_is_drop",
        "layers",
        "dropout",
        DropoutPIsDrop,
        "Dropout reads p as the probability of dropping a unit (torch's convention); in the "
        "lecture p is the probability of keeping it.",
    ),
    Mutant(
        "vanilla_dropout_no_test_scale",
        "layers",
        "vanilla_dropout",
        VanillaDropoutNoTestScale,
        "Vanilla dropout without scaling by p at test time: test activations are 1/p times "
        "larger than their training expectation.",
        breaks_purpose=True,
    ),
    Mutant(
        "dropconnect_masks_units",
        "layers",
        "dropconnect",
        DropConnectMasksUnits,
        "DropConnect drops output units like dropout; it must drop individual weights, with a "
        "Bernoulli mask of W's shape.",
    ),
    Mutant(
        "dropconnect_no_test_scale",
        "layers",
        "dropconnect",
        DropConnectNoTestScale,
        "DropConnect uses the full weights at test time; each weight is kept with "
        "probability p during training, so test time must use p W.",
        breaks_purpose=True,
    ),
)
"""Every layer mutant, one misconception each."""
