"""Central differences (``checks.central_differences``), pinned: the four steps of a probe,
Richardson's extrapolation, and each probe's label, relative error, values and place."""

from __future__ import annotations

import numpy as np
import pytest

from gradekit.checks.central_differences import (
    probe_directions,
    probe_errors,
    probe_offsets,
    richardson,
)
from gradekit.sandbox.plan import Outcome

H = 0.5


def test_a_probe_steps_wide_then_narrow():
    assert probe_offsets(0.25) == [0.25, -0.25, 0.125, -0.125]


@pytest.mark.parametrize("h", [0.5, 0.1, 1e-3])
def test_richardson_is_exact_up_to_degree_four(h):
    def f(t):
        return 1.0 + 7 * t - 2 * t**2 + 3 * t**3 + 5 * t**4

    assert richardson([f(t) for t in probe_offsets(h)], h) == pytest.approx(7.0, rel=1e-9)


def test_richardson_weighs_the_narrow_difference_four_to_one():
    # wide difference 1, narrow difference 4: (4 * 4 - 1) / 3 = 5
    assert richardson([1.0, 0.0, 1.0, -1.0], 0.5) == pytest.approx(5.0)


def test_random_directions_then_unit_vectors_at_distinct_entries():
    value = np.zeros((2, 3))
    dirs = probe_directions(value, 2, 4, np.random.default_rng(0))
    assert len(dirs) == 6 and all(d.shape == (2, 3) for d in dirs)
    assert all(np.count_nonzero(d) == 6 for d in dirs[:2])
    units = dirs[2:]
    assert all(np.count_nonzero(d) == 1 and d.sum() == 1.0 for d in units)
    assert len({int(np.argmax(d)) for d in units}) == 4
    assert len(probe_directions(value, 0, 50, np.random.default_rng(0))) == 6


def linear(slope):
    """Values of a probe along which the function has ``slope`` (so Richardson gives it)."""
    return [slope * t for t in probe_offsets(H)]


def loss_probe(name, direction, slope, coord=True, tag="p"):
    keys = [f"{tag}{k}" for k in range(4)]
    return (name, direction, H, keys, coord), dict(zip(keys, linear(slope), strict=True))


def unit(shape, *index):
    e = np.zeros(shape)
    e[index] = 1.0
    return e


def test_a_loss_probe_compares_the_analytic_derivative_along_its_direction():
    grads = np.array([[0.0, 0.0], [3.0, 9.0]])
    probe, values = loss_probe("W", unit((2, 2), 1, 0), 1.0)
    meta = {"dout": None, "probes": [probe]}
    found = probe_errors(Outcome({**values, "grads": {"W": grads}}), meta, loss=True)
    assert found == [("dW", pytest.approx(0.5), 3.0, pytest.approx(1.0), "dW[1, 0]")]


def test_a_right_derivative_has_no_error_and_ints_count_as_losses():
    probe, _ = loss_probe("b", unit((3,), 2), 0.0)
    values = dict.fromkeys(probe[3], 4)
    meta = {"dout": None, "probes": [probe]}
    found = probe_errors(Outcome({**values, "grads": {"b": np.zeros(3)}}), meta, loss=True)
    assert found == [("db", 0.0, 0.0, 0.0, "db[2]")]


def test_tiny_derivatives_are_measured_against_a_floor_of_1e_8():
    probe, values = loss_probe("b", unit((3,), 0), 0.0)
    grads = {"b": np.array([1e-9, 0.0, 0.0])}
    meta = {"dout": None, "probes": [probe]}
    (found,) = probe_errors(Outcome({**values, "grads": grads}), meta, loss=True)
    assert found[1] == pytest.approx(0.1)


@pytest.mark.parametrize("bad", [None, "1.0", np.float64(1.0), [1.0]])
def test_a_loss_that_is_not_a_number_stops_the_probes(bad):
    probe, values = loss_probe("W", unit((2, 2), 0, 0), 1.0)
    values[probe[3][2]] = bad
    meta = {"dout": None, "probes": [probe]}
    assert probe_errors(Outcome({**values, "grads": {"W": np.ones((2, 2))}}), meta, True) is None


def test_x_and_y_read_dx_and_a_random_direction_says_so():
    direction = np.array([[1.0, -2.0]])
    dx = np.array([[2.0, 0.5]])  # along the direction: 2 - 1 = 1
    px, vx = loss_probe("x", direction, 1.0, coord=False, tag="x")
    py, vy = loss_probe("y", direction, 3.0, coord=False, tag="y")
    meta = {"dout": None, "probes": [px, py]}
    found = probe_errors(Outcome({**vx, **vy, "dx": dx, "grads": {"x": -dx}}), meta, True)
    assert found == [
        ("dx", 0.0, 1.0, pytest.approx(1.0), "dx along a random direction"),
        ("dx", pytest.approx(0.5), 1.0, pytest.approx(3.0), "dx along a random direction"),
    ]


def test_a_probe_without_a_usable_gradient_is_skipped_not_the_others():
    pa, va = loss_probe("W", unit((2,), 1), 1.0, tag="a")
    pb, vb = loss_probe("b", unit((2,), 0), 1.0, tag="b")
    pc, vc = loss_probe("c", unit((2,), 0), 1.0, tag="c")
    grads = {"W": np.ones(3), "b": np.array([1.0, 5.0]), "c": np.array([np.nan, 0.0])}
    meta = {"dout": None, "probes": [pa, pb, pc]}
    found = probe_errors(Outcome({**va, **vb, **vc, "grads": grads}), meta, True)
    assert found == [("db", 0.0, 1.0, pytest.approx(1.0), "db[0]")]
    assert probe_errors(Outcome({**vb, "grads": None}), {"dout": None, "probes": [pb]}, True) == []
    assert probe_errors(Outcome({**vb}), {"dout": None, "probes": [pb]}, True) == []


def test_an_output_probe_contracts_each_output_with_dout():
    dout = np.array([[1.0, 2.0]])
    keys = ["o0", "o1", "o2", "o3"]
    # outputs y(t) = y0 + t * v: sum(y * dout) moves by t * (v . dout) = t * 5
    y0, v = np.array([[1.0, 1.0]]), np.array([[1.0, 2.0]])
    values = {k: y0 + t * v for k, t in zip(keys, probe_offsets(H), strict=True)}
    probe = ("W", unit((1, 2), 0, 1), H, keys, True)
    grads = {"W": np.array([[0.0, 5.0]])}
    found = probe_errors(
        Outcome({**values, "grads": grads}), {"dout": dout, "probes": [probe]}, False
    )
    assert found == [("dW", pytest.approx(0.0, abs=1e-12), 5.0, pytest.approx(5.0), "dW[0, 1]")]


@pytest.mark.parametrize(
    "bad", [np.ones((1, 3)), np.array([[np.inf, 1.0]]), 2.0, np.array([["a", "b"]])]
)
def test_an_output_that_is_not_a_finite_array_of_douts_shape_stops_the_probes(bad):
    dout = np.array([[1.0, 2.0]])
    keys = ["o0", "o1", "o2", "o3"]
    values = dict.fromkeys(keys, np.ones((1, 2)))
    values["o3"] = bad
    probe = ("W", unit((1, 2), 0, 1), H, keys, True)
    meta = {"dout": dout, "probes": [probe]}
    assert probe_errors(Outcome({**values, "grads": {"W": np.ones((1, 2))}}), meta, False) is None
