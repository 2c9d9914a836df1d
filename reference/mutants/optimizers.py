"""Known-buggy optimizers and schedules: each subclass changes one step of a reference rule.

``MUTANTS`` lists them with the misconception the grader names when a submission matches.
"""

from __future__ import annotations

import numpy as np

from gradekit_reference.optimizers import (
    SGD,
    Adagrad,
    Adam,
    Momentum,
    Nesterov,
    RMSProp,
    State,
    _arrays,
)
from gradekit_reference.schedules import StepDecay, _count

from . import Mutant


class SGDInPlace(SGD):
    """SGD that updates ``param`` in place (``param -= lr * grad``) and returns it."""

    def update(self, param: np.ndarray, grad: np.ndarray, state: State) -> tuple[np.ndarray, State]:
        """Subtract ``lr g`` from the caller's array itself."""
        param -= self.lr * np.asarray(grad, dtype=np.float64)
        return param, state


class SGDReturnsOldParam(SGD):
    """SGD that computes the step and returns the weights it was given."""

    def update(self, param: np.ndarray, grad: np.ndarray, state: State) -> tuple[np.ndarray, State]:
        """Return ``(param, state)``: the new weights are computed and dropped."""
        w, g = _arrays(param, grad)
        _ = w - self.lr * g  # the new weights, never returned
        return param, state


class MomentumSignError(Momentum):
    """Momentum that adds the gradient to the velocity: ``v <- mu v + lr g; w <- w + v``."""

    def update(self, param: np.ndarray, grad: np.ndarray, state: State) -> tuple[np.ndarray, State]:
        """Return ``(w + v, {"v": v})`` with ``v = mu v + lr g`` (ascent)."""
        w, g = _arrays(param, grad)
        v = self.mu * state["v"] + self.lr * g
        return w + v, {"v": v}


class MomentumNoDecay(Momentum):
    """Momentum whose velocity never decays: ``v <- v - lr g`` (mu ignored)."""

    def update(self, param: np.ndarray, grad: np.ndarray, state: State) -> tuple[np.ndarray, State]:
        """Return ``(w + v, {"v": v})`` with ``v = v - lr g``."""
        w, g = _arrays(param, grad)
        v = state["v"] - self.lr * g
        return w + v, {"v": v}


class NesterovNoLookahead(Nesterov):
    """Nesterov that is plain momentum: ``v <- mu v - lr g; w <- w + v``."""

    def update(self, param: np.ndarray, grad: np.ndarray, state: State) -> tuple[np.ndarray, State]:
        """Return ``(w + v, {"v": v})``, without the look-ahead correction."""
        w, g = _arrays(param, grad)
        v = self.mu * state["v"] - self.lr * g
        return w + v, {"v": v}


class AdagradNoAccumulation(Adagrad):
    """Adagrad that keeps only the last squared gradient: ``s <- g^2``."""

    def update(self, param: np.ndarray, grad: np.ndarray, state: State) -> tuple[np.ndarray, State]:
        """Step ``-lr g / (|g| + eps)``: a sign step, forgetting past gradients."""
        w, g = _arrays(param, grad)
        s = g * g
        return w - self.lr * g / (np.sqrt(s) + self.eps), {"s": s}


class RMSPropEpsInsideRoot(RMSProp):
    """RMSProp with eps inside the root: ``w <- w - lr g / sqrt(s + eps)`` (optax/Keras)."""

    def update(self, param: np.ndarray, grad: np.ndarray, state: State) -> tuple[np.ndarray, State]:
        """Like RMSProp, but divide by ``sqrt(s + eps)``."""
        w, g = _arrays(param, grad)
        s = self.beta * state["s"] + (1.0 - self.beta) * g * g
        return w - self.lr * g / np.sqrt(s + self.eps), {"s": s}


class RMSPropNoOneMinusBeta(RMSProp):
    """RMSProp that forgets the (1 - beta) factor: ``s <- beta s + g^2``."""

    def update(self, param: np.ndarray, grad: np.ndarray, state: State) -> tuple[np.ndarray, State]:
        """Like RMSProp, but ``s = beta s + g^2``."""
        w, g = _arrays(param, grad)
        s = self.beta * state["s"] + g * g
        return w - self.lr * g / (np.sqrt(s) + self.eps), {"s": s}


class AdamNoBiasCorrection(Adam):
    """Adam without bias correction whatever ``bias_correction`` says (the lecture's form)."""

    def update(self, param: np.ndarray, grad: np.ndarray, state: State) -> tuple[np.ndarray, State]:
        """Step ``-lr m / (sqrt(v) + eps)`` with the raw moments."""
        w, g = _arrays(param, grad)
        m = self.beta1 * state["m"] + (1.0 - self.beta1) * g
        v = self.beta2 * state["v"] + (1.0 - self.beta2) * g * g
        t = np.array(float(state["t"]) + 1.0)
        return w - self.lr * m / (np.sqrt(v) + self.eps), {"m": m, "v": v, "t": t}


class AdamEpsInsideRoot(Adam):
    """Adam with eps inside the root: ``w <- w - lr mhat / sqrt(vhat + eps)``."""

    def update(self, param: np.ndarray, grad: np.ndarray, state: State) -> tuple[np.ndarray, State]:
        """Like Adam, but divide by ``sqrt(vhat + eps)``."""
        w, g = _arrays(param, grad)
        t = float(state["t"]) + 1.0
        m = self.beta1 * state["m"] + (1.0 - self.beta1) * g
        v = self.beta2 * state["v"] + (1.0 - self.beta2) * g * g
        c1, c2 = (1.0 - self.beta1**t, 1.0 - self.beta2**t) if self.bias_correction else (1, 1)
        new_w = w - self.lr * (m / c1) / np.sqrt(v / c2 + self.eps)
        return new_w, {"m": m, "v": v, "t": np.array(t)}


class AdamStepFromZero(Adam):
    """Adam that bias-corrects with t before incrementing it: t = 0 on the first update."""

    def update(self, param: np.ndarray, grad: np.ndarray, state: State) -> tuple[np.ndarray, State]:
        """Like Adam, but ``mhat = m / (1 - b1^(t-1))``: 0/0 and inf on the first step."""
        w, g = _arrays(param, grad)
        t = float(state["t"])
        m = self.beta1 * state["m"] + (1.0 - self.beta1) * g
        v = self.beta2 * state["v"] + (1.0 - self.beta2) * g * g
        with np.errstate(divide="ignore", invalid="ignore"):
            mhat = m / (1.0 - self.beta1**t)
            vhat = v / (1.0 - self.beta2**t)
            new_w = w - self.lr * mhat / (np.sqrt(vhat) + self.eps)
        return new_w, {"m": m, "v": v, "t": np.array(t + 1.0)}


class AdamStepNotIncremented(Adam):
    """Adam whose step counter never advances: every update bias-corrects as step 1."""

    def update(self, param: np.ndarray, grad: np.ndarray, state: State) -> tuple[np.ndarray, State]:
        """Like Adam with t = 1 for ever; the stored ``t`` is returned unchanged."""
        w, g = _arrays(param, grad)
        m = self.beta1 * state["m"] + (1.0 - self.beta1) * g
        v = self.beta2 * state["v"] + (1.0 - self.beta2) * g * g
        mhat, vhat = m / (1.0 - self.beta1), v / (1.0 - self.beta2)
        new_w = w - self.lr * mhat / (np.sqrt(vhat) + self.eps)
        return new_w, {"m": m, "v": v, "t": np.array(float(state["t"]))}


class AdamStepCountFromOne(Adam):
    """Adam whose ``init`` starts the step count at 1, then increments it before use: the
    first update bias-corrects as step 2."""

    def init(self, param: np.ndarray) -> State:
        """Zero moments, and ``t = 1``."""
        return {**super().init(param), "t": np.array(1.0)}


class StepDecayEveryStep(StepDecay):
    """Step decay applied at every step: ``lr0 * gamma^step``."""

    def __call__(self, step: int) -> float:
        """Return ``lr0 * gamma ** step``."""
        return float(self.lr0 * self.gamma ** _count(step))


class StepDecayOffByOne(StepDecay):
    """Step decay one step early: ``lr0 * gamma^floor((step + 1) / step_size)``."""

    def __call__(self, step: int) -> float:
        """Return ``lr0 * gamma ** ((step + 1) // step_size)``: x0.1 at 29, 59, 89."""
        return float(self.lr0 * self.gamma ** ((_count(step) + 1) // self.step_size))


MUTANTS: tuple[Mutant, ...] = (
    Mutant(
        "sgd_in_place",
        "optimizers",
        "sgd",
        SGDInPlace,
        "SGD that updates the weights in place (w -= lr * g): the update must return new "
        "weights and leave the caller's arrays unchanged.",
    ),
    Mutant(
        "sgd_returns_old_param",
        "optimizers",
        "sgd",
        SGDReturnsOldParam,
        "The step w - lr g computed and the old weights returned: update returns the new "
        "weights (new_param, new_state), or the weights never move.",
        breaks_purpose=True,
    ),
    Mutant(
        "momentum_sign_error",
        "optimizers",
        "momentum",
        MomentumSignError,
        "Momentum with a sign error (v <- mu v + lr g; w <- w + v): the velocity must "
        "subtract lr g, otherwise the weights climb the loss.",
        breaks_purpose=True,
    ),
    Mutant(
        "momentum_no_decay",
        "optimizers",
        "momentum",
        MomentumNoDecay,
        "Momentum that forgets to decay the velocity (v <- v - lr g): mu must multiply the "
        "old velocity, which otherwise accumulates every past gradient at full weight.",
        breaks_purpose=True,
    ),
    Mutant(
        "nesterov_no_lookahead",
        "optimizers",
        "nesterov",
        NesterovNoLookahead,
        "Nesterov implemented as plain momentum: the look-ahead step "
        "w <- w - mu v_prev + (1 + mu) v is missing.",
    ),
    Mutant(
        "adagrad_no_accumulation",
        "optimizers",
        "adagrad",
        AdagradNoAccumulation,
        "Adagrad that does not accumulate the squared gradients (S = g^2 instead of "
        "S += g^2): the step no longer shrinks with the gradient history.",
    ),
    Mutant(
        "rmsprop_eps_inside_root",
        "optimizers",
        "rmsprop",
        RMSPropEpsInsideRoot,
        "RMSProp with eps inside the square root (sqrt(s + eps)): the course, like the "
        "lecture and torch, divides by sqrt(s) + eps.",
    ),
    Mutant(
        "rmsprop_no_one_minus_beta",
        "optimizers",
        "rmsprop",
        RMSPropNoOneMinusBeta,
        "RMSProp without the (1 - beta) factor (s <- beta s + g^2): s becomes a sum, not a "
        "moving average of g^2, and the steps come out about sqrt(1 - beta) times too small.",
    ),
    Mutant(
        "adam_no_bias_correction",
        "optimizers",
        "adam",
        AdamNoBiasCorrection,
        "Adam without bias correction: the first steps are about 3x too large because m and "
        "v start at zero (the lecture's form omits 1 - beta^t).",
    ),
    Mutant(
        "adam_eps_inside_root",
        "optimizers",
        "adam",
        AdamEpsInsideRoot,
        "Adam with eps inside the square root (sqrt(vhat + eps)): the course divides by "
        "sqrt(vhat) + eps.",
    ),
    Mutant(
        "adam_t_from_zero",
        "optimizers",
        "adam",
        AdamStepFromZero,
        "Adam bias-correcting with t = 0 on the first update: 1 - beta^0 = 0 divides by "
        "zero; t must be incremented before the correction so the first update uses t = 1.",
        breaks_purpose=True,
    ),
    Mutant(
        "adam_t_not_incremented",
        "optimizers",
        "adam",
        AdamStepNotIncremented,
        "Adam whose step count t is never incremented: every step is bias-corrected as the "
        "first, so later steps are too large.",
    ),
    Mutant(
        "adam_t_from_one",
        "optimizers",
        "adam",
        AdamStepCountFromOne,
        "Adam's step count t counts the updates done: 0 after init, so that incremented "
        "before use the first update is bias-corrected with t = 1; starting it at 1 corrects "
        "the first step as the second, and it is too small.",
    ),
    Mutant(
        "step_decay_every_step",
        "schedules",
        "step",
        StepDecayEveryStep,
        "Step decay applied at every step (lr0 * gamma^t): the rate should drop by gamma "
        "only every step_size epochs (x0.1 at 30, 60, 90).",
    ),
    Mutant(
        "step_decay_off_by_one",
        "schedules",
        "step",
        StepDecayOffByOne,
        "Step decay one epoch early (counting epochs from 1): with steps counted from 0 "
        "the rate drops at epochs 30, 60, 90, not 29, 59, 89.",
    ),
)
"""The known-buggy optimizers and schedules, by the misconception each one encodes."""
