"""Three independent correct submissions agree with the reference: a sanity net.

``tests/submissions/correct/`` holds three correct submissions written in different styles
(plain classes, a package with relative imports, factory functions returning closures),
with legitimately different formulations: other random-call orders, torch's momentum,
other state names, eigh instead of svd, other CutMix box rounding. Each is loaded as a
submission and compared with the reference in-process: deterministic components to
rtol 1e-9, random ones by their statistics or with p = 1.
"""

from __future__ import annotations

import functools
import inspect
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gradekit import load_catalog
from gradekit.components.training import TRANSFER_LABELS
from gradekit_reference import COMPONENTS

HERE = Path(__file__).parent / "submissions" / "correct"
SUBMISSIONS = {
    "alt_classes": HERE / "alt_classes.py",
    "alt_package": HERE / "alt_package",
    "alt_functional": HERE / "alt_functional.py",
}
RTOL, ATOL = 1e-9, 1e-12
"""ATOL absorbs tails computed to absolute (not relative) precision, e.g. a sigmoid as
0.5 (1 + tanh(x / 2)) or Phi as 0.5 (1 + erf(x / sqrt 2)) far below zero."""


@functools.cache
def _catalog(sub: str):
    return load_catalog(SUBMISSIONS[sub], reference=False, installed=False)


def alt(sub: str, kind: str, name: str, **kwargs: Any) -> Any:
    entry = _catalog(sub).get(kind, name, origin="submission")
    assert entry is not None, f"{sub} does not register {kind}[{name!r}]"
    return entry.factory(**kwargs)


def ref(kind: str, name: str, **kwargs: Any) -> Any:
    return COMPONENTS[kind][name](**kwargs)


def close(actual: Any, expected: Any, what: str = "") -> None:
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=ATOL, err_msg=what)


subs = pytest.mark.parametrize("sub", list(SUBMISSIONS))


# --- registration --------------------------------------------------------------------------


@subs
def test_registers_every_name_with_the_reference_signature(sub: str) -> None:
    catalog = _catalog(sub)
    for kind, components in COMPONENTS.items():
        assert catalog.names(kind) == sorted(components), kind
        for name, factory in components.items():
            got = inspect.signature(catalog.get(kind, name).factory).parameters
            want = inspect.signature(factory).parameters
            assert [(p.name, p.default) for p in got.values()] == [
                (p.name, p.default) for p in want.values()
            ], f"{kind}[{name!r}]"


# --- activations ---------------------------------------------------------------------------

EXTREMES = np.array([-1000.0, -50.0, -20.0, -5.0, -1e-3, 0.0, 1e-3, 5.0, 20.0, 50.0, 1000.0])
ACTIVATIONS = [
    ("sigmoid", {}),
    ("tanh", {}),
    ("relu", {}),
    ("leaky_relu", {}),
    ("leaky_relu", {"alpha": 0.3}),
    ("prelu", {}),
    ("prelu", {"num_parameters": 11, "init": 0.1}),
    ("elu", {}),
    ("elu", {"alpha": 0.5}),
    ("selu", {}),
    ("gelu", {}),
    ("gelu", {"approximate": True}),
    ("softplus", {}),
    ("swish", {}),
    ("swish", {"beta": 2.0}),
    ("silu", {}),
]


def _forward_backward(layer: Any, x: np.ndarray, dout: np.ndarray, training: bool = True):
    xc, dc = x.copy(), dout.copy()
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        y = layer.forward(xc, training=training)
        dx = layer.backward(dc)
    assert np.array_equal(xc, x) and np.array_equal(dc, dout), "an input was modified"
    return y, dx, {k: np.asarray(v) for k, v in layer.grads.items()}


def _compare_layers(a: Any, r: Any, x: np.ndarray, dout: np.ndarray, training: bool = True):
    ya, dxa, ga = _forward_backward(a, x, dout, training)
    yr, dxr, gr = _forward_backward(r, x, dout, training)
    close(ya, yr, "forward")
    close(dxa, dxr, "backward")
    assert sorted(ga) == sorted(gr)
    for k in gr:
        assert ga[k].shape == gr[k].shape, k
        close(ga[k], gr[k], f"grads[{k!r}]")


def _share_params(a: Any, r: Any, rng: np.random.Generator) -> None:
    """Give both the same (random) parameters, through ``params`` as the grader does."""
    assert sorted(a.params) == sorted(r.params)
    for k, v in r.params.items():
        assert np.shape(a.params[k]) == v.shape, k
        r.params[k] = rng.normal(size=v.shape) + (1.0 if k == "gamma" else 0.0)
        a.params[k] = r.params[k].copy()


@subs
@pytest.mark.parametrize(("name", "kwargs"), ACTIVATIONS)
def test_activation_matches_reference(sub: str, name: str, kwargs: dict) -> None:
    rng = np.random.default_rng(0)
    a, r = alt(sub, "activations", name, **kwargs), ref("activations", name, **kwargs)
    x = np.vstack([EXTREMES, 3.0 * rng.normal(size=(4, EXTREMES.size))])
    dout = rng.normal(size=x.shape)
    _compare_layers(a, r, x, dout)
    if name == "prelu":
        _share_params(a, r, rng)
        _compare_layers(a, r, x, dout)


# --- layers --------------------------------------------------------------------------------


@subs
@pytest.mark.parametrize("name", ["linear", "dropconnect"])
def test_linear_layers_match_reference(sub: str, name: str) -> None:
    rng = np.random.default_rng(1)
    kw = {"p": 1.0} if name == "dropconnect" else {}
    a = alt(sub, "layers", name, din=5, dout=3, rng=np.random.default_rng(2), **kw)
    r = ref("layers", name, din=5, dout=3, rng=np.random.default_rng(2), **kw)
    assert np.array_equal(a.params["b"], np.zeros(3))
    _share_params(a, r, rng)
    x, dout = rng.normal(size=(7, 5)), rng.normal(size=(7, 3))
    _compare_layers(a, r, x, dout)
    if name == "dropconnect":  # evaluation uses p W, whatever p
        a = alt(sub, "layers", name, din=5, dout=3, p=0.3)
        r = ref("layers", name, din=5, dout=3, p=0.3)
        _share_params(a, r, rng)
        _compare_layers(a, r, x, dout, training=False)


@subs
@pytest.mark.parametrize("name", ["linear", "dropconnect"])
def test_linear_layers_initialize_weights(sub: str, name: str) -> None:
    default = alt(sub, "layers", name, din=400, dout=500, rng=np.random.default_rng(3))
    assert default.params["W"].shape == (400, 500)
    assert abs(default.params["W"].std() / (1 / math.sqrt(400)) - 1) < 0.01
    const = alt(sub, "initializers", "constant", value=0.5)
    given = alt(sub, "layers", name, din=4, dout=2, weight_init=const)
    assert np.array_equal(given.params["W"], np.full((4, 2), 0.5))


@subs
def test_batchnorm_matches_reference(sub: str) -> None:
    rng = np.random.default_rng(4)
    a = alt(sub, "layers", "batchnorm", dim=4, momentum=0.2)
    r = ref("layers", "batchnorm", dim=4, momentum=0.2)
    _share_params(a, r, rng)
    for _ in range(3):
        x = rng.normal(2.0, 3.0, size=(9, 4))
        _compare_layers(a, r, x, rng.normal(size=x.shape))
        close(a.running_mean, r.running_mean, "running_mean")
        close(a.running_var, r.running_var, "running_var")
    _compare_layers(a, r, x, rng.normal(size=x.shape), training=False)
    close(a.running_var, r.running_var, "evaluation changed running_var")


@subs
@pytest.mark.parametrize("name", ["dropout", "vanilla_dropout"])
def test_dropout_keep_everything_and_evaluation(sub: str, name: str) -> None:
    rng = np.random.default_rng(5)
    x, dout = rng.normal(size=(6, 5)), rng.normal(size=(6, 5))
    _compare_layers(alt(sub, "layers", name, p=1.0), ref("layers", name, p=1.0), x, dout)
    a, r = alt(sub, "layers", name, p=0.3), ref("layers", name, p=0.3)
    _compare_layers(a, r, x, dout, training=False)


@subs
@pytest.mark.parametrize("name", ["dropout", "vanilla_dropout", "dropconnect"])
def test_dropout_statistics_come_from_the_rng_attribute(sub: str, name: str) -> None:
    p, shape = 0.3, (400, 250)
    args = {"din": shape[0], "dout": shape[1]} if name == "dropconnect" else {}
    layer = alt(sub, "layers", name, p=p, **args)
    if name == "dropconnect":
        layer.params["W"] = np.ones(shape)
    x = np.eye(shape[0]) if name == "dropconnect" else np.ones(shape)
    outs = []
    for _ in range(2):
        layer.rng = np.random.default_rng(6)
        outs.append(layer.forward(x, training=True))
    assert np.array_equal(outs[0], outs[1]), "the draws do not come from layer.rng"
    kept = outs[0] != 0
    assert abs(kept.mean() - p) < 4 * math.sqrt(p * (1 - p) / kept.size)
    scale = 1 / p if name == "dropout" else 1.0
    close(outs[0][kept], scale)
    if name != "dropconnect":  # backward reuses the mask
        close(layer.backward(np.full(shape, 2.0)), 2.0 * outs[0])


# --- losses --------------------------------------------------------------------------------


def _loss_cases(rng: np.random.Generator):
    z = rng.normal(size=(6, 4))
    soft = rng.uniform(size=(6, 4))
    big = np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 5.0]])
    pm = np.where(rng.random(6) < 0.5, -1.0, 1.0)
    return [
        ("squared_error", z, rng.normal(size=(6, 4))),
        ("squared_error", z[:, 0], rng.normal(size=6)),
        ("softmax_cross_entropy", z, rng.integers(0, 4, size=6)),
        ("softmax_cross_entropy", z, soft / soft.sum(axis=1, keepdims=True)),
        ("softmax_cross_entropy", big, np.array([2, 0])),
        ("hinge", 2.0 * z[:, 0], pm),
        ("hinge", 2.0 * z[:, :1], pm[:, None]),
        ("hinge", np.array([1.0, -1.0, 0.5, 2.0]), np.array([1.0, -1.0, 1.0, -1.0])),  # kinks
    ]


@subs
@pytest.mark.parametrize("case", range(8))
def test_loss_matches_reference(sub: str, case: int) -> None:
    name, y, t = _loss_cases(np.random.default_rng(7))[case]
    a, r = alt(sub, "losses", name), ref("losses", name)
    yc, tc = y.copy(), t.copy()
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        la, lr = a.forward(yc, tc), r.forward(y, t)
        ga, gr = a.backward(0.7), r.backward(0.7)
    assert np.array_equal(yc, y) and np.array_equal(tc, t)
    assert np.isfinite(la)
    close(la, lr, "loss")
    close(ga, gr, "gradient")


# --- initializers --------------------------------------------------------------------------

INIT_SHAPE = (500, 2000)  # 10^6 draws; fan_in != fan_out catches a swap


@functools.cache
def _reference_draws(name: str) -> np.ndarray:
    return ref("initializers", name)(INIT_SHAPE, np.random.default_rng(8))


@subs
@pytest.mark.parametrize("name", [n for n in COMPONENTS["initializers"] if n != "constant"])
def test_initializer_std_matches_reference(sub: str, name: str) -> None:
    w = alt(sub, "initializers", name)(INIT_SHAPE, np.random.default_rng(9))
    assert w.shape == INIT_SHAPE and w.dtype == np.float64
    want = _reference_draws(name)
    assert abs(w.std() / want.std() - 1) < 0.01
    assert abs(w.mean()) < 5 * want.std() / math.sqrt(w.size)
    if name.endswith("uniform"):
        assert abs(np.abs(w).max() / np.abs(want).max() - 1) < 1e-3


@subs
def test_constant_initializer(sub: str) -> None:
    w = alt(sub, "initializers", "constant", value=0.3)((3, 4), np.random.default_rng(0))
    assert np.array_equal(w, ref("initializers", "constant", value=0.3)((3, 4), None))


# --- optimizers and schedules --------------------------------------------------------------

OPTIMIZERS = [
    ("sgd", {}),
    ("sgd", {"lr": 0.1}),
    ("momentum", {}),
    ("momentum", {"lr": 0.05, "mu": 0.5}),
    ("nesterov", {}),
    ("nesterov", {"lr": 0.05, "mu": 0.7}),
    ("adagrad", {"lr": 0.1}),
    ("rmsprop", {}),
    ("rmsprop", {"lr": 0.05, "beta": 0.9, "eps": 1e-3}),
    ("adam", {}),
    ("adam", {"bias_correction": False}),
    ("adam", {"lr": 0.01, "beta1": 0.5, "beta2": 0.9, "eps": 1e-4}),
]


def _trajectory(opt: Any, steps: int = 5) -> list[np.ndarray]:
    w = np.linspace(-0.4, 0.6, 20).reshape(4, 5)
    state = opt.init(w.copy())
    out = []
    for t in range(steps):
        g = 2.0 * (w - 0.1) + np.sin(t + np.arange(20.0)).reshape(4, 5)
        saved = (w.copy(), g.copy(), {k: np.array(v, copy=True) for k, v in state.items()})
        w_new, state_new = opt.update(w, g, state)
        assert np.array_equal(w, saved[0]) and np.array_equal(g, saved[1]), "not pure"
        assert all(np.array_equal(state[k], v) for k, v in saved[2].items()), "state mutated"
        assert all(isinstance(v, np.ndarray) for v in state_new.values())
        w, state = w_new, state_new
        out.append(np.asarray(w))
    return out


@subs
@pytest.mark.parametrize(("name", "kwargs"), OPTIMIZERS)
def test_optimizer_trajectory_matches_reference(sub: str, name: str, kwargs: dict) -> None:
    got = _trajectory(alt(sub, "optimizers", name, **kwargs))
    want = _trajectory(ref("optimizers", name, **kwargs))
    for t, (a, r) in enumerate(zip(got, want, strict=True)):
        close(a, r, f"weights after step {t + 1}")


SCHEDULES = [
    ("step", {}),
    ("step", {"lr0": 0.5, "gamma": 0.5, "step_size": 7}),
    ("exponential", {}),
    ("exponential", {"lr0": 1.0, "k": 0.2}),
    ("inverse_time", {}),
    ("inverse_time", {"lr0": 0.3, "k": 0.5}),
]


@subs
@pytest.mark.parametrize(("name", "kwargs"), SCHEDULES)
def test_schedule_matches_reference(sub: str, name: str, kwargs: dict) -> None:
    a, r = alt(sub, "schedules", name, **kwargs), ref("schedules", name, **kwargs)
    got = [a(step) for step in range(200)]
    assert all(isinstance(v, float | np.floating) for v in got)
    close(got, [r(step) for step in range(200)])


# --- penalties and early stopping ----------------------------------------------------------


@subs
@pytest.mark.parametrize("name", ["l1", "l2"])
@pytest.mark.parametrize("lam", [1e-3, 0.5])
def test_penalty_matches_reference(sub: str, name: str, lam: float) -> None:
    w = np.random.default_rng(10).normal(size=(4, 6))
    w[0, :3] = 0.0
    wc = w.copy()
    a, r = alt(sub, "penalties", name, lam=lam), ref("penalties", name, lam=lam)
    close(a.penalty(wc), r.penalty(w))
    close(a.grad(wc), r.grad(w))
    assert np.array_equal(wc, w)


CURVE = [5.0, 4.0, 3.0, 3.5, 2.9, 2.97, 3.3, 2.8, 3.2, math.nan, 3.4, 3.6, 2.1, 2.3, 2.6, 3.0]


def _run_early_stopping(es: Any) -> tuple[int | None, float, np.ndarray]:
    w = np.zeros(3)
    stop = None
    for epoch, loss in enumerate(CURVE):
        w[:] = epoch  # the trainer updates in place: best_params must be copies
        if es.step(loss, {"w": w}):
            stop = epoch
            break
    return stop, es.best_loss, es.best_params["w"].copy()


@subs
@pytest.mark.parametrize("patience", [0, 1, 2, 3, 5])
@pytest.mark.parametrize("min_delta", [0.0, 0.04, 0.15])
def test_early_stopping_matches_reference(sub: str, patience: int, min_delta: float) -> None:
    kw = {"patience": patience, "min_delta": min_delta}
    assert alt(sub, "early_stopping", "early_stopping", **kw).best_loss == math.inf
    got = _run_early_stopping(alt(sub, "early_stopping", "early_stopping", **kw))
    want = _run_early_stopping(ref("early_stopping", "early_stopping", **kw))
    assert got[0] == want[0], "stop epoch"
    assert got[1] == want[1], "best_loss"
    assert np.array_equal(got[2], want[2]), "best_params"


# --- transforms ----------------------------------------------------------------------------


def _apply(sub: str, name: str, kwargs: dict, x: np.ndarray, y: np.ndarray, seed: int):
    xc, yc = x.copy(), y.copy()
    out_x, out_y = alt(sub, "transforms", name, **kwargs)(xc, yc, np.random.default_rng(seed))
    assert np.array_equal(xc, x) and np.array_equal(yc, y), "inputs modified"
    assert np.shape(out_x) == x.shape and np.shape(out_y) == y.shape
    return np.asarray(out_x), np.asarray(out_y)


@subs
@pytest.mark.parametrize(
    ("name", "kwargs"), [("mixup", {}), ("mixup", {"alpha": 1.0}), ("cutmix", {})]
)
def test_mixing_labels_are_the_pixel_shares(sub: str, name: str, kwargs: dict) -> None:
    """Image n is the constant one-hot of its class: its mean per channel IS its label."""
    n, k, size = 8, 5, 12
    y = np.eye(k)[np.arange(n) % k]
    x = np.broadcast_to(y[:, :, None, None], (n, k, size, size)).copy()
    for seed in range(5):
        out_x, out_y = _apply(sub, name, kwargs, x, y, seed)
        close(out_y.sum(axis=1), 1.0, "label rows sum to 1")
        close(out_x.mean(axis=(2, 3)), out_y, "labels = share of each image's pixels")


@subs
def test_flip(sub: str) -> None:
    x = np.arange(2000.0).reshape(1000, 1, 1, 2)
    y = np.eye(2)[np.arange(1000) % 2]
    out_x, out_y = _apply(sub, "flip", {"p": 0.3}, x, y, 0)
    assert np.array_equal(out_y, y)
    flipped = np.all(out_x == x[..., ::-1], axis=(1, 2, 3))
    assert np.all(flipped | np.all(out_x == x, axis=(1, 2, 3)))
    assert abs(flipped.mean() - 0.3) < 4 * math.sqrt(0.3 * 0.7 / 1000)


@subs
def test_crop_is_a_zero_filled_shift(sub: str) -> None:
    rng = np.random.default_rng(11)
    x, y = rng.uniform(1, 2, size=(6, 2, 8, 8)), np.eye(6)
    out_x, out_y = _apply(sub, "crop", {"padding": 2}, x, y, 1)
    assert np.array_equal(out_y, y)
    padded = np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2)))
    for i in range(6):
        windows = [padded[i, :, r : r + 8, c : c + 8] for r in range(5) for c in range(5)]
        assert any(np.array_equal(out_x[i], w) for w in windows), i


@subs
def test_noise(sub: str) -> None:
    x, y = np.ones((50, 2, 10, 10)), np.eye(50)
    out_x, out_y = _apply(sub, "noise", {"std": 0.3}, x, y, 2)
    assert np.array_equal(out_y, y)
    assert abs((out_x - x).std() / 0.3 - 1) < 0.05


@subs
def test_cutout(sub: str) -> None:
    x, y = np.random.default_rng(12).uniform(1, 2, size=(20, 3, 10, 10)), np.eye(20)
    out_x, out_y = _apply(sub, "cutout", {"size": 4}, x, y, 3)
    assert np.array_equal(out_y, y)
    zero = out_x == 0
    assert np.array_equal(out_x[~zero], x[~zero])
    assert np.all(zero == zero[:, :1]), "the same square in every channel"
    counts = zero[:, 0].sum(axis=(1, 2))
    assert counts.max() <= 16 and counts.mean() > 4


@subs
def test_rotation_pretext(sub: str) -> None:
    x = np.random.default_rng(14).normal(size=(800, 2, 3, 3))
    y = np.full((800, 4), 0.25)
    out_x, out_y = _apply(sub, "rotation_pretext", {}, x, y, 4)
    k = out_y.argmax(axis=1)
    assert np.array_equal(out_y, np.eye(4)[k]), "labels one-hot of k"
    for i in range(800):
        assert np.array_equal(out_x[i], np.rot90(x[i], k[i], axes=(-2, -1))), i
    assert np.abs(np.bincount(k, minlength=4) / 800 - 0.25).max() < 4 * math.sqrt(3 / 16 / 800)


# --- preprocessors -------------------------------------------------------------------------


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(13)
    mix = rng.normal(size=(5, 5)) * np.array([5.0, 3.0, 2.0, 1.0, 0.5])[:, None]
    return rng.normal(size=(200, 5)) @ mix + 3.0, rng.normal(size=(30, 5)) @ mix


def _up_to_column_sign(a: np.ndarray, r: np.ndarray) -> np.ndarray:
    signs = np.sign(np.sum(a * r, axis=0))
    return a * signs


@subs
@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("zero_center", {}),
        ("standardize", {}),
        ("pca", {}),
        ("pca", {"k": 3}),
        ("whitening", {}),
        ("whitening", {"zca": True}),
        ("whitening", {"eps": 0.1}),
    ],
)
def test_preprocessor_matches_reference(sub: str, name: str, kwargs: dict) -> None:
    train, test = _data()
    tc = train.copy()
    a = alt(sub, "preprocessors", name, **kwargs)
    assert a.fit(tc) is a
    assert np.array_equal(tc, train)
    r = ref("preprocessors", name, **kwargs).fit(train)
    for data in (train, test):
        got, want = a.transform(data.copy()), r.transform(data)
        assert got.shape == want.shape
        if name == "pca" or (name == "whitening" and not kwargs.get("zca")):
            got = _up_to_column_sign(got, want)
        np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-9)


# --- search strategies, trainers and diagnosers --------------------------------------------

SPACE = {"lr": (1e-4, 1.0), "reg": (1e-5, 1e-1)}


def _array(settings: list[dict]) -> np.ndarray:
    return np.array([[s[k] for k in sorted(SPACE)] for s in settings])


@subs
@pytest.mark.parametrize("log", [False, True])
def test_grid_matches_reference(sub: str, log: bool) -> None:
    got = _array(alt(sub, "search", "grid", log=log).propose(SPACE, 4, None))
    want = _array(ref("search", "grid", log=log).propose(SPACE, 4, None))
    order = lambda a: a[np.lexsort(a.T[::-1])]  # noqa: E731
    close(order(got), order(want))


@subs
@pytest.mark.parametrize(("name", "log"), [("random", False), ("log_uniform", True)])
def test_random_draws_follow_the_reference_law(sub: str, name: str, log: bool) -> None:
    from gradekit.checks.search import ks_distance, ks_limit

    got = _array(alt(sub, "search", name).propose(SPACE, 3000, np.random.default_rng(14)))
    want = _array(ref("search", name).propose(SPACE, 3000, np.random.default_rng(15)))
    assert np.all(got >= [1e-4, 1e-5]) and np.all(got <= [1.0, 1e-1])
    f = np.log10 if log else (lambda v: v)
    for j in range(2):
        assert ks_distance(f(got[:, j]), f(want[:, j])) < ks_limit(3000, 3000, 1e-4)


@subs
def test_coarse_to_fine_refines_like_the_reference(sub: str) -> None:
    rng = np.random.default_rng(16)
    first = alt(sub, "search", "coarse_to_fine").propose(SPACE, 40, rng)
    results = [(s, (np.log10(s["lr"]) + 3) ** 2 + (np.log10(s["reg"]) + 4) ** 2) for s in first]
    winner = min(results, key=lambda r: r[1])[0]
    best = np.log10([winner[k] for k in sorted(SPACE)])
    for strategy in (alt(sub, "search", "coarse_to_fine"), ref("search", "coarse_to_fine")):
        logs = np.log10(_array(strategy.refine(SPACE, results, 200, np.random.default_rng(17))))
        span = np.ptp(logs, axis=0) / np.array([4.0, 4.0])
        assert np.all(span < 0.6), span
        assert np.all(np.abs(np.median(logs, axis=0) - best) < 0.6)


def _train(trainer: Any, script: Any = None, optimizer: str = "sgd", **rule: float):
    from gradekit import regression

    data = {k: v.copy() for k, v in regression.dataset().items()}
    model = regression.LoggedModel(regression.initial_params(seed=3), data, script)
    opt = regression.ModelOptimizer(model, optimizer, {"lr": 0.05, **rule})
    history = trainer.fit(model, opt, data, np.random.default_rng(4))
    model.calls = opt.calls
    return model, history


@subs
@pytest.mark.parametrize("optimizer", ["sgd", "momentum"])
def test_full_batch_training_matches_reference(sub: str, optimizer: str) -> None:
    """With one batch per epoch the order of the examples does not matter."""
    kw = {"epochs": 6, "batch_size": 96}
    got, got_history = _train(alt(sub, "trainers", "minibatch", **kw), optimizer=optimizer)
    want, want_history = _train(ref("trainers", "minibatch", **kw), optimizer=optimizer)
    for k in want.params:
        close(got.params[k], want.params[k], k)
    close(got_history["val_loss"], want_history["val_loss"])
    close(got_history["train_loss"], want_history["train_loss"])


@subs
@pytest.mark.parametrize("patience", [1, 3])
def test_trainer_stops_and_restores_like_reference(sub: str, patience: int) -> None:
    script = [5.0, 4.0, 3.0, 3.5, 2.9, 3.0, 3.0, 3.2, 2.95, 3.3, 3.4, 3.6, 3.7]
    kw = {"epochs": 30, "batch_size": 32, "patience": patience}
    got, got_history = _train(alt(sub, "trainers", "minibatch", **kw), script)
    _, want_history = _train(ref("trainers", "minibatch", **kw), script)
    assert len(got_history["val_loss"]) == len(want_history["val_loss"])
    close(got_history["val_loss"], want_history["val_loss"])
    vals = [e for e in got.log if e["val"]]
    best = vals[int(np.argmin(script[: len(vals)]))]["params"]
    for k in best:
        assert np.array_equal(got.params[k], best[k]), k


@subs
@pytest.mark.parametrize("trainable", [("W2", "b2"), ("W1", "W2")])
def test_frozen_parameters_stay_and_the_others_train_like_reference(
    sub: str, trainable: tuple[str, ...]
) -> None:
    """With one batch per epoch, under momentum and weight decay: frozen parameters never
    move nor meet the optimizer, and the trained ones end where the reference's do."""
    kw = {"epochs": 5, "batch_size": 96, "trainable": list(trainable)}
    got, _ = _train(alt(sub, "trainers", "minibatch", **kw), None, "momentum", weight_decay=0.1)
    want, _ = _train(ref("trainers", "minibatch", **kw), None, "momentum", weight_decay=0.1)
    start = got.log[0]["params"]
    for k in want.params:
        if k in trainable:
            close(got.params[k], want.params[k], k)
            assert not np.array_equal(got.params[k], start[k]), k
        else:
            assert all(np.array_equal(e["params"][k], start[k]) for e in got.log), k
            assert got.calls["init"][k] == got.calls["update"][k] == 0, k


ADVICE = [
    (10, 0.9, "linear_on_top"),
    (999, 0.5, "linear_on_top"),
    (999, 0.4999, "linear_from_stages"),
    (1000, 0.5, "finetune_few"),
    (1000, 0.4999, "finetune_many"),
    (10**6, 0.0, "finetune_many"),
]


@subs
@pytest.mark.parametrize(("size", "similarity", "cell"), ADVICE)
def test_advice_names_the_reference_cell(sub: str, size: int, similarity: float, cell: str) -> None:
    from gradekit.routines import advise_table

    for diagnoser in (alt(sub, "diagnosers", "curves"), ref("diagnosers", "curves")):
        got = advise_table(diagnoser, np.array([size]), np.array([similarity]))["cells"]
        assert got.tolist() == [TRANSFER_LABELS.index(cell)]


@subs
def test_diagnoser_agrees_with_reference(sub: str) -> None:
    from gradekit.checks.diagnosis import DiagnosisOptions, curve_bank, recipe_bank

    a, r = alt(sub, "diagnosers", "curves"), ref("diagnosers", "curves")
    options = DiagnosisOptions(per_shape=10, per_cell=6)
    answers = []
    for seed in range(5):
        train, val, _ = curve_bank(seed, options)
        answers += [a.diagnose(t, v) == r.diagnose(t, v) for t, v in zip(train, val, strict=True)]
        rows, _ = recipe_bank(seed, options)
        answers += [a.recipe(*row) == r.recipe(*row) for row in rows]
    assert np.mean(answers) >= 0.99
    for train_err, test_err, cell in [
        (0.01, 0.11, "high_variance"),
        (0.15, 0.30, "high_bias_and_variance"),
    ]:
        assert a.recipe(train_err, test_err) == cell
