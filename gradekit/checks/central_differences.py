"""Central differences of a component's own forward: where to probe and what they say.

A probe moves one array along a direction by four steps (``offsets``); Richardson's
extrapolation of the two central differences (``richardson``) is compared with the
analytic derivative along that direction (``probe_errors``).
"""

from __future__ import annotations

import numpy as np

from ..sandbox.plan import Outcome
from .compare import array_problem


def probe_offsets(h: float) -> list[float]:
    """The four steps of one probe: a wide and a narrow central difference."""
    return [h, -h, h / 2, -h / 2]


def probe_directions(
    value: np.ndarray, random: int, samples: int, rng: np.random.Generator
) -> list[np.ndarray]:
    """``random`` random directions, then ``samples`` unit vectors at random entries."""
    dirs = [rng.standard_normal(value.shape) for _ in range(random)]
    for i in rng.choice(value.size, size=min(samples, value.size), replace=False):
        e = np.zeros(value.shape)
        e[np.unravel_index(int(i), value.shape)] = 1.0
        dirs.append(e)
    return dirs


def richardson(f: list[float], h: float) -> float:
    """The derivative from the values at ``probe_offsets(h)``, error O(h^4)."""
    wide = (f[0] - f[1]) / (2 * h)
    narrow = (f[2] - f[3]) / h
    return (4 * narrow - wide) / 3


def probe_errors(
    outcome: Outcome, meta: dict, loss: bool
) -> list[tuple[str, float, float, float, str]] | None:
    """Per probe: the array's label (``dx``, ``dW``), the relative error of the analytic
    derivative along the probe's direction against Richardson-extrapolated central
    differences, both values and where; None when a probe's forward failed."""
    v = outcome.values
    dout = meta["dout"]
    found = []
    for name, direction, h, keys, coord in meta["probes"]:
        values = []
        for key in keys:
            got = v.get(key)
            if loss:
                if type(got) not in (int, float):
                    return None
                values.append(float(got))
            else:
                if array_problem(got, dout.shape):
                    return None
                values.append(float(np.sum(got * dout)))
        numeric = richardson(values, h)
        params = v.get("grads") if isinstance(v.get("grads"), dict) else {}
        grads = v.get("dx") if name in ("x", "y") else params.get(name)
        if array_problem(grads, direction.shape):
            continue  # reported by the dx / dparam cases
        analytic = float(np.sum(grads * direction))
        err = abs(analytic - numeric) / max(abs(analytic) + abs(numeric), 1e-8)
        label = "dx" if name in ("x", "y") else f"d{name}"
        if coord:
            i = tuple(int(a) for a in np.argwhere(direction)[0])
            where = f"{label}[{', '.join(map(str, i))}]"
        else:
            where = f"{label} along a random direction"
        found.append((label, err, analytic, numeric, where))
    return found
