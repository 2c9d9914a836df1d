"""Weight initializers: a base class maps a shape to a scale."""

from __future__ import annotations

import numpy as np


class _Gaussian:
    def scale(self, fan_in, fan_out):
        raise NotImplementedError

    def __call__(self, shape, rng):
        return self.scale(*shape) * rng.standard_normal(shape)


class _Box:
    def limit_for(self, fan_in, fan_out):
        raise NotImplementedError

    def __call__(self, shape, rng):
        a = self.limit_for(*shape)
        return a * (2.0 * rng.random(shape) - 1.0)


class Constant:
    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, rng):
        return np.zeros(shape) + self.value


class Normal(_Gaussian):
    def __init__(self, std=0.01):
        self.sigma = std

    def scale(self, fan_in, fan_out):
        return self.sigma


class Uniform(_Box):
    def __init__(self, limit=0.05):
        self.limit = limit

    def limit_for(self, fan_in, fan_out):
        return self.limit


class Xavier(_Gaussian):
    def scale(self, fan_in, fan_out):
        return fan_in**-0.5


class XavierUniform(_Box):
    def limit_for(self, fan_in, fan_out):
        return (3.0 / fan_in) ** 0.5


class Glorot(_Gaussian):
    def scale(self, fan_in, fan_out):
        return (2.0 / (fan_in + fan_out)) ** 0.5


class GlorotUniform(_Box):
    def limit_for(self, fan_in, fan_out):
        return (6.0 / (fan_in + fan_out)) ** 0.5


class He(_Gaussian):
    def scale(self, fan_in, fan_out):
        return (2.0 / fan_in) ** 0.5


class HeUniform(_Box):
    def limit_for(self, fan_in, fan_out):
        return (6.0 / fan_in) ** 0.5
