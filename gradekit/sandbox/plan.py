"""Call plans: what the grader asks a component to do, run the same way everywhere.

A plan is data (JSON plus named input arrays). The worker runs it on a student's
components; the parent runs the very same plan on the reference and on mutants. Results
come back as a tree of plain values, so the two sides are compared like for like.
"""

from __future__ import annotations

import copy
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..routines import ROUTINES

Factory = Callable[..., Any]
Resolve = Callable[[str, str], Factory]
"""Looks up the factory of a component by kind and name (raises KeyError if absent)."""


@dataclass
class Plan:
    """A list of operations on components, with the input arrays they use."""

    ops: list[dict[str, Any]] = field(default_factory=list)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    """What the parent needs to judge the outcome; never sent to the worker."""

    def array(self, value: np.ndarray) -> dict[str, str]:
        """Add an input array (float64, or int64 for labels); return a reference to it."""
        key = f"a{len(self.arrays)}"
        value = np.asarray(value)
        dtype = np.int64 if value.dtype.kind in "iu" else np.float64
        self.arrays[key] = np.array(value, dtype=dtype)
        return {"array": key}

    def shifted(self, base: dict[str, str], direction: dict[str, str], step: float) -> dict:
        """An argument ``base + step * direction`` of two input arrays, built where it is used.

        Probes of central differences send a direction once instead of a moved copy each.
        """
        return {"shift": base["array"], "along": direction["array"], "step": float(step)}

    def make(self, obj: str, kind: str, name: str, **kwargs: Any) -> None:
        """Build component ``kind/name`` with ``kwargs`` and call it ``obj``."""
        self.ops.append({"op": "make", "obj": obj, "kind": kind, "name": name, "kwargs": kwargs})

    def call(
        self,
        obj: str,
        method: str,
        *args: Any,
        save: str | None = None,
        watch: bool = False,
        **kwargs: Any,
    ) -> None:
        """Call ``obj.method(*args, **kwargs)``; keep the result as ``save``.

        With ``watch``, also save ``<save>.mutated``: the positions of the arguments the
        call changed in place (inputs must be left alone).
        """
        self.ops.append(
            {
                "op": "call",
                "obj": obj,
                "method": method,
                "args": list(args),
                "kwargs": kwargs,
                "save": save,
                "watch": watch,
            }
        )

    def get(self, obj: str, attr: str, save: str) -> None:
        """Read ``obj.attr`` (for example ``grads`` or ``running_mean``) into ``save``."""
        self.ops.append({"op": "get", "obj": obj, "attr": attr, "save": save})

    def set_param(self, obj: str, key: str, value: Any) -> None:
        """Overwrite ``obj.params[key]`` with a copy of an array."""
        self.ops.append({"op": "set_param", "obj": obj, "key": key, "value": value})

    def set_rng(self, obj: str, seed: int) -> None:
        """Give ``obj`` a fresh ``numpy.random.Generator`` seeded with ``seed``."""
        self.ops.append({"op": "set_rng", "obj": obj, "seed": seed})

    def routine(self, name: str, save: str, **kwargs: Any) -> None:
        """Run a trusted gradekit routine (a training loop, an experiment) on components."""
        self.ops.append({"op": "routine", "name": name, "kwargs": kwargs, "save": save})

    def to_json(self) -> dict[str, Any]:
        """The plan without its arrays, as JSON-ready data."""
        return {"ops": self.ops}


class Unsupported:
    """A returned value that is not a plain array, number, dict or list (kept as its type)."""

    def __init__(self, type_name: str) -> None:
        self.type_name = type_name

    def __repr__(self) -> str:
        return f"<{self.type_name}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Unsupported) and other.type_name == self.type_name

    __hash__ = None  # type: ignore[assignment]


_SCALARS = (bool, int, float, np.float64, np.float32, np.int64, np.int32, np.bool_)


def plain(value: Any, depth: int = 0) -> Any:
    """Copy a returned value into plain data: exact ndarrays, numbers, dicts, lists.

    Anything else (an ndarray subclass, an object with a forged ``__eq__``, a matrix)
    becomes ``Unsupported``; object arrays are never kept. This runs on both sides, so a
    reference and a submission are compared through the same filter.
    """
    if depth > 6:
        return Unsupported("value nested too deep")
    if type(value) is np.ndarray:
        if value.dtype.kind in "biuf" and value.dtype.itemsize <= 8:
            return value.copy()
        return Unsupported(f"ndarray of {value.dtype}")
    if type(value) is np.float32:  # kept as a 0-d array: its dtype is part of the answer
        return np.asarray(value)
    if type(value) in _SCALARS:
        return value.item() if isinstance(value, np.generic) else value
    if value is None:
        return None
    if type(value) is dict:
        return {k: plain(v, depth + 1) for k, v in value.items() if type(k) is str}
    if type(value) in (list, tuple):
        return [plain(v, depth + 1) for v in value]
    return Unsupported(type(value).__name__)


@dataclass
class Failure:
    """An exception raised by the component during an op."""

    op: int
    type: str
    message: str
    trace: str
    """The traceback, trimmed to frames outside gradekit (the student's own code)."""


@dataclass
class Outcome:
    """What running a plan produced: the saved values, and the failure that stopped it."""

    values: dict[str, Any] = field(default_factory=dict)
    failure: Failure | None = None
    status: str = "ok"
    """``ok``, ``error`` (an op raised), ``timeout`` or ``crashed`` (the worker died)."""
    detail: str = ""


def _same(a: Any, b: Any) -> bool:
    """Whether two argument values are still equal (arrays entry by entry, dicts by key)."""
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return True


def mutated_positions(record: Any, arity: int) -> list[int] | None:
    """The argument positions a call's ``<save>.mutated`` record lists, or None when it is
    not the record the executor writes (distinct positions among ``arity``): a forged
    answer, which fails the judges' purity cases."""
    ok = type(record) is list and all(type(i) is int and 0 <= i < arity for i in record)
    return record if ok and len(set(record)) == len(record) else None


def says_mutated(record: Any) -> bool:
    """Whether a call's ``.mutated`` record says it changed an argument: any record but an
    empty list (a forged one included); None, no record, means the call never ran."""
    return record is not None and not (type(record) is list and not record)


def saved(key: str, *path: int | str) -> dict[str, Any]:
    """An op argument that refers to a value saved earlier (or a part of it)."""
    return {"saved": key, "path": list(path)}


def _trim(exc: BaseException, hide: tuple[str, ...]) -> str:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith(hide)]
    lines = traceback.format_list(frames) + traceback.format_exception_only(type(exc), exc)
    return "".join(lines)[-4000:]


def execute(
    plan_ops: list[dict[str, Any]],
    arrays: dict[str, np.ndarray],
    resolve: Resolve,
    hide: tuple[str, ...] = (),
) -> Outcome:
    """Run the ops in order; stop at the first exception and report it with its op index."""

    with np.errstate(all="ignore"):  # overflow shows as inf or nan in the values
        return _execute(plan_ops, arrays, resolve, hide)


def _execute(
    plan_ops: list[dict[str, Any]],
    arrays: dict[str, np.ndarray],
    resolve: Resolve,
    hide: tuple[str, ...],
) -> Outcome:
    objects: dict[str, Any] = {}
    outcome = Outcome()

    def arg(value: Any) -> Any:
        if isinstance(value, dict) and set(value) == {"array"}:
            return arrays[value["array"]].copy()
        if isinstance(value, dict) and set(value) == {"shift", "along", "step"}:
            return arrays[value["shift"]] + value["step"] * arrays[value["along"]]
        if isinstance(value, dict) and set(value) in ({"saved"}, {"saved", "path"}):
            found = outcome.values[value["saved"]]
            for step in value.get("path", []):
                found = found[step]
            return copy.deepcopy(found)
        if isinstance(value, dict) and set(value) == {"rng"}:
            return np.random.default_rng(value["rng"])
        if isinstance(value, dict) and set(value) == {"component"}:
            return objects[value["component"]]
        if isinstance(value, dict):
            return {k: arg(v) for k, v in value.items()}
        if isinstance(value, list):
            return tuple(arg(v) for v in value)
        return value

    for index, op in enumerate(plan_ops):
        try:
            kind = op["op"]
            if kind == "make":
                factory = resolve(op["kind"], op["name"])
                objects[op["obj"]] = factory(**{k: arg(v) for k, v in op["kwargs"].items()})
            elif kind == "call":
                target = objects[op["obj"]]
                args = [arg(a) for a in op["args"]]
                kwargs = {k: arg(v) for k, v in op["kwargs"].items()}
                before = copy.deepcopy(args) if op.get("watch") else None
                result = getattr(target, op["method"])(*args, **kwargs)
                if op["save"]:
                    outcome.values[op["save"]] = plain(result)
                if before is not None:
                    outcome.values[f"{op['save']}.mutated"] = [
                        i
                        for i, (a, b) in enumerate(zip(before, args, strict=True))
                        if not _same(a, b)
                    ]
            elif kind == "get":
                outcome.values[op["save"]] = plain(getattr(objects[op["obj"]], op["attr"]))
            elif kind == "set_param":
                objects[op["obj"]].params[op["key"]] = np.array(arg(op["value"]), dtype=np.float64)
            elif kind == "set_rng":
                objects[op["obj"]].rng = np.random.default_rng(op["seed"])
            elif kind == "routine":
                kwargs = {k: arg(v) for k, v in op["kwargs"].items()}
                outcome.values[op["save"]] = plain(ROUTINES[op["name"]](**kwargs))
            else:
                raise ValueError(f"unknown op {kind!r}")
        except BaseException as exc:  # the component's own error, sys.exit included
            outcome.failure = Failure(index, type(exc).__name__, str(exc)[:500], _trim(exc, hide))
            outcome.status = "error"
            break
    return outcome
