"""Optimization: your update rules and learning-rate schedules.

An optimizer is a pair of pure functions: ``init(param)`` returns the state (a dict of
arrays; a step counter is a 0-d array) and ``update(param, grad, state)`` returns
``(new_param, new_state)``. Never modify ``param``, ``grad`` or ``state``: return new
arrays. A schedule is ``__call__(step) -> lr`` with steps counted from 0.

The grader compares your weights after each step with the reference (not your state),
and trains on a narrow ravine, Rosenbrock's valley and a small MLP. Run ``pytest`` in
this folder, or ``gradekit list submission.py``. See the contract for every name,
constructor and convention, and the assignment's description for the course's choices
(Nesterov's form, eps outside the root, Adam's bias correction).
"""

import numpy as np  # noqa: F401  (you will need it)

import gradekit


class SGD:
    """Lecture: (mini-batch) gradient descent."""

    def __init__(self, lr=0.01):
        self.lr = lr

    def init(self, param):
        raise NotImplementedError("TODO: SGD.init (what does plain SGD remember?)")

    def update(self, param, grad, state):
        raise NotImplementedError("TODO: SGD.update")


class Momentum:
    """Lecture: SGD with momentum (the velocity v, friction mu)."""

    def __init__(self, lr=0.01, mu=0.9):
        self.lr = lr
        self.mu = mu

    def init(self, param):
        raise NotImplementedError("TODO: Momentum.init")

    def update(self, param, grad, state):
        raise NotImplementedError("TODO: Momentum.update")


class Nesterov:
    """Lecture: Nesterov momentum, in the rewritten form (the stored weights are the
    look-ahead point): see the assignment's description."""

    def __init__(self, lr=0.01, mu=0.9):
        self.lr = lr
        self.mu = mu

    def init(self, param):
        raise NotImplementedError("TODO: Nesterov.init")

    def update(self, param, grad, state):
        raise NotImplementedError("TODO: Nesterov.update")


class Adagrad:
    """Lecture: Adagrad (per-parameter rates from the history of squared gradients)."""

    def __init__(self, lr=0.01, eps=1e-8):
        self.lr = lr
        self.eps = eps

    def init(self, param):
        raise NotImplementedError("TODO: Adagrad.init")

    def update(self, param, grad, state):
        raise NotImplementedError("TODO: Adagrad.update")


class RMSProp:
    """Lecture: RMSProp (a leaky Adagrad: a moving average with decay rate beta)."""

    def __init__(self, lr=0.01, beta=0.99, eps=1e-8):
        self.lr = lr
        self.beta = beta
        self.eps = eps

    def init(self, param):
        raise NotImplementedError("TODO: RMSProp.init")

    def update(self, param, grad, state):
        raise NotImplementedError("TODO: RMSProp.update")


class Adam:
    """Lecture: Adam (momentum plus RMSProp), with and without bias correction."""

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, bias_correction=True):
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.bias_correction = bias_correction

    def init(self, param):
        raise NotImplementedError("TODO: Adam.init (first and second moments, step count)")

    def update(self, param, grad, state):
        raise NotImplementedError("TODO: Adam.update")


class StepDecay:
    """Lecture: step decay of the learning rate (x gamma every step_size epochs)."""

    def __init__(self, lr0=0.1, gamma=0.1, step_size=30):
        self.lr0 = lr0
        self.gamma = gamma
        self.step_size = step_size

    def __call__(self, step):
        raise NotImplementedError("TODO: StepDecay.__call__")


class ExponentialDecay:
    """Lecture: exponential decay of the learning rate."""

    def __init__(self, lr0=0.1, k=0.01):
        self.lr0 = lr0
        self.k = k

    def __call__(self, step):
        raise NotImplementedError("TODO: ExponentialDecay.__call__")


class InverseTimeDecay:
    """Lecture: 1/t decay of the learning rate."""

    def __init__(self, lr0=0.1, k=0.01):
        self.lr0 = lr0
        self.k = k

    def __call__(self, step):
        raise NotImplementedError("TODO: InverseTimeDecay.__call__")


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
