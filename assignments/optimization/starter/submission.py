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
        """The state of plain SGD (lecture: "Vanilla Gradient Descent"): what must it
        remember between steps?"""
        raise NotImplementedError("TODO: SGD.init (what does plain SGD remember?)")

    def update(self, param, grad, state):
        """One step w <- w - lr g, lecture "Mini-batch Stochastic GD"; a new array."""
        raise NotImplementedError("TODO: SGD.update")


class Momentum:
    """Lecture: SGD with momentum (the velocity v, friction mu)."""

    def __init__(self, lr=0.01, mu=0.9):
        self.lr = lr
        self.mu = mu

    def init(self, param):
        """The velocity v, lecture "Momentum": what is it before the first step?"""
        raise NotImplementedError("TODO: Momentum.init")

    def update(self, param, grad, state):
        """One step of the lecture's momentum rule (velocity, then weights), lecture
        "Solution: Use Momentum!"; mind the sign of the gradient term."""
        raise NotImplementedError("TODO: Momentum.update")


class Nesterov:
    """Lecture: Nesterov momentum, in the rewritten form (the stored weights are the
    look-ahead point): see the assignment's description."""

    def __init__(self, lr=0.01, mu=0.9):
        self.lr = lr
        self.mu = mu

    def init(self, param):
        """The velocity, as for momentum, lecture "Nesterov Momentum"."""
        raise NotImplementedError("TODO: Nesterov.init")

    def update(self, param, grad, state):
        """One Nesterov step in the rewritten form given in the assignment's description
        (the returned weights are the look-ahead point), lecture "Nesterov Momentum"."""
        raise NotImplementedError("TODO: Nesterov.update")


class Adagrad:
    """Lecture: Adagrad (per-parameter rates from the history of squared gradients)."""

    def __init__(self, lr=0.01, eps=1e-8):
        self.lr = lr
        self.eps = eps

    def init(self, param):
        """The running sum of squared gradients, lecture "Adaptive learning rates"."""
        raise NotImplementedError("TODO: Adagrad.init")

    def update(self, param, grad, state):
        """Accumulate g^2, then scale the step of each entry by its own history,
        lecture "Adaptive learning rates"; eps outside the square root."""
        raise NotImplementedError("TODO: Adagrad.update")


class RMSProp:
    """Lecture: RMSProp (a leaky Adagrad: a moving average with decay rate beta)."""

    def __init__(self, lr=0.01, beta=0.99, eps=1e-8):
        self.lr = lr
        self.beta = beta
        self.eps = eps

    def init(self, param):
        """The moving average s of squared gradients, lecture "Adaptive learning rates:
        RMSProp"."""
        raise NotImplementedError("TODO: RMSProp.init")

    def update(self, param, grad, state):
        """The lecture's two lines: the decayed average s (rate beta), then the step
        scaled by 1 / (sqrt(s) + eps), lecture "Adaptive learning rates: RMSProp"."""
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
        """First and second moments and a step count (a 0-d array), lecture "Adam:
        adaptive learning + momentum"."""
        raise NotImplementedError("TODO: Adam.init (first and second moments, step count)")

    def update(self, param, grad, state):
        """Update both moments, correct their bias toward 0 when ``bias_correction``
        (divide by 1 - beta^t, t counted from 1), then step, lecture "Adam: adaptive
        learning + momentum"."""
        raise NotImplementedError("TODO: Adam.update")


class StepDecay:
    """Lecture: step decay of the learning rate (x gamma every step_size epochs)."""

    def __init__(self, lr0=0.1, gamma=0.1, step_size=30):
        self.lr0 = lr0
        self.gamma = gamma
        self.step_size = step_size

    def __call__(self, step):
        """lr0 times gamma once for every full ``step_size`` steps done (steps from 0),
        lecture "Learning Rate Decay: Step"."""
        raise NotImplementedError("TODO: StepDecay.__call__")


class ExponentialDecay:
    """Lecture: exponential decay of the learning rate."""

    def __init__(self, lr0=0.1, k=0.01):
        self.lr0 = lr0
        self.k = k

    def __call__(self, step):
        """The lecture's exponential decay with eta_0 = lr0, lecture "Learning Rate:
        Online Rate Decay"."""
        raise NotImplementedError("TODO: ExponentialDecay.__call__")


class InverseTimeDecay:
    """Lecture: 1/t decay of the learning rate."""

    def __init__(self, lr0=0.1, k=0.01):
        self.lr0 = lr0
        self.k = k

    def __call__(self, step):
        """The lecture's 1/t decay with eta_0 = lr0, lecture "Learning Rate: Online Rate
        Decay"."""
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
