"""Optimizers as pure init/update pairs, and learning-rate schedules."""

from __future__ import annotations

import math

import numpy as np

from ._base import Stateless


class _Optimizer(Stateless):
    slots: tuple[str, ...] = ()

    def init(self, param):
        return {name: np.zeros(np.shape(param)) for name in self.slots}


class SGD(_Optimizer):
    def __init__(self, lr=0.01):
        super().__init__(lr=lr)

    def update(self, param, grad, state):
        return param - self.lr * grad, dict(state)


class Momentum(_Optimizer):
    """torch's form: the buffer accumulates raw gradients, lr multiplies it."""

    slots = ("buf",)

    def __init__(self, lr=0.01, mu=0.9):
        super().__init__(lr=lr, mu=mu)

    def update(self, param, grad, state):
        buf = self.mu * state["buf"] + grad
        return param - self.lr * buf, {"buf": buf}


class Nesterov(_Optimizer):
    """torch's rewritten form: step along g + mu buf, with buf = mu buf + g."""

    slots = ("buf",)

    def __init__(self, lr=0.01, mu=0.9):
        super().__init__(lr=lr, mu=mu)

    def update(self, param, grad, state):
        buf = self.mu * state["buf"] + grad
        return param - self.lr * (grad + self.mu * buf), {"buf": buf}


class Adagrad(_Optimizer):
    slots = ("G",)

    def __init__(self, lr=0.01, eps=1e-8):
        super().__init__(lr=lr, eps=eps)

    def update(self, param, grad, state):
        G = state["G"] + np.square(grad)
        return param - self.lr * (grad / (np.sqrt(G) + self.eps)), {"G": G}


class RMSProp(_Optimizer):
    slots = ("sq",)

    def __init__(self, lr=0.01, beta=0.99, eps=1e-8):
        super().__init__(lr=lr, beta=beta, eps=eps)

    def update(self, param, grad, state):
        sq = state["sq"] + (1.0 - self.beta) * (np.square(grad) - state["sq"])
        return param - self.lr * grad / (np.sqrt(sq) + self.eps), {"sq": sq}


class Adam(_Optimizer):
    slots = ("m1", "m2")

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, bias_correction=True):
        super().__init__(lr=lr, beta1=beta1, beta2=beta2, eps=eps, bias_correction=bias_correction)

    def init(self, param):
        state = super().init(param)
        state["step"] = np.array(0.0)
        return state

    def update(self, param, grad, state):
        step = state["step"] + 1.0
        m1 = self.beta1 * state["m1"] + (1.0 - self.beta1) * grad
        m2 = self.beta2 * state["m2"] + (1.0 - self.beta2) * grad * grad
        c1 = 1.0 - self.beta1**step if self.bias_correction else 1.0
        c2 = 1.0 - self.beta2**step if self.bias_correction else 1.0
        new = param - self.lr * (m1 / c1) / (np.sqrt(m2 / c2) + self.eps)
        return new, {"m1": m1, "m2": m2, "step": np.asarray(step, dtype=np.float64)}


class StepDecay(Stateless):
    def __init__(self, lr0=0.1, gamma=0.1, step_size=30):
        super().__init__(lr0=lr0, gamma=gamma, step_size=step_size)

    def __call__(self, step):
        return self.lr0 * math.pow(self.gamma, math.floor(step / self.step_size))


class ExponentialDecay(Stateless):
    def __init__(self, lr0=0.1, k=0.01):
        super().__init__(lr0=lr0, k=k)

    def __call__(self, step):
        return self.lr0 / math.exp(self.k * step)


class InverseTimeDecay(Stateless):
    def __init__(self, lr0=0.1, k=0.01):
        super().__init__(lr0=lr0, k=k)

    def __call__(self, step):
        return self.lr0 * (1.0 / (1.0 + self.k * step))
