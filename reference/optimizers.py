"""Reference update rules as pure ``init``/``update`` pairs (optax- and CS231n-style).

``update`` never changes ``param``, ``grad`` or ``state``: it returns a new array and a new
state dict. State values are float64 ndarrays; a step counter is a 0-d float64 array so that
it crosses the grader's float-only boundary unchanged.
"""

from __future__ import annotations

import numpy as np

State = dict[str, np.ndarray]


def _arrays(param: np.ndarray, grad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Read ``param`` and ``grad`` as float64 arrays of one shape (no copy, no mutation)."""
    w = np.asarray(param, dtype=np.float64)
    g = np.asarray(grad, dtype=np.float64)
    if w.shape != g.shape:
        raise ValueError(f"grad has shape {g.shape}, expected the shape of param {w.shape}")
    return w, g


class SGD:
    """(Mini-batch) gradient descent: ``w <- w - lr g``; g is the batch-mean gradient. No state."""

    def __init__(self, lr: float = 0.01) -> None:
        self.lr = lr

    def init(self, param: np.ndarray) -> State:
        """Return the empty state: plain SGD remembers nothing."""
        return {}

    def update(self, param: np.ndarray, grad: np.ndarray, state: State) -> tuple[np.ndarray, State]:
        """Return ``(w - lr g, {})``."""
        w, g = _arrays(param, grad)
        return w - self.lr * g, {}


class Momentum:
    """SGD with momentum, the lecture's and CS231n's form: ``v <- mu v - lr g; w <- w + v``.

    State ``{"v"}``, starting at 0. torch writes ``v <- mu v + g; w <- w - lr v``; with a
    constant lr both give the same weights (``v_lecture = -lr v_torch``), so compare weights.
    """

    def __init__(self, lr: float = 0.01, mu: float = 0.9) -> None:
        self.lr = lr
        self.mu = mu

    def init(self, param: np.ndarray) -> State:
        """Return zero velocity ``{"v": 0}`` of the shape of ``param``."""
        return {"v": np.zeros(np.shape(param), dtype=np.float64)}

    def update(self, param: np.ndarray, grad: np.ndarray, state: State) -> tuple[np.ndarray, State]:
        """Return ``(w + v, {"v": v})`` with ``v = mu v - lr g``."""
        w, g = _arrays(param, grad)
        v = self.mu * state["v"] - self.lr * g
        return w + v, {"v": v}


class Nesterov(Momentum):
    """Nesterov momentum in the rewritten form that needs only the gradient at the stored w.

    The lecture's look-ahead form is ``v <- mu v - lr grad(x + mu v); x <- x + v`` (the
    slide's "grad at w + v" is a typo: the look-ahead point is ``x + mu v``). An
    ``update(param, grad, state)`` API only sees the gradient at the stored weights, so the
    stored weights are the look-ahead point ``w = x + mu v``, as in torch, optax and Keras:
    ``v_prev = v; v = mu v - lr g; w <- w - mu v_prev + (1 + mu) v``. State ``{"v"}``.
    """

    def update(self, param: np.ndarray, grad: np.ndarray, state: State) -> tuple[np.ndarray, State]:
        """Return ``(w - mu v_prev + (1 + mu) v, {"v": v})`` with ``v = mu v_prev - lr g``."""
        w, g = _arrays(param, grad)
        v_prev = state["v"]
        v = self.mu * v_prev - self.lr * g
        return w - self.mu * v_prev + (1.0 + self.mu) * v, {"v": v}


class Adagrad:
    """Adagrad: ``s <- s + g^2; w <- w - lr g / (sqrt(s) + eps)``; state ``{"s"}`` from 0.

    eps = 1e-8 as for RMSProp and Adam in this course (torch uses 1e-10); it only matters
    while ``s`` is tiny. eps is outside the root.
    """

    def __init__(self, lr: float = 0.01, eps: float = 1e-8) -> None:
        self.lr = lr
        self.eps = eps

    def init(self, param: np.ndarray) -> State:
        """Return the zero sum of squared gradients ``{"s": 0}``."""
        return {"s": np.zeros(np.shape(param), dtype=np.float64)}

    def update(self, param: np.ndarray, grad: np.ndarray, state: State) -> tuple[np.ndarray, State]:
        """Accumulate ``s + g^2`` and step ``-lr g / (sqrt(s) + eps)``."""
        w, g = _arrays(param, grad)
        s = state["s"] + g * g
        return w - self.lr * g / (np.sqrt(s) + self.eps), {"s": s}


class RMSProp:
    """RMSProp: ``s <- beta s + (1 - beta) g^2; w <- w - lr g / (sqrt(s) + eps)``; state ``{"s"}``.

    eps is outside the root, as in the lecture, torch and CS231n (optax and Keras put it
    inside: ``sqrt(s + eps)``). beta = 0.99 as in torch and CS231n (0.9 in optax and Keras).
    """

    def __init__(self, lr: float = 0.01, beta: float = 0.99, eps: float = 1e-8) -> None:
        self.lr = lr
        self.beta = beta
        self.eps = eps

    def init(self, param: np.ndarray) -> State:
        """Return the zero running mean of squared gradients ``{"s": 0}``."""
        return {"s": np.zeros(np.shape(param), dtype=np.float64)}

    def update(self, param: np.ndarray, grad: np.ndarray, state: State) -> tuple[np.ndarray, State]:
        """Average ``s`` towards ``g^2`` and step ``-lr g / (sqrt(s) + eps)``."""
        w, g = _arrays(param, grad)
        s = self.beta * state["s"] + (1.0 - self.beta) * g * g
        return w - self.lr * g / (np.sqrt(s) + self.eps), {"s": s}


class Adam:
    """Adam: ``m <- b1 m + (1 - b1) g; v <- b2 v + (1 - b2) g^2``, then with bias correction
    ``w <- w - lr mhat / (sqrt(vhat) + eps)``, ``mhat = m / (1 - b1^t)``, ``vhat = v / (1 - b2^t)``.

    State ``{"m", "v", "t"}``: ``t`` counts the updates done (0 after ``init``), so the first
    update uses t = 1. ``bias_correction=False`` reproduces the lecture's form
    ``w <- w - lr m / (sqrt(v) + eps)``, whose first step is about 3.16 lr instead of about lr
    (m and v start at zero). eps is outside the root, as in the paper, torch and CS231n.
    """

    def __init__(
        self,
        lr: float = 1e-3,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        bias_correction: bool = True,
    ) -> None:
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.bias_correction = bias_correction

    def init(self, param: np.ndarray) -> State:
        """Return zero moments and the step count ``{"m": 0, "v": 0, "t": 0}``."""
        zeros = np.zeros(np.shape(param), dtype=np.float64)
        return {"m": zeros, "v": zeros.copy(), "t": np.array(0.0)}

    def update(self, param: np.ndarray, grad: np.ndarray, state: State) -> tuple[np.ndarray, State]:
        """Increment t, update both moments, and step along the (bias-corrected) ratio."""
        w, g = _arrays(param, grad)
        t = float(state["t"]) + 1.0
        m = self.beta1 * state["m"] + (1.0 - self.beta1) * g
        v = self.beta2 * state["v"] + (1.0 - self.beta2) * g * g
        if self.bias_correction:
            mhat = m / (1.0 - self.beta1**t)
            vhat = v / (1.0 - self.beta2**t)
        else:
            mhat, vhat = m, v
        new_w = w - self.lr * mhat / (np.sqrt(vhat) + self.eps)
        return new_w, {"m": m, "v": v, "t": np.array(t)}
