"""An initialization submission with five typical bugs, each a misconception the grader names:

- the small Gaussian passes the variance std**2 where numpy wants the standard deviation;
- Xavier divides by sqrt(fan_out) instead of sqrt(fan_in);
- Glorot uses the slide's 2 / sqrt(fan_in + fan_out);
- He forgets the factor 2 (it is the lecture's Xavier);
- He uniform uses the normal std sqrt(2 / fan_in) as its limit.
"""

import math

import numpy as np

import gradekit


class Constant:
    """Every weight equal to ``value``: the symmetry problem."""

    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, rng):
        return np.full(shape, float(self.value))


class _Gaussian:
    """N(0, s^2) with s = ``self.scale(fan_in, fan_out)``."""

    def scale(self, fan_in, fan_out):
        raise NotImplementedError

    def __call__(self, shape, rng):
        fan_in, fan_out = shape
        return rng.normal(0.0, self.scale(fan_in, fan_out), size=shape)


class _Box:
    """U(-a, a) with a = ``self.limit_of(fan_in, fan_out)``; its std is a / sqrt(3)."""

    def limit_of(self, fan_in, fan_out):
        raise NotImplementedError

    def __call__(self, shape, rng):
        a = self.limit_of(*shape)
        return a * (2.0 * rng.random(shape) - 1.0)


class Normal(_Gaussian):
    def __init__(self, std=0.01):
        self.std = std

    def scale(self, fan_in, fan_out):
        return self.std**2  # BUG: the variance, not the standard deviation


class Uniform(_Box):
    def __init__(self, limit=0.05):
        self.limit = limit

    def limit_of(self, fan_in, fan_out):
        return self.limit


class Xavier(_Gaussian):
    def scale(self, fan_in, fan_out):
        return 1.0 / math.sqrt(fan_out)  # BUG: fan_out, the lecture divides by Din


class XavierUniform(_Box):
    def limit_of(self, fan_in, fan_out):
        return math.sqrt(3.0 / fan_in)


class Glorot(_Gaussian):
    def scale(self, fan_in, fan_out):
        return 2.0 / math.sqrt(fan_in + fan_out)  # BUG: the slide's formula


class GlorotUniform(_Box):
    def limit_of(self, fan_in, fan_out):
        return math.sqrt(6.0 / (fan_in + fan_out))


class He(_Gaussian):
    def scale(self, fan_in, fan_out):
        return math.sqrt(1.0 / fan_in)  # BUG: no factor 2 for ReLU


class HeUniform(_Box):
    def limit_of(self, fan_in, fan_out):
        return math.sqrt(2.0 / fan_in)  # BUG: the normal std used as the uniform limit


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
