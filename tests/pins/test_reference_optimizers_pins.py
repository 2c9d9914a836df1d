"""The reference update rules (``gradekit_reference.optimizers``), pinned to the spec's
formulas: three steps of each rule against a scalar re-derivation entry by entry (the
CS231n-style ``linspace`` weights and gradients), each default (lr, mu 0.9, RMSProp beta
0.99, Adam 0.9 / 0.999, eps 1e-8 outside the root, bias correction on), the state each keeps,
Adam's first step of about lr (about 3.16 lr without bias correction), and purity."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gradekit_reference.optimizers import SGD, Adagrad, Adam, Momentum, Nesterov, RMSProp

W0 = np.linspace(-0.4, 0.6, 6).reshape(2, 3)
GRADS = [
    np.linspace(-0.6, 0.4, 6).reshape(2, 3),
    np.linspace(0.3, -0.2, 6).reshape(2, 3),
    np.linspace(-1e-4, 2e-4, 6).reshape(2, 3),
]


def run(opt, steps=3, dtype=np.float64):
    """Apply ``steps`` updates from W0; check each leaves its param, grad and state as given."""
    w, state = W0.copy(), opt.init(W0)
    states = [state]
    for g in GRADS[:steps]:
        param, grad = w.astype(dtype), g.astype(dtype)
        before = (param.copy(), grad.copy(), {k: v.copy() for k, v in state.items()})
        w, state = opt.update(param, grad, state)
        assert np.array_equal(param, before[0]) and np.array_equal(grad, before[1])
        assert all(np.array_equal(states[-1][k], v) for k, v in before[2].items())
        assert isinstance(w, np.ndarray) and w.dtype == np.float64
        assert all(v.dtype == np.float64 for v in state.values())
        states.append(state)
    return w, states


def by_entry(step):
    """Run a scalar rule ``step(w, g, state) -> (w, state)`` over every entry."""
    out = np.empty_like(W0)
    for idx in np.ndindex(W0.shape):
        w, state = float(W0[idx]), None
        for g in GRADS:
            w, state = step(w, float(g[idx]), state)
        out[idx] = w
    return out


def close(got, want, rtol=1e-12):
    np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-15)


def test_sgd_is_w_minus_lr_g_and_keeps_no_state():
    assert SGD().lr == 0.01 and SGD().init(W0) == {}
    w, states = run(SGD(lr=0.5))
    close(w, by_entry(lambda w, g, s: (w - 0.5 * g, None)))
    assert all(s == {} for s in states)
    close(run(SGD())[0], by_entry(lambda w, g, s: (w - 0.01 * g, None)))


def momentum_step(lr, mu):
    def step(w, g, v):
        v = mu * (v or 0.0) - lr * g
        return w + v, v

    return step


def test_momentum_is_the_lectures_v_mu_v_minus_lr_g():
    opt = Momentum()
    assert (opt.lr, opt.mu) == (0.01, 0.9)
    state = opt.init(W0.astype(np.float32))
    assert (
        list(state) == ["v"]
        and state["v"].dtype == np.float64
        and state["v"].tolist() == [[0.0] * 3] * 2
    )
    w, states = run(opt)
    close(w, by_entry(momentum_step(0.01, 0.9)))
    w, states = run(Momentum(lr=0.5, mu=0.8))
    close(w, by_entry(momentum_step(0.5, 0.8)))
    close(states[1]["v"], -0.5 * GRADS[0])
    assert list(states[-1]) == ["v"]


def nesterov_step(lr, mu):
    def step(w, g, v):
        v_prev = v or 0.0
        v = mu * v_prev - lr * g
        return w - mu * v_prev + (1 + mu) * v, v

    return step


def test_nesterov_steps_the_look_ahead_point():
    w, states = run(Nesterov())
    close(w, by_entry(nesterov_step(0.01, 0.9)))
    w, states = run(Nesterov(lr=0.5, mu=0.8))
    close(w, by_entry(nesterov_step(0.5, 0.8)))
    close(states[2]["v"], 0.8 * (-0.5 * GRADS[0]) - 0.5 * GRADS[1])
    assert list(states[-1]) == ["v"]


def adagrad_step(lr, eps):
    def step(w, g, s):
        s = (s or 0.0) + g * g
        return w - lr * g / (math.sqrt(s) + eps), s

    return step


def test_adagrad_sums_squared_gradients_with_eps_outside_the_root():
    opt = Adagrad()
    assert (opt.lr, opt.eps) == (0.01, 1e-8)
    state = opt.init(W0)
    assert list(state) == ["s"] and state["s"].dtype == np.float64 and not state["s"].any()
    assert state["s"].shape == (2, 3)
    close(run(opt)[0], by_entry(adagrad_step(0.01, 1e-8)))
    w, states = run(Adagrad(lr=0.5, eps=1e-2))
    close(w, by_entry(adagrad_step(0.5, 1e-2)))
    close(states[2]["s"], GRADS[0] ** 2 + GRADS[1] ** 2)


def rmsprop_step(lr, beta, eps):
    def step(w, g, s):
        s = beta * (s or 0.0) + (1 - beta) * g * g
        return w - lr * g / (math.sqrt(s) + eps), s

    return step


def test_rmsprop_averages_squared_gradients_with_beta_0_99():
    opt = RMSProp()
    assert (opt.lr, opt.beta, opt.eps) == (0.01, 0.99, 1e-8)
    state = opt.init(W0)
    assert list(state) == ["s"] and state["s"].dtype == np.float64 and not state["s"].any()
    assert state["s"].shape == (2, 3)
    close(run(opt)[0], by_entry(rmsprop_step(0.01, 0.99, 1e-8)))
    w, states = run(RMSProp(lr=0.5, beta=0.9, eps=1e-2))
    close(w, by_entry(rmsprop_step(0.5, 0.9, 1e-2)))
    close(states[1]["s"], 0.1 * GRADS[0] ** 2)


def adam_step(lr, b1, b2, eps, corrected=True):
    def step(w, g, state):
        m, v, t = state or (0.0, 0.0, 0)
        t += 1
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        mhat, vhat = (m / (1 - b1**t), v / (1 - b2**t)) if corrected else (m, v)
        return w - lr * mhat / (math.sqrt(vhat) + eps), (m, v, t)

    return step


def test_adam_defaults_and_state():
    opt = Adam()
    assert (opt.lr, opt.beta1, opt.beta2, opt.eps, opt.bias_correction) == (
        1e-3,
        0.9,
        0.999,
        1e-8,
        True,
    )
    state = opt.init(W0.astype(np.float32))
    assert list(state) == ["m", "v", "t"]
    assert state["m"].dtype == np.float64 and state["v"].dtype == np.float64
    assert state["m"].shape == (2, 3) and state["v"].shape == (2, 3)
    assert not state["m"].any() and not state["v"].any()
    assert not np.shares_memory(state["m"], state["v"])
    assert state["t"].shape == () and state["t"].dtype == np.float64 and float(state["t"]) == 0.0
    close(run(opt)[0], by_entry(adam_step(1e-3, 0.9, 0.999, 1e-8)))


def test_adam_corrects_the_bias_of_both_moments():
    w, states = run(Adam(lr=0.5, beta1=0.8, beta2=0.95, eps=1e-2))
    close(w, by_entry(adam_step(0.5, 0.8, 0.95, 1e-2)))
    assert [float(s["t"]) for s in states] == [0.0, 1.0, 2.0, 3.0]
    assert all(s["t"].shape == () for s in states)
    close(states[1]["m"], 0.2 * GRADS[0])
    close(states[1]["v"], 0.05 * GRADS[0] ** 2)


def test_adam_without_bias_correction_is_the_lectures_form():
    w, _ = run(Adam(lr=0.5, beta1=0.8, beta2=0.95, eps=1e-2, bias_correction=False))
    close(w, by_entry(adam_step(0.5, 0.8, 0.95, 1e-2, corrected=False)))


def test_adams_first_step_is_about_lr_and_about_3_16_lr_without_correction():
    g = np.array([0.5, -2.0])
    step = Adam(lr=0.1).update(np.zeros(2), g, Adam().init(np.zeros(2)))[0]
    np.testing.assert_allclose(step, -0.1 * np.sign(g), rtol=1e-6)
    lecture = Adam(lr=0.1, bias_correction=False)
    step = lecture.update(np.zeros(2), g, lecture.init(np.zeros(2)))[0]
    np.testing.assert_allclose(step, -0.1 * 0.1 / math.sqrt(0.001) * np.sign(g), rtol=1e-6)


@pytest.mark.parametrize("factory", [SGD, Momentum, Nesterov, Adagrad, RMSProp, Adam])
def test_float32_weights_and_gradients_step_in_float64(factory):
    opt = factory()
    close(run(opt, dtype=np.float32)[0], run(opt)[0], rtol=1e-6)
    for param, grad in [(np.longdouble, np.float64), (np.float64, np.longdouble)]:
        w, state = opt.update(W0.astype(param), GRADS[0].astype(grad), opt.init(W0))
        assert w.dtype == np.float64 and all(v.dtype == np.float64 for v in state.values())


@pytest.mark.parametrize("factory", [SGD, Momentum, Nesterov, Adagrad, RMSProp, Adam])
def test_a_gradient_of_another_shape_is_refused(factory):
    opt = factory()
    with pytest.raises(
        ValueError, match=r"grad has shape \(3,\), expected the shape of param \(2,\)"
    ):
        opt.update(np.zeros(2), np.zeros(3), opt.init(np.zeros(2)))
