"""Transfer learning in the reference: the trainer's frozen parameters and the lecture's
table of what to retrain, against hand-written oracles, and that the oracles catch every
mutant of the two."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from gradekit.components.training import LITTLE_DATA, SIMILAR, TRANSFER_LABELS
from gradekit_reference.diagnosis import CurveDiagnoser
from gradekit_reference.mutants.training import MUTANTS
from gradekit_reference.trainer import MiniBatchTrainer


class Linear:
    """``y = x W + b``, a model the trainer drives: params, grads, forward, backward."""

    def __init__(self) -> None:
        rng = np.random.default_rng(0)
        self.params = {"W": rng.normal(size=(3, 2)), "b": rng.normal(size=2)}
        self.grads: dict[str, np.ndarray] = {}
        self.x = np.zeros((0, 3))

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        return x @ self.params["W"] + self.params["b"]

    def backward(self, dy: np.ndarray) -> None:
        self.grads = {"W": self.x.T @ dy, "b": dy.sum(axis=0)}


class Momentum:
    """Momentum with weight decay that counts which arrays it meets."""

    def __init__(self) -> None:
        self.met: list[int] = []

    def init(self, param: np.ndarray) -> dict:
        self.met.append(param.size)
        return {"v": np.zeros_like(param)}

    def update(self, param: np.ndarray, grad: np.ndarray, state: dict) -> tuple:
        self.met.append(param.size)
        v = 0.9 * state["v"] - 0.05 * (grad + 0.1 * param)
        return param + v, {"v": v}


DATA = {
    "x": np.random.default_rng(1).normal(size=(12, 3)),
    "t": np.random.default_rng(2).normal(size=(12, 2)),
    "x_val": np.random.default_rng(3).normal(size=(4, 3)),
    "t_val": np.random.default_rng(4).normal(size=(4, 2)),
}


def frozen_problems(factory: Any) -> list[str]:
    """Train W only, full batch, for 5 epochs; what breaks the freezing contract."""
    model, optimizer = Linear(), Momentum()
    b0, w = model.params["b"].copy(), model.params["W"].copy()
    factory(epochs=5, batch_size=12, trainable=["W"]).fit(
        model, optimizer, DATA, np.random.default_rng(0)
    )
    v = np.zeros_like(w)
    for _ in range(5):  # the oracle: momentum with weight decay on W, b fixed
        dy = 2 * (DATA["x"] @ w + b0 - DATA["t"]) / 12
        v = 0.9 * v - 0.05 * (DATA["x"].T @ dy + 0.1 * w)
        w = w + v
    problems = []
    if not np.array_equal(model.params["b"], b0):
        problems.append("the frozen b moved")
    if set(optimizer.met) != {w.size}:
        problems.append("the optimizer met the frozen b")
    if not np.allclose(model.params["W"], w, rtol=1e-12, atol=1e-12):
        problems.append("W does not follow momentum with weight decay")
    return problems


def test_the_reference_freezes_exactly() -> None:
    assert frozen_problems(MiniBatchTrainer) == []


def test_trainable_none_trains_everything() -> None:
    model, optimizer = Linear(), Momentum()
    b0 = model.params["b"].copy()
    MiniBatchTrainer(epochs=2, batch_size=12).fit(model, optimizer, DATA, np.random.default_rng(0))
    assert not np.array_equal(model.params["b"], b0)
    assert set(optimizer.met) == {6, 2}


@pytest.mark.parametrize(
    "mutant", [m for m in MUTANTS if m.name.startswith("freeze_")], ids=lambda m: m.name
)
def test_the_oracle_catches_every_freezing_mutant(mutant: Any) -> None:
    assert frozen_problems(mutant.factory)


TABLE = [
    (1, 1.0, "linear_on_top"),
    (LITTLE_DATA - 1, SIMILAR, "linear_on_top"),
    (1, 0.0, "linear_from_stages"),
    (LITTLE_DATA - 1, np.nextafter(SIMILAR, 0), "linear_from_stages"),
    (LITTLE_DATA, SIMILAR, "finetune_few"),
    (10**6, 1.0, "finetune_few"),
    (LITTLE_DATA, np.nextafter(SIMILAR, 0), "finetune_many"),
    (10**6, 0.0, "finetune_many"),
]
"""The lecture's table by hand, every cell at its corners and at both thresholds."""


@pytest.mark.parametrize(("size", "similarity", "cell"), TABLE)
def test_advice_is_the_lecture_table(size: int, similarity: float, cell: str) -> None:
    assert CurveDiagnoser().advise(size, float(similarity)) == cell
    assert cell in TRANSFER_LABELS


@pytest.mark.parametrize(
    "mutant", [m for m in MUTANTS if m.name.startswith("advice_")], ids=lambda m: m.name
)
def test_the_table_catches_every_advice_mutant(mutant: Any) -> None:
    advisor = mutant.factory()
    assert any(advisor.advise(n, float(s)) != cell for n, s, cell in TABLE)
