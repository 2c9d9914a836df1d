"""The reference optimizers against update rules written out by hand, and their mutants.

Every check is a small function returning a failure message (or None), applied both to the
reference, where it must pass, and to every optimizer mutant, where some check must fail.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from gradekit.numerics import relative_error
from gradekit_reference import COMPONENTS
from gradekit_reference.mutants.optimizers import MUTANTS

OPTIMIZERS = COMPONENTS["optimizers"]
TOL = 1e-9
"""Relative error allowed between the reference and a trajectory written out by hand."""
FLOOR = 1e-8
"""Below this magnitude errors count as absolute (CS231n's rel_error floor)."""


def lin(start: float, stop: float) -> np.ndarray:
    """CS231n-style test data: 20 evenly spaced values as a (4, 5) array."""
    return np.linspace(start, stop, 20).reshape(4, 5)


W = lin(-0.4, 0.6)
DW = lin(-0.6, 0.4)
GRADS = [DW * (1.0 - 0.35 * k) + 0.05 * k * np.cos(3.0 * DW) for k in range(5)]
"""A varying gradient sequence for multi-step trajectories (one sign flip along the way)."""


def worst(received: np.ndarray, expected: np.ndarray) -> float:
    """The largest entry-wise relative error; inf if anything is not finite or misshapen."""
    a, b = np.asarray(received, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    if a.shape != b.shape or not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return float("inf")
    return float(np.max(relative_error(a, b, floor=FLOOR), initial=0.0))


# ---- The update rules, written out by hand: (w, g, state, hyperparameters) -> (w, state) ----


def hand_sgd(w, g, s, lr):
    return w - lr * g, {}


def hand_momentum(w, g, s, lr, mu):
    v = mu * s["v"] - lr * g
    return w + v, {"v": v}


def hand_nesterov(w, g, s, lr, mu):
    v = mu * s["v"] - lr * g
    return w - mu * s["v"] + (1 + mu) * v, {"v": v}


def hand_adagrad(w, g, s, lr, eps):
    cache = s["s"] + g**2
    return w - lr * g / (np.sqrt(cache) + eps), {"s": cache}


def hand_rmsprop(w, g, s, lr, beta, eps):
    cache = beta * s["s"] + (1 - beta) * g**2
    return w - lr * g / (np.sqrt(cache) + eps), {"s": cache}


def hand_adam(w, g, s, lr, beta1, beta2, eps, bias_correction):
    t = s["t"] + 1
    m = beta1 * s["m"] + (1 - beta1) * g
    v = beta2 * s["v"] + (1 - beta2) * g**2
    if bias_correction:
        step = (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)
    else:  # the lecture's form
        step = m / (np.sqrt(v) + eps)
    return w - lr * step, {"m": m, "v": v, "t": t}


HAND: dict[str, Callable] = {
    "sgd": hand_sgd,
    "momentum": hand_momentum,
    "nesterov": hand_nesterov,
    "adagrad": hand_adagrad,
    "rmsprop": hand_rmsprop,
    "adam": hand_adam,
}

ADAM = {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "bias_correction": True}
HYPER: dict[str, list[dict]] = {
    "sgd": [{"lr": 0.01}, {"lr": 0.3}],
    "momentum": [{"lr": 0.01, "mu": 0.9}, {"lr": 0.05, "mu": 0.5}],
    "nesterov": [{"lr": 0.01, "mu": 0.9}, {"lr": 0.05, "mu": 0.5}],
    "adagrad": [{"lr": 0.01, "eps": 1e-8}, {"lr": 0.1, "eps": 1e-2}],
    "rmsprop": [{"lr": 0.01, "beta": 0.99, "eps": 1e-8}, {"lr": 0.1, "beta": 0.9, "eps": 1e-2}],
    "adam": [
        ADAM,
        {"lr": 1e-2, "beta1": 0.8, "beta2": 0.99, "eps": 1e-2, "bias_correction": True},
        {**ADAM, "bias_correction": False},
    ],
}
"""Hyperparameters per optimizer: the defaults first, then a set where eps is visible."""


def linspace_state(name: str) -> dict[str, np.ndarray]:
    """A non-trivial starting state from linspace, as in the CS231n tests."""
    return {
        "sgd": {},
        "momentum": {"v": lin(0.6, 0.9)},
        "nesterov": {"v": lin(0.6, 0.9)},
        "adagrad": {"s": lin(0.7, 0.5)},
        "rmsprop": {"s": lin(0.6, 0.9)},
        "adam": {"m": lin(0.6, 0.9), "v": lin(0.7, 0.5), "t": np.array(5.0)},
    }[name]


def zero_state(name: str) -> dict[str, np.ndarray]:
    """The state ``init`` must return, written out by hand."""
    z = np.zeros_like(W)
    return {
        "sgd": {},
        "momentum": {"v": z},
        "nesterov": {"v": z},
        "adagrad": {"s": z},
        "rmsprop": {"s": z},
        "adam": {"m": z, "v": z, "t": np.array(0.0)},
    }[name]


# ---- Checks: each returns None when the optimizer passes, else a failure message ----


def state_error(received: dict, expected: dict) -> float:
    """The worst relative error over the state's arrays; inf if the keys differ."""
    if set(received) != set(expected):
        return float("inf")
    return max((worst(received[k], expected[k]) for k in expected), default=0.0)


def check_init(name: str, factory: Callable, hp: dict) -> str | None:
    """``init`` returns the zero state with the expected keys and shapes."""
    err = state_error(factory(**hp).init(W.copy()), zero_state(name))
    return None if err <= TOL else f"init state differs from {zero_state(name)} ({err:.2e})"


def check_trajectory(name: str, factory: Callable, hp: dict, state: dict, steps: int) -> str | None:
    """``steps`` updates along GRADS match the hand-written rule, weights and state."""
    opt = factory(**hp)
    w, s = W.copy(), {k: v.copy() for k, v in state.items()}
    we, se = W.copy(), {k: v.copy() for k, v in state.items()}
    for k in range(steps):
        w, s = opt.update(w, GRADS[k].copy(), s)
        we, se = HAND[name](we, GRADS[k], se, **hp)
        err = max(worst(w, we), state_error(s, se))
        if not err <= TOL:
            return f"step {k + 1} of {steps}: relative error {err:.2e} > {TOL:g} ({hp})"
    return None


def check_purity(name: str, factory: Callable, hp: dict) -> str | None:
    """``update`` leaves param, grad and state unchanged and returns new arrays and dict."""
    opt = factory(**hp)
    param, grad, state = W.copy(), DW.copy(), linspace_state(name)
    saved = (param.copy(), grad.copy(), {k: v.copy() for k, v in state.items()})
    new_param, new_state = opt.update(param, grad, state)
    if not np.array_equal(param, saved[0]):
        return "update changed param in place"
    if not np.array_equal(grad, saved[1]):
        return "update changed grad in place"
    if set(state) != set(saved[2]) or any(not np.array_equal(state[k], saved[2][k]) for k in state):
        return "update changed the state it was given"
    if np.shares_memory(new_param, param) or new_state is state:
        return "update returned the input param or state object instead of new ones"
    return None


def run_checks(name: str, factory: Callable) -> list[str]:
    """Every check for ``name`` over every hyperparameter set: the failures found."""
    failures = []
    for hp in HYPER[name]:
        found = [
            check_init(name, factory, hp),
            check_trajectory(name, factory, hp, linspace_state(name), 1),
            check_trajectory(name, factory, hp, linspace_state(name), 5),
            check_trajectory(name, factory, hp, factory(**hp).init(W), 5),
            check_purity(name, factory, hp),
        ]
        failures += [f for f in found if f]
    if name in CS231N:
        failures += [f for f in [check_cs231n(name, factory)] if f]
    return failures


# ---- The published CS231n FullyConnectedNets single-step tables (rel. error 1e-6) ----

CS231N = {
    "momentum": (
        {"lr": 1e-3, "mu": 0.9},
        {"v": lin(0.6, 0.9)},
        [
            [0.1406, 0.20738947, 0.27417895, 0.34096842, 0.40775789],
            [0.47454737, 0.54133684, 0.60812632, 0.67491579, 0.74170526],
            [0.80849474, 0.87528421, 0.94207368, 1.00886316, 1.07565263],
            [1.14244211, 1.20923158, 1.27602105, 1.34281053, 1.4096],
        ],
        {
            "v": [
                [0.5406, 0.55475789, 0.56891579, 0.58307368, 0.59723158],
                [0.61138947, 0.62554737, 0.63970526, 0.65386316, 0.66802105],
                [0.68217895, 0.69633684, 0.71049474, 0.72465263, 0.73881053],
                [0.75296842, 0.76712632, 0.78128421, 0.79544211, 0.8096],
            ]
        },
    ),
    # The published RMSProp table starts from cache = linspace(0.6, 0.9).
    "rmsprop": (
        {"lr": 1e-2, "beta": 0.99, "eps": 1e-8},
        {"s": lin(0.6, 0.9)},
        [
            [-0.39223849, -0.34037513, -0.28849239, -0.23659121, -0.18467247],
            [-0.132737, -0.08078555, -0.02881884, 0.02316247, 0.07515774],
            [0.12716641, 0.17918792, 0.23122175, 0.28326742, 0.33532447],
            [0.38739248, 0.43947102, 0.49155973, 0.54365823, 0.59576619],
        ],
        {
            "s": [
                [0.5976, 0.6126277, 0.6277108, 0.64284931, 0.65804321],
                [0.67329252, 0.68859723, 0.70395734, 0.71937285, 0.73484377],
                [0.75037008, 0.7659518, 0.78158892, 0.79728144, 0.81302936],
                [0.82883269, 0.84469141, 0.86060554, 0.87657507, 0.8926],
            ]
        },
    ),
    # CS231n's config t=5 is incremented before use: our state t=5 means five updates done.
    "adam": (
        {"lr": 1e-2, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
        {"m": lin(0.6, 0.9), "v": lin(0.7, 0.5), "t": np.array(5.0)},
        [
            [-0.40094747, -0.34836187, -0.29577703, -0.24319299, -0.19060977],
            [-0.1380274, -0.08544591, -0.03286534, 0.01971428, 0.0722929],
            [0.1248705, 0.17744702, 0.23002243, 0.28259667, 0.33516969],
            [0.38774145, 0.44031188, 0.49288093, 0.54544852, 0.59801459],
        ],
        {
            "m": [
                [0.48, 0.49947368, 0.51894737, 0.53842105, 0.55789474],
                [0.57736842, 0.59684211, 0.61631579, 0.63578947, 0.65526316],
                [0.67473684, 0.69421053, 0.71368421, 0.73315789, 0.75263158],
                [0.77210526, 0.79157895, 0.81105263, 0.83052632, 0.85],
            ],
            "v": [
                [0.69966, 0.68908382, 0.67851319, 0.66794809, 0.65738853],
                [0.64683452, 0.63628604, 0.6257431, 0.61520571, 0.60467385],
                [0.59414753, 0.58362676, 0.57311152, 0.56260183, 0.55209767],
                [0.54159906, 0.53110598, 0.52061845, 0.51013645, 0.49966],
            ],
            "t": 6.0,
        },
    ),
}
"""name -> (hyperparameters, state before, published next_w, published state after)."""


def check_cs231n(name: str, factory: Callable) -> str | None:
    """One step from the CS231n inputs reproduces the published table to 1e-6."""
    hp, state, next_w, next_state = CS231N[name]
    w, s = factory(**hp).update(W.copy(), DW.copy(), {k: v.copy() for k, v in state.items()})
    err = max(worst(w, np.asarray(next_w)), state_error(s, next_state))
    return None if err <= 1e-6 else f"CS231n table: relative error {err:.2e} > 1e-6"


# ---- Tests ----


@pytest.mark.parametrize("name", sorted(HAND))
def test_reference_passes_every_check(name):
    assert run_checks(name, OPTIMIZERS[name]) == []


@pytest.mark.parametrize("name", sorted(CS231N))
def test_cs231n_published_single_step(name):
    assert check_cs231n(name, OPTIMIZERS[name]) is None


@pytest.mark.parametrize("name", sorted(HAND))
def test_defaults_match_reference_semantics(name):
    defaults = HYPER[name][0]
    opt = OPTIMIZERS[name]()
    assert {k: getattr(opt, k) for k in defaults} == defaults


@pytest.mark.parametrize("name", sorted(HAND))
def test_state_is_float64_arrays(name):
    opt = OPTIMIZERS[name]()
    _, state = opt.update(W, DW, opt.init(W))
    assert all(type(v) is np.ndarray and v.dtype == np.float64 for v in state.values())


@pytest.mark.parametrize("name", ["adagrad", "rmsprop", "adam"])
def test_zero_gradient_from_init_stays_finite(name):
    # eps outside the root: 0 / (sqrt(0) + eps) = 0, no 0/0.
    opt = OPTIMIZERS[name]()
    w, _ = opt.update(W, np.zeros_like(W), opt.init(W))
    assert np.array_equal(w, W)


def test_momentum_lecture_and_torch_forms_give_the_same_weights():
    lr, mu = 0.02, 0.9
    opt = OPTIMIZERS["momentum"](lr=lr, mu=mu)
    w, state = W.copy(), opt.init(W)
    w_torch, v_torch = W.copy(), np.zeros_like(W)
    for g in GRADS * 2:
        w, state = opt.update(w, g, state)
        v_torch = mu * v_torch + g  # torch: v <- mu v + g; w <- w - lr v
        w_torch = w_torch - lr * v_torch
    assert worst(w, w_torch) <= TOL
    assert worst(state["v"], -lr * v_torch) <= TOL


def test_nesterov_stores_the_lookahead_point():
    # The lecture's form on f(x) = sum(a x^2) / 2: v <- mu v - lr grad(x + mu v); x <- x + v.
    lr, mu, a = 0.05, 0.9, lin(0.5, 3.0)
    opt = OPTIMIZERS["nesterov"](lr=lr, mu=mu)
    w, state = W.copy(), opt.init(W)
    x, v = W.copy(), np.zeros_like(W)
    for _ in range(8):
        w, state = opt.update(w, a * w, state)
        v = mu * v - lr * a * (x + mu * v)
        x = x + v
        assert worst(w, x + mu * v) <= TOL


def test_adam_first_step_is_lr_with_bias_correction_and_3_16_lr_without():
    lr = 1e-3
    corrected, lecture = OPTIMIZERS["adam"](lr=lr), OPTIMIZERS["adam"](lr=lr, bias_correction=False)
    step = np.abs(corrected.update(W, DW, corrected.init(W))[0] - W)
    step_lecture = np.abs(lecture.update(W, DW, lecture.init(W))[0] - W)
    assert np.min(np.abs(DW)) > 1e-3  # |g| >> eps
    assert worst(step, np.full_like(W, lr)) <= 1e-5
    # Uncorrected: (1 - b1) |g| / sqrt(1 - b2) |g| = 0.1 / sqrt(0.001) = 3.16.
    assert worst(step_lecture, np.full_like(W, lr * 0.1 / np.sqrt(0.001))) <= 1e-5


def test_adam_state_counts_updates_from_zero():
    opt = OPTIMIZERS["adam"]()
    state = opt.init(W)
    counts = [float(state["t"])]
    for g in GRADS[:3]:
        _, state = opt.update(W, g, state)
        counts.append(float(state["t"]))
    assert counts == [0.0, 1.0, 2.0, 3.0]


def test_mismatched_grad_shape_is_rejected():
    with pytest.raises(ValueError, match="shape"):
        OPTIMIZERS["sgd"]().update(W, DW.T, {})


@pytest.mark.parametrize(
    "mutant", [m for m in MUTANTS if m.kind == "optimizers"], ids=lambda m: m.name
)
def test_checks_detect_mutant(mutant):
    assert run_checks(mutant.target, mutant.factory), f"{mutant.name} passes every check"


def test_every_optimizer_mutant_has_a_known_target():
    assert {m.target for m in MUTANTS if m.kind == "optimizers"} <= set(OPTIMIZERS)
