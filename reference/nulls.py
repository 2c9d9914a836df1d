"""Components that do nothing: the grader's measure of what doing nothing earns.

For each kind, a family of null components answers every call with something of the
right shape that does not do the component's job: its input back (unchanged weights, a
constant schedule, a no-op transform), zeros, ones, or random values (from the generator
it is given, or from its own). A check's cases that such a null passes are what a
submission gets for free there: a submission that passes no more than one null does on a
check earns nothing for it (``gradekit.credit.credit``). A null that passes every case
of a check is doing that component's job there (a ``Constant(0)`` initializer) and is not
counted.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from itertools import product
from typing import Any

import numpy as np

from gradekit.components.training import CURVE_LABELS, RECIPE_LABELS

ANSWERS = ("identity", "zeros", "ones", "normal", "uniform", "normal-own", "uniform-own")
"""How a null answers: its input back, a constant, or noise (``-own``: from a generator
of its own even when it is given one)."""


class Answer:
    """One way of answering without doing the job, with its own generator."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._own = np.random.default_rng(20240)

    def array(self, like: Any, rng: np.random.Generator | None = None) -> np.ndarray:
        """An array of ``like``'s shape: ``like`` itself, a constant, or noise."""
        like = np.array(like, dtype=np.float64)
        if self.name == "identity":
            return like
        if self.name in ("zeros", "ones"):
            return np.full(like.shape, float(self.name == "ones"))
        g = rng if rng is not None and not self.name.endswith("-own") else self._own
        return g.standard_normal(like.shape) if "normal" in self.name else g.random(like.shape)

    def number(self, natural: float = 0.0) -> float:
        """A number: ``natural`` for identity, a constant, or noise."""
        if self.name == "identity":
            return float(natural)
        return float(self.array(np.zeros(())))


class Layer:
    """A layer, activation or loss-shaped null: forward and backward answer by ``answer``."""

    def __init__(self, answer: Answer, **kwargs: Any) -> None:
        self.answer = answer
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        din, dout = kwargs.get("din"), kwargs.get("dout")
        if isinstance(din, int) and isinstance(dout, int):
            self.params = {"W": np.zeros((din, dout)), "b": np.zeros(dout)}
        self.rng = None
        self._x: np.ndarray | None = None

    def forward(self, x: np.ndarray, *, training: bool = True) -> np.ndarray:
        self._x = np.array(x, dtype=np.float64)
        w = self.params.get("W")
        if w is not None and self._x.ndim == 2 and np.shape(w)[0] == self._x.shape[1]:
            if self.answer.name == "identity":  # the input back, cut or padded to the width
                out = np.zeros((self._x.shape[0], np.shape(w)[1]))
                width = min(out.shape[1], self._x.shape[1])
                out[:, :width] = self._x[:, :width]
                return out
            return self.answer.array(np.zeros((self._x.shape[0], np.shape(w)[1])), self.rng)
        return self.answer.array(self._x, self.rng)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        self.grads = {k: self.answer.array(v) for k, v in self.params.items()}
        x = self._x if self._x is not None else np.zeros(np.shape(dout))
        dout = np.array(dout, dtype=np.float64)
        like = dout if dout.shape == x.shape else np.zeros_like(x)
        return self.answer.array(like, self.rng)


class Loss:
    def __init__(self, answer: Answer, **kwargs: Any) -> None:
        self.answer = answer
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self._y = np.zeros(0)

    def forward(self, y: np.ndarray, t: np.ndarray) -> float:
        self._y = np.array(y, dtype=np.float64)
        return self.answer.number(float(np.mean(self._y)) if self._y.size else 0.0)

    def backward(self, dout: float = 1.0) -> np.ndarray:
        return self.answer.array(self._y)


class Initializer:
    def __init__(self, answer: Answer, **kwargs: Any) -> None:
        self.answer = answer

    def __call__(self, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
        if self.answer.name == "identity":
            return np.eye(*shape)
        return self.answer.array(np.zeros(shape), rng)


class Optimizer:
    def __init__(self, answer: Answer, **kwargs: Any) -> None:
        self.answer = answer

    def init(self, param: np.ndarray) -> dict:
        return {}

    def update(self, param: np.ndarray, grad: np.ndarray, state: dict) -> tuple:
        return self.answer.array(param), state


class Schedule:
    def __init__(self, answer: Answer, **kwargs: Any) -> None:
        self.answer = answer
        rates = [v for k, v in kwargs.items() if k.startswith("lr") and isinstance(v, float)]
        self.lr = rates[0] if rates else 0.1

    def __call__(self, step: int) -> float:
        return self.answer.number(self.lr)


class Penalty:
    def __init__(self, answer: Answer, **kwargs: Any) -> None:
        self.answer = answer

    def penalty(self, w: np.ndarray) -> float:
        return self.answer.number(0.0)

    def grad(self, w: np.ndarray) -> np.ndarray:
        return self.answer.array(w)


class Transform:
    def __init__(self, answer: Answer, **kwargs: Any) -> None:
        self.answer = answer

    def __call__(self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> tuple:
        if self.answer.name == "identity":
            return np.array(x, dtype=np.float64), np.array(y)
        return self.answer.array(x, rng), self.answer.array(y, rng)


class EarlyStopping:
    """Never stops (or, with ``stop``, always does), and keeps what ``answer`` says."""

    def __init__(self, answer: Answer, stop: bool = False, **kwargs: Any) -> None:
        self.answer, self.stop = answer, stop
        self.patience = kwargs.get("patience", 5)
        self.min_delta = kwargs.get("min_delta", 0.0)
        self.best_loss: float | None = None
        self.best_params: dict | None = None

    def step(self, val_loss: float, params: dict[str, np.ndarray]) -> bool:
        self.best_loss = self.answer.number(val_loss)
        if self.answer.name == "identity":
            self.best_params = params
        else:
            self.best_params = {k: self.answer.array(v) for k, v in params.items()}
        return self.stop


class Preprocessor:
    def __init__(self, answer: Answer, **kwargs: Any) -> None:
        self.answer = answer

    def fit(self, x: np.ndarray) -> Preprocessor:
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        return self.answer.array(x)


class Search:
    """Proposes the same corner (or noise in [0, 1)) whatever the space asks."""

    def __init__(self, answer: Answer, grid: bool = False, **kwargs: Any) -> None:
        self.answer, self.grid = answer, grid

    def _setting(self, space: dict, rng: np.random.Generator | None) -> dict[str, float]:
        corner = {"identity": 0, "ones": 1}.get(self.answer.name)
        if corner is not None:
            return {k: float(bounds[corner]) for k, bounds in space.items()}
        return {k: float(self.answer.array(np.zeros(()), rng)) for k in space}

    def propose(self, space: dict, n: int, rng: np.random.Generator) -> list[dict]:
        count = n ** len(space) if self.grid else n
        return [self._setting(space, rng) for _ in range(count)]

    def refine(self, space: dict, results: list, n: int, rng: np.random.Generator) -> list[dict]:
        return [self._setting(space, rng) for _ in range(n)]


class Trainer:
    """Reports a history and never touches the model."""

    def __init__(self, answer: Answer, **kwargs: Any) -> None:
        self.answer = answer
        self.epochs = int(kwargs.get("epochs", 5))

    def fit(self, model: Any, optimizer: Any, data: dict, rng: np.random.Generator) -> dict:
        if self.answer.name == "identity":
            return {"train_loss": [], "val_loss": []}
        losses = [abs(self.answer.number(1.0)) for _ in range(self.epochs)]
        return {"train_loss": losses, "val_loss": list(losses)}


class Diagnoser:
    """Gives the same answers whatever the curves and errors."""

    def __init__(self, curve: str, cell: str, **kwargs: Any) -> None:
        self.curve, self.cell = curve, cell

    def diagnose(self, train_curve: np.ndarray, val_curve: np.ndarray) -> str:
        return self.curve

    def recipe(
        self, train_err: float, test_err: float, base_err: float = 0.0, tol: float = 0.05
    ) -> str:
        return self.cell


_BY_KIND: dict[str, type] = {
    "layers": Layer,
    "activations": Layer,
    "losses": Loss,
    "initializers": Initializer,
    "optimizers": Optimizer,
    "schedules": Schedule,
    "penalties": Penalty,
    "transforms": Transform,
    "preprocessors": Preprocessor,
    "trainers": Trainer,
}


def nulls_for(kind: str, name: str) -> list[tuple[str, Callable[..., Any]]]:
    """The null components of ``kind`` standing in for ``name``: (label, factory) pairs."""
    if kind == "diagnosers":
        return [
            (f"always {c} and {r}", partial(Diagnoser, c, r))
            for c, r in product(CURVE_LABELS, RECIPE_LABELS)
        ]
    found: list[tuple[str, Callable[..., Any]]] = []
    for answer in ANSWERS:

        def make(answer: str = answer, **kwargs: Any) -> Any:
            return _build(kind, name, Answer(answer), kwargs)

        found.append((answer, make))
    if kind == "early_stopping":
        found.append(("always stop", lambda **kw: EarlyStopping(Answer("identity"), True, **kw)))
    return found


def _build(kind: str, name: str, answer: Answer, kwargs: dict[str, Any]) -> Any:
    """A fresh null of ``kind`` (a fresh generator each time: runs repeat exactly)."""
    if kind == "early_stopping":
        return EarlyStopping(answer, **kwargs)
    if kind == "search":
        return Search(answer, grid=name == "grid", **kwargs)
    return _BY_KIND[kind](answer, **kwargs)
