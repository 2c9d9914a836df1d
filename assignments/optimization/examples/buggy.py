"""An optimization submission with five typical bugs, each a misconception the grader names:

- SGD updates the weights in place (``param -= lr * grad``) instead of returning new ones;
- momentum adds the gradient to the velocity (``v = mu v + lr g``): a sign error;
- RMSProp puts eps inside the square root (``sqrt(cache + eps)``);
- Adam never bias-corrects, whatever ``bias_correction`` says (the lecture's form only);
- step decay drops the rate one epoch early (at 29, 59, 89).
"""

import math

import numpy as np

import gradekit


def _f64(a):
    return np.asarray(a, dtype=np.float64)


class SGD:
    """w <- w - lr g."""

    def __init__(self, lr=0.01):
        self.lr = lr

    def init(self, param):
        return {}

    def update(self, param, grad, state):
        param -= self.lr * _f64(grad)  # BUG: modifies the caller's array in place
        return param, {}


class Momentum:
    """v <- mu v - lr g; w <- w + v."""

    def __init__(self, lr=0.01, mu=0.9):
        self.lr = lr
        self.mu = mu

    def init(self, param):
        return {"velocity": np.zeros_like(_f64(param))}

    def update(self, param, grad, state):
        velocity = self.mu * state["velocity"] + self.lr * _f64(grad)  # BUG: sign of lr g
        return _f64(param) + velocity, {"velocity": velocity}


class Nesterov(Momentum):
    """Rewritten look-ahead: v <- mu v - lr g; w <- w + mu v - lr g."""

    def update(self, param, grad, state):
        g = _f64(grad)
        velocity = self.mu * state["velocity"] - self.lr * g
        return _f64(param) + self.mu * velocity - self.lr * g, {"velocity": velocity}


class Adagrad:
    """cache <- cache + g^2; w <- w - lr g / (sqrt(cache) + eps)."""

    def __init__(self, lr=0.01, eps=1e-8):
        self.lr = lr
        self.eps = eps

    def init(self, param):
        return {"cache": np.zeros_like(_f64(param))}

    def update(self, param, grad, state):
        g = _f64(grad)
        cache = state["cache"] + g**2
        return _f64(param) - self.lr * g / (np.sqrt(cache) + self.eps), {"cache": cache}


class RMSProp:
    """cache <- beta cache + (1 - beta) g^2; w <- w - lr g / (sqrt(cache) + eps)."""

    def __init__(self, lr=0.01, beta=0.99, eps=1e-8):
        self.lr = lr
        self.beta = beta
        self.eps = eps

    def init(self, param):
        return {"cache": np.zeros_like(_f64(param))}

    def update(self, param, grad, state):
        g = _f64(grad)
        cache = self.beta * state["cache"] + (1 - self.beta) * g**2
        step = self.lr * g / np.sqrt(cache + self.eps)  # BUG: eps inside the root
        return _f64(param) - step, {"cache": cache}


class Adam:
    """First and second moments, bias-corrected with the step count t (from 1)."""

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, bias_correction=True):
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.bias_correction = bias_correction

    def init(self, param):
        zeros = np.zeros_like(_f64(param))
        return {"m": zeros, "v": zeros.copy(), "step": np.array(0.0)}

    def update(self, param, grad, state):
        g = _f64(grad)
        t = float(state["step"]) + 1
        m = self.beta1 * state["m"] + (1 - self.beta1) * g
        v = self.beta2 * state["v"] + (1 - self.beta2) * g * g
        m_hat, v_hat = m, v  # BUG: no bias correction, even with bias_correction=True
        new = _f64(param) - self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
        return new, {"m": m, "v": v, "step": np.array(t)}


class StepDecay:
    """lr0 gamma^floor(step / step_size)."""

    def __init__(self, lr0=0.1, gamma=0.1, step_size=30):
        self.lr0 = lr0
        self.gamma = gamma
        self.step_size = step_size

    def __call__(self, step):
        return self.lr0 * self.gamma ** ((step + 1) // self.step_size)  # BUG: epochs from 1


class ExponentialDecay:
    """lr0 e^(-k step)."""

    def __init__(self, lr0=0.1, k=0.01):
        self.lr0 = lr0
        self.k = k

    def __call__(self, step):
        return self.lr0 * math.exp(-self.k * step)


class InverseTimeDecay:
    """lr0 / (1 + k step)."""

    def __init__(self, lr0=0.1, k=0.01):
        self.lr0 = lr0
        self.k = k

    def __call__(self, step):
        return self.lr0 / (1 + self.k * step)


@gradekit.hookimpl
def gradekit_register(registry):
    registry.optimizers["sgd"] = SGD
    registry.optimizers["momentum"] = Momentum
    registry.optimizers["nesterov"] = Nesterov
    registry.optimizers["adagrad"] = Adagrad
    registry.optimizers["rmsprop"] = RMSProp
    registry.optimizers["adam"] = Adam
    registry.schedules["step"] = StepDecay
    registry.schedules["exponential"] = ExponentialDecay
    registry.schedules["inverse_time"] = InverseTimeDecay
