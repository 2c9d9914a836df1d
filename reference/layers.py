"""Reference layers of the lecture: linear, batchnorm, dropout (inverted and vanilla), dropconnect.

Each layer keeps its forward and backward side by side, reads ``params`` on every call (the
grader may overwrite them) and never modifies its inputs.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

WeightInit = Callable[[tuple[int, int], np.random.Generator], np.ndarray]


def _xavier(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """The lecture's Xavier: N(0, 1/fan_in) with ``shape = (fan_in, fan_out)``."""
    return rng.standard_normal(shape) / np.sqrt(shape[0])


def _initial_weights(
    din: int, dout: int, weight_init: WeightInit | None, rng: np.random.Generator
) -> np.ndarray:
    init = weight_init if weight_init is not None else _xavier
    return np.array(init((din, dout), rng), dtype=np.float64)


class Linear:
    """Affine layer in row form: ``y = x @ W + b`` with x (N, Din), W (Din, Dout), b (Dout,).

    Gradients: ``dW = x.T @ dy``, ``db = dy.sum(0)``, ``dx = dy @ W.T`` (summed over the
    batch: averaging belongs to the loss). W is drawn by ``weight_init(shape, rng)`` when
    given, otherwise from the lecture's Xavier N(0, 1/Din); b starts at zero.
    """

    def __init__(
        self,
        din: int,
        dout: int,
        weight_init: WeightInit | None = None,
        rng: np.random.Generator | None = None,
    ) -> None:
        self.din = din
        self.dout = dout
        self.weight_init = weight_init
        self.rng = rng if rng is not None else np.random.default_rng()
        self.params = {
            "W": _initial_weights(din, dout, weight_init, self.rng),
            "b": np.zeros(dout),
        }
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self._x: np.ndarray | None = None

    def forward(self, x: np.ndarray, *, training: bool = True) -> np.ndarray:
        """Return ``x @ W + b`` (the same in training and evaluation)."""
        self._x = np.asarray(x, dtype=np.float64)
        return self._x @ self.params["W"] + self.params["b"]

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Fill ``dW = x.T @ dy`` and ``db = dy.sum(0)``; return ``dx = dy @ W.T``."""
        dy = np.asarray(dout, dtype=np.float64)
        self.grads = {"W": self._x.T @ dy, "b": dy.sum(axis=0)}
        return dy @ self.params["W"].T


class BatchNorm:
    """Batch normalization over the batch axis of x (N, D): ``y = gamma * xhat + beta``.

    Training: ``xhat = (x - mu_B) / sqrt(var_B + eps)`` with the **biased** batch variance
    (divide by N). The running statistics follow torch's direction,
    ``running = (1 - momentum) * running + momentum * batch`` with momentum 0.1 (Keras uses
    0.99 the other way round). Convention: ``running_var`` is updated with the **biased**
    batch variance, as in the lecture's algorithm; torch uses the unbiased one (N - 1), which
    differs by a factor N / (N - 1). Evaluation normalizes with ``running_mean`` and
    ``running_var`` and leaves them unchanged. Backward (training) is the compact form
    ``dx = inv / N * (N dxhat - sum(dxhat) - xhat * sum(dxhat * xhat))``, ``dxhat = dy gamma``.
    """

    def __init__(self, dim: int, eps: float = 1e-5, momentum: float = 0.1) -> None:
        self.dim = dim
        self.eps = eps
        self.momentum = momentum
        self.params = {"gamma": np.ones(dim), "beta": np.zeros(dim)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.running_mean = np.zeros(dim)
        self.running_var = np.ones(dim)
        self._cache: tuple[np.ndarray, np.ndarray, bool] | None = None

    def forward(self, x: np.ndarray, *, training: bool = True) -> np.ndarray:
        """Normalize with the batch statistics (training) or the running ones (evaluation)."""
        x = np.asarray(x, dtype=np.float64)
        if training:
            mean = x.mean(axis=0)
            var = self.batch_variance(x, mean)
            m = self.momentum
            self.running_mean = (1 - m) * self.running_mean + m * mean
            self.running_var = (1 - m) * self.running_var + m * var
        else:
            mean, var = self.running_mean, self.running_var
        inv = 1.0 / np.sqrt(var + self.eps)
        xhat = (x - mean) * inv
        self._cache = (xhat, inv, training)
        return self.params["gamma"] * xhat + self.params["beta"]

    def batch_variance(self, x: np.ndarray, mean: np.ndarray) -> np.ndarray:
        """The biased batch variance, ``mean((x - mean)^2)`` over the batch (divide by N),
        in two passes: no cancellation on inputs with a large offset."""
        return ((x - mean) ** 2).mean(axis=0)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Fill ``dgamma``, ``dbeta``; return dx (through the batch statistics in training)."""
        dy = np.asarray(dout, dtype=np.float64)
        xhat, inv, training = self._cache
        self.grads = {"gamma": (dy * xhat).sum(axis=0), "beta": dy.sum(axis=0)}
        dxhat = dy * self.params["gamma"]
        if not training:
            return dxhat * inv
        n = dy.shape[0]
        return (inv / n) * (n * dxhat - dxhat.sum(axis=0) - xhat * (dxhat * xhat).sum(axis=0))


class Dropout:
    """Inverted dropout: ``mask = (u < p) / p`` at training time, the identity at test time.

    p is the **keep** probability, as in the lecture; torch's p is the drop probability.
    The 1/p rescale keeps ``E[y] = x``, so evaluation needs no scaling. The mask is drawn
    from ``self.rng`` (which the grader may replace) and reused by backward.
    """

    def __init__(self, p: float = 0.5, rng: np.random.Generator | None = None) -> None:
        self.p = p
        self.rng = rng if rng is not None else np.random.default_rng()
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self._mask: np.ndarray | None = None

    def forward(self, x: np.ndarray, *, training: bool = True) -> np.ndarray:
        """Return ``x * mask`` with ``mask = (u < p) / p`` (training) or ``x`` (evaluation)."""
        x = np.asarray(x, dtype=np.float64)
        if training:
            self._mask = (self.rng.random(x.shape) < self.p) / self.p
        else:
            self._mask = np.ones_like(x)
        return x * self._mask

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Return ``dout * mask`` with the mask of the last forward."""
        return np.asarray(dout, dtype=np.float64) * self._mask


class VanillaDropout:
    """Vanilla dropout: ``mask = (u < p)`` at training time, ``y = p * x`` at test time.

    p is the **keep** probability, as in the lecture. Training outputs are not rescaled, so
    evaluation multiplies by p to match the training expectation ``E[y] = p x``.
    """

    def __init__(self, p: float = 0.5, rng: np.random.Generator | None = None) -> None:
        self.p = p
        self.rng = rng if rng is not None else np.random.default_rng()
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self._mask: np.ndarray | None = None

    def forward(self, x: np.ndarray, *, training: bool = True) -> np.ndarray:
        """Return ``x * (u < p)`` (training) or ``p * x`` (evaluation)."""
        x = np.asarray(x, dtype=np.float64)
        if training:
            self._mask = (self.rng.random(x.shape) < self.p).astype(np.float64)
        else:
            self._mask = np.full_like(x, self.p)
        return x * self._mask

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Return ``dout * mask`` (the 0/1 mask in training, p in evaluation)."""
        return np.asarray(dout, dtype=np.float64) * self._mask


class DropConnect(Linear):
    """Linear layer with a Bernoulli(p) mask M on the **weights**: ``y = x @ (W * M) + b``.

    One mask of W's shape (Din, Dout) is drawn per forward pass from ``self.rng`` and shared
    by the batch; p is the keep probability. Gradients: ``dW = (x.T @ dy) * M``,
    ``db = dy.sum(0)``, ``dx = dy @ (W * M).T``. Convention at test time: ``y = x @ (p W) + b``,
    the mean-field scaling by p (the paper's moment-matching inference is not used). W is
    initialized as in :class:`Linear`, from ``weight_init`` or Xavier N(0, 1/Din).
    """

    def __init__(
        self,
        din: int,
        dout: int,
        p: float = 0.5,
        weight_init: WeightInit | None = None,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__(din, dout, weight_init, rng)
        self.p = p
        self._mask: np.ndarray | None = None

    def forward(self, x: np.ndarray, *, training: bool = True) -> np.ndarray:
        """Return ``x @ (W * M) + b`` (training) or ``x @ (p W) + b`` (evaluation)."""
        self._x = np.asarray(x, dtype=np.float64)
        w = self.params["W"]
        if training:
            self._mask = (self.rng.random(w.shape) < self.p).astype(np.float64)
        else:
            self._mask = np.full_like(w, self.p)
        return self._x @ (w * self._mask) + self.params["b"]

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Fill ``dW = (x.T @ dy) * M`` and ``db = dy.sum(0)``; return ``dy @ (W * M).T``."""
        dy = np.asarray(dout, dtype=np.float64)
        self.grads = {"W": (self._x.T @ dy) * self._mask, "b": dy.sum(axis=0)}
        return dy @ (self.params["W"] * self._mask).T
