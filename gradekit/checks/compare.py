"""Comparisons that turn received and expected values into cases with data in the message.

Every message says what, where (the entry), the received and expected values, and the
tolerance, e.g. ``dx[2, 3]: received 0.12, expected 0.24; error 5.0e-01 > 1e-07``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..sandbox.plan import Outcome, Unsupported
from .base import Case


def describe(value: Any) -> str:
    """A short name for the type of a returned value, for messages."""
    if isinstance(value, np.ndarray):
        return f"ndarray of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, Unsupported):
        return value.type_name
    return type(value).__name__


def array_problem(value: Any, shape: tuple[int, ...] | None = None) -> str | None:
    """Why ``value`` is not a finite real array (of ``shape``), or None if it is one."""
    if not isinstance(value, np.ndarray):
        return f"expected an ndarray, received {describe(value)}"
    if value.dtype.kind not in "fiu":
        return f"expected a real array, received dtype {value.dtype}"
    if shape is not None and value.shape != tuple(shape):
        return f"expected shape {tuple(shape)}, received shape {value.shape}"
    if not np.all(np.isfinite(value)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(value))[0])
        return f"non-finite value {value[bad]} at index {list(bad)}"
    return None


def nonfinite_where_finite(received: Any, expected: Any) -> bool:
    """Whether ``received`` (a number or an array of ``expected``'s shape) holds nan or inf
    where ``expected`` is finite."""
    if type(received) in (int, float):
        received = np.asarray(received, dtype=np.float64)
    if not isinstance(received, np.ndarray) or received.dtype.kind not in "fiu":
        return False
    expected = np.asarray(expected, dtype=np.float64)
    if received.shape != expected.shape:
        return False
    return bool(np.any(~np.isfinite(received) & np.isfinite(expected)))


def _index(i: tuple[int, ...]) -> str:
    return f"[{', '.join(map(str, i))}]" if i else ""


def severe_if_nonfinite(case: Case, received: Any, expected: Any) -> Case:
    """``case``, marked severe when it failed with nan or inf where ``expected`` is finite:
    a component whose outputs cannot be used fails its purpose (see ``credit``)."""
    if not case.passed and nonfinite_where_finite(received, expected):
        case.severe = True
    return case


def close(
    name: str,
    received: Any,
    expected: np.ndarray,
    *,
    rtol: float,
    source: str = "reference",
    weight: float = 1.0,
) -> Case:
    """Entry-wise ``|r - e| <= rtol (|e| + max|e|)``: a relative error that tolerates zeros.

    The failure message names the worst entry with both values; nan or inf where the
    expected value is finite makes the failure severe.
    """
    case = _close(name, received, expected, rtol=rtol, source=source, weight=weight)
    return severe_if_nonfinite(case, received, expected)


def _close(
    name: str, received: Any, expected: np.ndarray, *, rtol: float, source: str, weight: float
) -> Case:
    """``close`` without its severity."""
    expected = np.asarray(expected, dtype=np.float64)
    bad = ~np.isfinite(expected)
    if bad.any():  # only a mutant overflows: match it where it overflows the same way
        if not (isinstance(received, np.ndarray) and received.shape == expected.shape):
            return Case(name, False, f"{name}: {array_problem(received, expected.shape)}", weight)
        if not np.array_equal(~np.isfinite(received), bad):
            return Case(name, False, f"{name}: non-finite where the {source} is not", weight)
        if not np.array_equal(received[bad], expected[bad], equal_nan=True):  # nan, +inf, -inf
            i = tuple(int(a) for a in np.argwhere(bad)[0])
            message = f"{name}{_index(i)}: received {received[i]}, expected {expected[i]}"
            return Case(name, False, f"{message} from the {source}", weight)
        received, expected = np.where(bad, 0.0, received), np.where(bad, 0.0, expected)
    problem = array_problem(received, expected.shape)
    if problem:
        return Case(name, False, f"{name}: {problem}", weight)
    dtype, received = received.dtype, received.astype(np.float64)
    scale = float(np.max(np.abs(expected))) if expected.size else 0.0
    allowed = rtol * (np.abs(expected) + max(scale, 1e-30))
    off = np.abs(received - expected)
    with np.errstate(divide="ignore", invalid="ignore"):  # rtol = 0: equal entries only
        ratio = np.where(off == 0, 0.0, off / allowed)
    if not ratio.size or float(ratio.max()) <= 1.0:
        return Case(name, True, "", weight)
    i = np.unravel_index(int(np.argmax(ratio)), ratio.shape)
    r, e = float(received[i]), float(expected[i])
    err = abs(r - e) / (abs(e) + max(scale, 1e-30))
    wrong = int(np.sum(ratio > 1.0))
    message = (
        f"{name}{_index(i)}: received {r:.6g}, expected {e:.6g} from the {source}; "
        f"relative error {err:.1e} > tolerance {rtol:.0e} ({wrong} of {ratio.size} entries wrong)"
    )
    if dtype != np.float64:
        message = _dtype_first(name, dtype, float(ratio.max()) * rtol, message)
    return Case(name, False, message, weight)


def _dtype_first(name: str, dtype: np.dtype, err: float, message: str) -> str:
    """A failure of an array that is not float64: the dtype is the reason when the values
    agree to the dtype's own precision, and a note otherwise."""
    eps = float(np.finfo(dtype).eps) if dtype.kind == "f" else 0.0
    if err <= 8 * eps:
        return (
            f"{name}: returned {dtype}; return float64 (the values agree only to {dtype} "
            f"precision: {message.split('; ', 1)[1]})"
        )
    return f"{message}; it also returned {dtype}, not float64"


def scalar_close(
    name: str, received: Any, expected: float, *, rtol: float, source: str = "reference"
) -> Case:
    """A scalar within ``rtol`` (relative to ``max(|expected|, 1)``); nan or inf where the
    expected value is finite makes the failure severe."""
    if isinstance(received, np.ndarray) and received.size == 1:
        received = float(received.reshape(()))
    return severe_if_nonfinite(
        _scalar_close(name, received, expected, rtol=rtol, source=source), received, expected
    )


def _scalar_close(name: str, received: Any, expected: float, *, rtol: float, source: str) -> Case:
    """``scalar_close`` without its severity."""
    if type(received) not in (int, float) or isinstance(received, bool):
        return Case(name, False, f"{name}: expected a number, received {describe(received)}")
    if not np.isfinite(received) or not np.isfinite(expected):  # nan, +inf and -inf differ
        same = received == expected or (np.isnan(received) and np.isnan(expected))
        return Case(
            name, same, "" if same else f"{name}: received {received}, expected {expected:.6g}"
        )
    err = abs(received - expected) / max(abs(expected), 1.0)
    if err <= rtol:
        return Case(name, True)
    return Case(
        name,
        False,
        f"{name}: received {received:.6g}, expected {expected:.6g} from the {source}; "
        f"relative error {err:.1e} > tolerance {rtol:.0e}",
    )


def failed_call(outcome: Outcome, needed: str) -> Case | None:
    """A case for a value the plan never produced because a call raised, or None."""
    if needed in outcome.values:
        return None
    if outcome.failure is not None:
        f = outcome.failure
        return Case(
            needed, False, f"{needed}: not computed, your code raised {f.type}: {f.message}"
        )
    return Case(needed, False, f"{needed}: not computed ({outcome.detail or outcome.status})")
