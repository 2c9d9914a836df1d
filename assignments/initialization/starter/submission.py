"""Weight initialization: the lecture's initializers for a layer ``x @ W + b``.

Each initializer is called as ``init(shape, rng)`` with ``shape = (fan_in, fan_out)``
(Din, Dout) and ``rng`` the grader's ``numpy.random.Generator``. Return a new float64
array of that shape, and draw every random number from ``rng`` (never ``np.random``): the
grader checks the statistics of your weights, not the order of your random calls. Biases
start at 0; that is the layer's job, not the initializer's.

The checks then rerun the lecture's experiment (6 layers, batch 16, tanh or ReLU; 1024
units with the lecture's statistics, not 4096) with your initializers, and train a tiny
network from your constant weights to show the symmetry problem. Run ``pytest`` in this
folder, or ``gradekit list submission.py``. See the contract for every name and constructor.
"""

import numpy as np  # noqa: F401  (you will need it)

import gradekit


class Constant:
    """Lecture: "what if all weights start equal?" -- every weight is ``value``.

    The symmetry problem: every hidden unit then computes the same function.
    """

    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, rng):
        """An array of ``shape`` filled with ``value``, lecture "Weight initialization"."""
        raise NotImplementedError("TODO: Constant")


class Normal:
    """Lecture: small random numbers, a Gaussian with zero mean and standard deviation
    ``std`` (the lecture tries 0.01 and 0.05). Is ``std`` a standard deviation or a variance?
    """

    def __init__(self, std=0.01):
        self.std = std

    def __call__(self, shape, rng):
        """N(0, std^2) weights drawn from ``rng``, lecture "Weight initialization:
        Experiments" (small random numbers)."""
        raise NotImplementedError("TODO: Normal")


class Uniform:
    """Uniform weights on [-limit, limit]."""

    def __init__(self, limit=0.05):
        self.limit = limit

    def __call__(self, shape, rng):
        """U(-limit, limit) weights drawn from ``rng``."""
        raise NotImplementedError("TODO: Uniform")


class Xavier:
    """Lecture: Xavier initialization, a Gaussian whose std keeps Var(x W) = Var(x).

    Which of fan_in and fan_out is the number of inputs of ``x @ W``?
    """

    def __call__(self, shape, rng):
        """Gaussian weights with the lecture's Xavier std, lecture "Xavier initialization"
        (the std that keeps the variance of x @ W equal to that of x)."""
        raise NotImplementedError("TODO: Xavier")


class XavierUniform:
    """Xavier with uniform weights of the same std: U(-a, a) has std a / sqrt(3)."""

    def __call__(self, shape, rng):
        """Uniform weights with Xavier's std, lecture "Xavier initialization": which
        limit a gives U(-a, a) that std?"""
        raise NotImplementedError("TODO: XavierUniform")


class Glorot:
    """Glorot & Bengio (2010): a Gaussian whose variance averages fan_in and fan_out.

    Follow the paper's std; the slide's formula is sqrt(2) too large (see the contract).
    """

    def __call__(self, shape, rng):
        """Gaussian weights with the std of Glorot & Bengio (2010), the average of the
        forward (fan_in) and backward (fan_out) conditions, lecture "Weight initialization"."""
        raise NotImplementedError("TODO: Glorot")


class GlorotUniform:
    """Glorot with uniform weights of the same std (the paper's uniform limit)."""

    def __call__(self, shape, rng):
        """Uniform weights with Glorot's std (the paper's uniform limit)."""
        raise NotImplementedError("TODO: GlorotUniform")


class He:
    """Lecture: He et al. (2015), Xavier corrected for ReLU, which halves the variance."""

    def __call__(self, shape, rng):
        """Gaussian weights with He's std, lecture "ReLU initialization": Xavier's std
        corrected for the half of the inputs ReLU zeroes."""
        raise NotImplementedError("TODO: He")


class HeUniform:
    """He with uniform weights of the same std."""

    def __call__(self, shape, rng):
        """Uniform weights with He's std, lecture "ReLU initialization"."""
        raise NotImplementedError("TODO: HeUniform")


@gradekit.hookimpl
def gradekit_register(registry):
    registry.initializers["constant"] = Constant
    registry.initializers["normal"] = Normal
    registry.initializers["uniform"] = Uniform
    registry.initializers["xavier"] = Xavier
    registry.initializers["xavier_uniform"] = XavierUniform
    registry.initializers["glorot"] = Glorot
    registry.initializers["glorot_uniform"] = GlorotUniform
    registry.initializers["he"] = He
    registry.initializers["he_uniform"] = HeUniform
