"""Hostile (initialization): tampers with numpy's random generators to fake the statistics.

- ``he`` forgets the factor 2 (the buggy example's mistake) and, to hide it, reseeds the
  global RNG, replaces ``np.random.default_rng`` with a factory that ignores its seed (the
  grader's generators then all start alike), tries to patch ``Generator`` itself, and
  replaces gradekit's own statistics in the worker;
- ``xavier`` has the right scale but ignores the generator it is given: it draws from the
  global RNG, reseeded on every call.

The statistics are computed in the parent from the weights returned, so none of this can
change them; the seed-ignoring generators only make the draws repeat.
"""

import contextlib

import numpy as np

import gradekit

try:  # the grader's statistics are not importable in the worker; patch them if they were
    import gradekit.checks.distribution as distribution
except ImportError:
    distribution = None

_default_rng = np.random.default_rng


def _fixed_rng(seed=None):
    return _default_rng(0)


np.random.seed(0)
np.random.default_rng = _fixed_rng
for _method in ("normal", "standard_normal", "random"):
    with contextlib.suppress(TypeError):  # numpy's types are immutable
        setattr(np.random.Generator, _method, lambda self, *a, **k: 0.0)
if distribution is not None:
    distribution._moments = lambda w: distribution.Moments(w.size, 0.0, 1.0, 3.0, 0.0, 1.0)


class He:
    def __call__(self, shape, rng):
        fan_in, _ = shape
        np.random.seed(0)
        return rng.normal(0.0, np.sqrt(1.0 / fan_in), size=shape)  # the factor 2 is missing


class Xavier:
    def __call__(self, shape, rng):
        fan_in, _ = shape
        np.random.seed(1234)
        return np.random.standard_normal(shape) / np.sqrt(fan_in)


@gradekit.hookimpl
def gradekit_register(registry):
    registry.initializers["he"] = He
    registry.initializers["xavier"] = Xavier
