"""A correct submission whose registered factories are functions that build closures.

Each factory returns a small ``SimpleNamespace`` (or a plain function) whose methods are
closures reading their hyperparameters and, for layers, ``ns.params`` and ``ns.rng`` at
call time, so the grader may replace either. One of three independent correct
submissions (with ``alt_classes.py`` and ``alt_package``).
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np

import gradekit


def _erfc(z):
    return np.frompyfunc(math.erfc, 1, 1)(z).astype(np.float64)


def _sigmoid(z):
    """exp(-softplus(-z)): never overflows and keeps full relative precision in the tails."""
    return np.exp(-np.logaddexp(0.0, -z))


def _activation(fwd, bwd):
    """An activation from f(x) -> (y, cache) and f'(cache) (backward is dout * f')."""
    ns = SimpleNamespace(params={}, grads={}, cache=None)

    def forward(x, *, training=True):
        y, ns.cache = fwd(x)
        return y

    def backward(dout):
        return dout * bwd(ns.cache)

    ns.forward, ns.backward = forward, backward
    return ns


# --- layers --------------------------------------------------------------------------------


def _weights(din, dout, weight_init, rng):
    if weight_init is None:
        return rng.standard_normal((dout, din)).T / math.sqrt(din)
    return weight_init((din, dout), rng)


def linear(din, dout, weight_init=None, rng=None):
    rng = np.random.default_rng() if rng is None else rng
    ns = SimpleNamespace(rng=rng, grads={})
    ns.params = {"W": _weights(din, dout, weight_init, rng), "b": np.zeros(dout)}

    def forward(x, *, training=True):
        ns.x = x
        return np.matmul(x, ns.params["W"]) + ns.params["b"][None, :]

    def backward(dout):
        ns.grads = {"W": np.matmul(ns.x.T, dout), "b": np.sum(dout, axis=0)}
        return np.matmul(dout, ns.params["W"].T)

    ns.forward, ns.backward = forward, backward
    return ns


def batchnorm(dim, eps=1e-5, momentum=0.1):
    ns = SimpleNamespace(grads={}, running_mean=np.zeros(dim), running_var=np.ones(dim))
    ns.params = {"gamma": np.ones(dim), "beta": np.zeros(dim)}

    def forward(x, *, training=True):
        if training:
            mean, var = np.mean(x, axis=0), np.var(x, axis=0)
            ns.running_mean = momentum * mean + (1.0 - momentum) * ns.running_mean
            ns.running_var = momentum * var + (1.0 - momentum) * ns.running_var
        else:
            mean, var = ns.running_mean, ns.running_var
        inv = (var + eps) ** -0.5
        xhat = (x - mean) * inv
        ns.cache = (xhat, inv, training)
        return xhat * ns.params["gamma"] + ns.params["beta"]

    def backward(dout):
        xhat, inv, training = ns.cache
        ns.grads = {"gamma": np.sum(xhat * dout, axis=0), "beta": np.sum(dout, axis=0)}
        g = dout * ns.params["gamma"]
        if training:
            g = g - g.mean(axis=0) - xhat * (g * xhat).mean(axis=0)
        return g * inv

    ns.forward, ns.backward = forward, backward
    return ns


def _dropout(p, rng, train_mask, test_scale):
    ns = SimpleNamespace(params={}, grads={}, p=p)
    ns.rng = np.random.default_rng() if rng is None else rng

    def forward(x, *, training=True):
        ns.scale = train_mask(ns.rng.uniform(size=np.shape(x)) < p) if training else test_scale
        return x * ns.scale

    def backward(dout):
        return dout * ns.scale

    ns.forward, ns.backward = forward, backward
    return ns


def dropout(p=0.5, rng=None):
    return _dropout(p, rng, lambda keep: np.where(keep, 1.0 / p, 0.0), 1.0)


def vanilla_dropout(p=0.5, rng=None):
    return _dropout(p, rng, lambda keep: keep * 1.0, p)


def dropconnect(din, dout, p=0.5, weight_init=None, rng=None):
    rng = np.random.default_rng() if rng is None else rng
    ns = SimpleNamespace(rng=rng, grads={}, p=p)
    ns.params = {"W": _weights(din, dout, weight_init, rng), "b": np.zeros(dout)}

    def forward(x, *, training=True):
        W = ns.params["W"]
        mask = ns.rng.uniform(size=W.shape) < p if training else np.full(W.shape, p)
        ns.cache = (x, mask * 1.0)
        return x @ (mask * W) + ns.params["b"]

    def backward(dout):
        x, mask = ns.cache
        ns.grads = {"W": mask * (x.T @ dout), "b": dout.sum(axis=0)}
        return dout @ (mask * ns.params["W"]).T

    ns.forward, ns.backward = forward, backward
    return ns


# --- activations ---------------------------------------------------------------------------


def sigmoid():
    def fwd(x):
        s = _sigmoid(x)
        return s, s

    return _activation(fwd, lambda s: s * (1.0 - s))


def tanh():
    def fwd(x):
        y = np.tanh(x)
        return y, y

    return _activation(fwd, lambda y: 1.0 - y * y)


def relu():
    return _activation(lambda x: (x * (x > 0), x > 0), lambda mask: mask * 1.0)


def leaky_relu(alpha=0.1):
    def fwd(x):
        slope = np.where(x > 0, 1.0, alpha)
        return x * slope, slope

    return _activation(fwd, lambda slope: slope)


def prelu(num_parameters=1, init=0.25):
    ns = SimpleNamespace(params={"a": np.repeat(float(init), num_parameters)}, grads={})

    def forward(x, *, training=True):
        ns.x = x
        return x * np.where(x > 0, 1.0, ns.params["a"])

    def backward(dout):
        x, a = ns.x, ns.params["a"]
        da = (dout * np.where(x > 0, 0.0, x)).reshape(-1, x.shape[-1]).sum(axis=0)
        ns.grads = {"a": da if a.shape[0] > 1 else np.array([da.sum()])}
        return dout * np.where(x > 0, 1.0, a)

    ns.forward, ns.backward = forward, backward
    return ns


def _elu_parts(alpha, scale):
    def fwd(x):
        neg = np.minimum(x, 0.0)
        return scale * (np.maximum(x, 0.0) + alpha * np.expm1(neg)), x

    def deriv(x):
        return scale * np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0.0)))

    return fwd, deriv


def elu(alpha=1.0):
    return _activation(*_elu_parts(alpha, 1.0))


def selu():
    return _activation(*_elu_parts(1.6732632423543772, 1.0507009873554805))


def gelu(approximate=False):
    if approximate:
        k = math.sqrt(2.0 / math.pi)

        def fwd(x):
            u = k * (x + 0.044715 * x**3)
            th = np.tanh(u)
            return x * (1.0 + th) / 2.0, (x, th)

        def deriv(cache):
            x, th = cache
            return (1.0 + th) / 2.0 + x * (1.0 - th) * (1.0 + th) * k * (
                1.0 + 0.134145 * x**2
            ) / 2.0

        return _activation(fwd, deriv)

    def fwd_exact(x):
        cdf = 0.5 * _erfc(-x / math.sqrt(2.0))
        return x * cdf, (x, cdf)

    def deriv_exact(cache):
        x, cdf = cache
        return cdf + x * np.exp(-(x**2) / 2.0) / math.sqrt(2.0 * math.pi)

    return _activation(fwd_exact, deriv_exact)


def softplus():
    def fwd(x):
        """torch's threshold: log(1 + e^x) is x to 2e-9 for x > 20."""
        return np.where(x > 20.0, x, np.log1p(np.exp(np.minimum(x, 20.0)))), x

    return _activation(fwd, _sigmoid)


def swish(beta=1.0):
    def fwd(x):
        s = _sigmoid(beta * x)
        return x * s, (x, s)

    def deriv(cache):
        x, s = cache
        return s * (1.0 + beta * x * (1.0 - s))

    return _activation(fwd, deriv)


# --- losses --------------------------------------------------------------------------------


def _loss(value_and_grad):
    """A loss from f(y, t) -> (per-batch sum, d(sum)/dy); averaging happens here."""
    ns = SimpleNamespace()

    def forward(y, t):
        total, ns.grad = value_and_grad(y, t)
        ns.n = len(y)
        return float(total) / ns.n

    def backward(dout=1.0):
        return ns.grad * (dout / ns.n)

    ns.forward, ns.backward = forward, backward
    return ns


def squared_error():
    def f(y, t):
        d = y - t
        return (d**2).reshape(len(y), -1).sum(axis=1).sum(), d + d

    return _loss(f)


def softmax_cross_entropy():
    def f(z, t):
        m = z.max(axis=1, keepdims=True)
        e = np.exp(z - m)
        se = e.sum(axis=1, keepdims=True)
        lse = m + np.log(se)
        p = e / se
        if t.ndim == 1:
            rows, cols = np.arange(len(z)), t.astype(np.int64)
            grad = p.copy()
            grad[rows, cols] -= 1.0
            return np.sum(lse[:, 0] - z[rows, cols]), grad
        mass = t.sum(axis=1, keepdims=True)
        return np.sum(mass * lse) - np.sum(t * z), p * mass - t

    return _loss(f)


def hinge():
    def f(z, t):
        margin = 1.0 - z * t
        return np.clip(margin, 0.0, None).sum(), np.where(margin > 0.0, -t, 0.0)

    return _loss(f)


# --- initializers --------------------------------------------------------------------------


def _gaussian(std_of):
    def draw(shape, rng):
        return rng.standard_normal(tuple(shape)[::-1]).T * std_of(*shape)

    return draw


def _uniform(limit_of):
    def draw(shape, rng):
        return limit_of(*shape) * rng.uniform(-1.0, 1.0, size=shape)

    return draw


def constant(value=0.0):
    return lambda shape, rng: np.full(shape, value, dtype=np.float64)


def normal(std=0.01):
    return _gaussian(lambda fi, fo: std)


def uniform(limit=0.05):
    return _uniform(lambda fi, fo: limit)


def xavier():
    return _gaussian(lambda fi, fo: math.sqrt(1.0 / fi))


def xavier_uniform():
    return _uniform(lambda fi, fo: math.sqrt(3.0 / fi))


def glorot():
    return _gaussian(lambda fi, fo: math.sqrt(2.0 / (fi + fo)))


def glorot_uniform():
    return _uniform(lambda fi, fo: math.sqrt(6.0 / (fi + fo)))


def he():
    return _gaussian(lambda fi, fo: math.sqrt(2.0 / fi))


def he_uniform():
    return _uniform(lambda fi, fo: math.sqrt(6.0 / fi))


# --- optimizers and schedules --------------------------------------------------------------


def _optimizer(init, update):
    return SimpleNamespace(init=init, update=update)


def sgd(lr=0.01):
    return _optimizer(
        lambda param: {"count": np.zeros((), dtype=np.int64)},
        lambda param, grad, state: (param - grad * lr, {"count": np.asarray(state["count"] + 1)}),
    )


def _zeros(*names):
    return lambda param: {name: np.zeros(param.shape) for name in names}


def momentum(lr=0.01, mu=0.9):
    def update(param, grad, state):
        velocity = mu * state["velocity"] - lr * grad
        return param + velocity, {"velocity": velocity}

    return _optimizer(_zeros("velocity"), update)


def nesterov(lr=0.01, mu=0.9):
    def update(param, grad, state):
        old = state["velocity"]
        new = mu * old - lr * grad
        return param + new + mu * (new - old), {"velocity": new}

    return _optimizer(_zeros("velocity"), update)


def adagrad(lr=0.01, eps=1e-8):
    def update(param, grad, state):
        total = state["sum_sq"] + grad * grad
        return param - lr / (np.sqrt(total) + eps) * grad, {"sum_sq": total}

    return _optimizer(_zeros("sum_sq"), update)


def rmsprop(lr=0.01, beta=0.99, eps=1e-8):
    def update(param, grad, state):
        ms = beta * state["ms"] + (1.0 - beta) * grad * grad
        return param - lr * grad / (np.sqrt(ms) + eps), {"ms": ms}

    return _optimizer(_zeros("ms"), update)


def adam(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, bias_correction=True):
    def init(param):
        return {
            "t": np.zeros((), dtype=np.int64),
            "m": np.zeros(param.shape),
            "v": np.zeros(param.shape),
        }

    def update(param, grad, state):
        t = int(state["t"]) + 1
        m = beta1 * state["m"] + (1.0 - beta1) * grad
        v = beta2 * state["v"] + (1.0 - beta2) * np.square(grad)
        if bias_correction:
            numer = m / (1.0 - beta1**t)
            denom = np.sqrt(v) / math.sqrt(1.0 - beta2**t) + eps
        else:
            numer, denom = m, np.sqrt(v) + eps
        return param - lr * numer / denom, {"t": np.asarray(t, dtype=np.int64), "m": m, "v": v}

    return _optimizer(init, update)


def step_decay(lr0=0.1, gamma=0.1, step_size=30):
    return lambda step: lr0 * gamma ** int(step / step_size)


def exponential_decay(lr0=0.1, k=0.01):
    return lambda step: float(lr0 * np.exp(-k * step))


def inverse_time_decay(lr0=0.1, k=0.01):
    return lambda step: lr0 / (1.0 + k * step)


# --- penalties and early stopping ----------------------------------------------------------


def l2(lam=1e-3):
    return SimpleNamespace(
        penalty=lambda w: float(lam * np.sum(np.square(w)) / 2.0),
        grad=lambda w: np.multiply(lam, w),
    )


def l1(lam=1e-3):
    return SimpleNamespace(
        penalty=lambda w: float(np.abs(w).sum() * lam),
        grad=lambda w: np.sign(w) * lam,
    )


def early_stopping(patience=5, min_delta=0.0):
    ns = SimpleNamespace(best_loss=math.inf, best_params=None)
    wait = 0

    def step(val_loss, params):
        nonlocal wait
        if val_loss + min_delta < ns.best_loss:
            ns.best_loss = val_loss
            ns.best_params = {key: np.copy(value) for key, value in params.items()}
            wait = 0
            return False
        wait += 1
        return wait > patience - 1

    ns.step = step
    return ns


# --- transforms ----------------------------------------------------------------------------


def mixup(alpha=0.2):
    def transform(x, y, rng):
        rng.random()  # an unused draw: only the statistics of the result are checked
        lam = rng.beta(alpha, alpha)
        n = len(x)
        mix = lam * np.eye(n) + (1.0 - lam) * np.eye(n)[rng.permutation(n)]
        return (mix @ x.reshape(n, -1)).reshape(x.shape), mix @ y

    return transform


def cutmix(beta=1.0):
    def transform(x, y, rng):
        n, _, H, W = x.shape
        lam = rng.beta(beta, beta)
        perm = rng.permutation(n)
        cut_h = math.ceil(H * math.sqrt(1.0 - lam))
        cut_w = math.ceil(W * math.sqrt(1.0 - lam))
        cy, cx = int(rng.uniform(0, H)), int(rng.uniform(0, W))
        r0, c0 = cy - cut_h // 2, cx - cut_w // 2
        r1, c1 = min(r0 + cut_h, H), min(c0 + cut_w, W)
        r0, c0 = max(r0, 0), max(c0, 0)
        out = np.array(x, copy=True)
        out[:, :, r0:r1, c0:c1] = x[perm, :, r0:r1, c0:c1]
        area = max(r1 - r0, 0) * max(c1 - c0, 0)
        lam_box = 1.0 - area / float(H * W)
        return out, lam_box * y + (1.0 - lam_box) * y[perm]

    return transform


def horizontal_flip(p=0.5):
    def transform(x, y, rng):
        chosen = rng.uniform(size=len(x)) < p
        out = np.array(x, copy=True)
        for i in np.flatnonzero(chosen):
            out[i] = x[i, :, :, ::-1]
        return out, np.array(y, copy=True)

    return transform


def random_crop(padding=4):
    def transform(x, y, rng):
        _, _, H, W = x.shape
        out = np.zeros_like(x)
        for i in range(len(x)):
            dy, dx = rng.integers(-padding, padding + 1, size=2)
            out[i, :, max(dy, 0) : H + min(dy, 0), max(dx, 0) : W + min(dx, 0)] = x[
                i, :, max(-dy, 0) : H + min(-dy, 0), max(-dx, 0) : W + min(-dx, 0)
            ]
        return out, np.array(y, copy=True)

    return transform


def gaussian_noise(std=0.1):
    def transform(x, y, rng):
        return x + rng.standard_normal(x.shape[::-1]).T * std, np.array(y, copy=True)

    return transform


def cutout(size=8):
    def transform(x, y, rng):
        n, _, H, W = x.shape
        out = np.array(x, copy=True)
        for i in range(n):
            cy, cx = rng.integers(H), rng.integers(W)
            rows = np.abs(np.arange(H) - cy + size // 2 - (size - 1) / 2) <= (size - 1) / 2
            cols = np.abs(np.arange(W) - cx + size // 2 - (size - 1) / 2) <= (size - 1) / 2
            out[i][:, np.outer(rows, cols)] = 0.0
        return out, np.array(y, copy=True)

    return transform


def rotation_pretext():
    def transform(x, y, rng):
        ks = rng.integers(0, 4, size=len(x))
        out = np.array(x, dtype=np.float64, copy=True)
        for k in (1, 2, 3):
            out[ks == k] = np.rot90(x[ks == k], k, axes=(2, 3))
        labels = np.zeros((len(x), 4))
        labels[np.arange(len(x)), ks] = 1.0
        return out, labels

    return transform


# --- preprocessors -------------------------------------------------------------------------


def _preprocessor(fit_stats, apply):
    ns = SimpleNamespace(stats=None)

    def fit(x):
        ns.stats = fit_stats(np.asarray(x, dtype=np.float64))
        return ns

    ns.fit = fit
    ns.transform = lambda x: apply(x, ns.stats)
    return ns


def zero_center():
    return _preprocessor(lambda x: x.mean(axis=0), lambda x, mean: x - mean)


def standardize(eps=1e-8):
    def stats(x):
        return x.mean(axis=0), np.sqrt(x.var(axis=0) + eps)

    return _preprocessor(stats, lambda x, s: (x - s[0]) / s[1])


def _principal_axes(x):
    """The eigenvectors and eigenvalues of Xc^T Xc / N from the SVD of the data itself."""
    mean = x.mean(axis=0)
    _, sing, vt = np.linalg.svd(x - mean, full_matrices=True)
    variances = np.zeros(x.shape[1])
    variances[: sing.size] = sing**2 / x.shape[0]
    return mean, vt.T, variances


def pca(k=None):
    def stats(x):
        mean, axes, _ = _principal_axes(x)
        return mean, axes[:, :k]

    return _preprocessor(stats, lambda x, s: (x - s[0]) @ s[1])


def whitening(eps=1e-5, zca=False):
    def stats(x):
        mean, axes, variances = _principal_axes(x)
        w = axes * (1.0 / np.sqrt(variances + eps))[None, :]
        return mean, (w @ axes.T if zca else w)

    return _preprocessor(stats, lambda x, s: (x - s[0]) @ s[1])


# --- search strategies, the trainer and the diagnoser --------------------------------------


def _strategy(draw):
    """A strategy whose ``propose`` draws an (n, d) array ``draw(lows, highs, n, rng)``."""

    def propose(space, n, rng):
        names = sorted(space)
        lows = np.array([space[k][0] for k in names], dtype=float)
        highs = np.array([space[k][1] for k in names], dtype=float)
        values = draw(lows, highs, n, rng)
        return [dict(zip(names, map(float, row), strict=True)) for row in values]

    return propose


def _uniform_box(lows, highs, n, rng):
    return rng.uniform(lows, highs, size=(n, len(lows)))


def _log_uniform_box(lows, highs, n, rng):
    return np.power(10.0, rng.uniform(np.log10(lows), np.log10(highs), size=(n, len(lows))))


def grid(log=False):
    def draw(lows, highs, n, rng):
        if log:
            axes = [
                np.logspace(np.log10(a), np.log10(b), n) for a, b in zip(lows, highs, strict=True)
            ]
        else:
            axes = [np.linspace(a, b, n) for a, b in zip(lows, highs, strict=True)]
        return np.array(np.meshgrid(*axes, indexing="ij")).reshape(len(axes), -1).T

    return SimpleNamespace(propose=_strategy(draw))


def random_search():
    return SimpleNamespace(propose=_strategy(_uniform_box))


def log_uniform():
    return SimpleNamespace(propose=_strategy(_log_uniform_box))


def coarse_to_fine(keep=0.2, margin=0.05):
    propose = _strategy(_log_uniform_box)

    def refine(space, results, n, rng):
        k = max(2, math.ceil(keep * len(results)))
        top = sorted(results, key=lambda r: r[1])[:k]
        box = {}
        for name, (lo, hi) in space.items():
            logs = np.log10([setting[name] for setting, _ in top])
            pad = margin * np.log10(hi / lo)
            box[name] = (
                max(lo, 10 ** (logs.min() - pad)),
                min(hi, 10 ** (logs.max() + pad)),
            )
        return propose(box, n, rng)

    return SimpleNamespace(propose=propose, refine=refine)


def minibatch(epochs=20, batch_size=16, patience=None, trainable=None):
    def squared_error(y, t):
        r = y - t
        return float(np.sum(r * r)) / r.shape[0], r * (2.0 / r.shape[0])

    def fit(model, optimizer, data, rng):
        n = data["x"].shape[0]
        names = list(model.params) if trainable is None else list(trainable)
        state = {k: optimizer.init(model.params[k]) for k in names}
        hist = {"train_loss": [], "val_loss": []}
        best, kept, waited = None, None, 0
        for _ in range(epochs):
            perm = rng.permutation(n)
            losses = []
            for batch in (perm[i : i + batch_size] for i in range(0, n, batch_size)):
                loss, dy = squared_error(model.forward(data["x"][batch]), data["t"][batch])
                losses.append(loss)
                model.backward(dy)
                model.params.update(
                    {
                        k: new
                        for k, (new, state[k]) in (
                            (k, optimizer.update(model.params[k], model.grads[k], state[k]))
                            for k in names
                        )
                    }
                )
            val, _ = squared_error(model.forward(data["x_val"]), data["t_val"])
            hist["train_loss"].append(sum(losses) / len(losses))
            hist["val_loss"].append(val)
            if patience is None:
                continue
            if best is None or val < best:
                best, waited = val, 0
                kept = {k: v.copy() for k, v in model.params.items()}
            else:
                waited += 1
                if waited >= patience:
                    break
        if patience is not None and kept is not None:
            model.params.update(kept)
        return hist

    return SimpleNamespace(fit=fit)


def curves():
    def window_mean(c, centre, half):
        lo, hi = max(0, centre - half), min(len(c), centre + half + 1)
        return float(np.mean(c[lo:hi]))

    def diagnose(train_curve, val_curve):
        tr = np.asarray(train_curve, dtype=float)
        va = np.asarray(val_curve, dtype=float)
        n = len(tr)
        half = max(2, n // 16)
        begin, end = window_mean(tr, half, half), window_mean(tr, n - 1 - half, half)
        if end / begin > 1.1:
            return "error_increasing"
        if end / begin > 0.9:
            return "not_training"
        vs = np.array([window_mean(va, i, half) for i in range(n)])
        i = int(np.argmin(vs))
        if i < n - 4 * half and vs[-1 - half] - vs[i] > 0.2 * (vs[half] - vs[i]):
            return "overfitting"
        drop = begin - end
        if begin - window_mean(tr, n // 5 + half, half) < 0.15 * drop:
            return "slow_start"
        if window_mean(tr, (4 * n) // 5 - half, half) - end > 0.05 * drop:
            return "not_converged"
        return "looks_good"

    def recipe(train_err, test_err, base_err=0.0, tol=0.05):
        names = {
            (1, 1): "high_bias_and_variance",
            (1, 0): "high_bias",
            (0, 1): "high_variance",
            (0, 0): "low_bias_and_variance",
        }
        return names[(int(train_err - base_err > tol), int(test_err - train_err > tol))]

    def advise(data_size, similarity):
        rows = (("finetune_many", "finetune_few"), ("linear_from_stages", "linear_on_top"))
        return rows[int(data_size < 1e3)][int(similarity >= 0.5)]

    return SimpleNamespace(diagnose=diagnose, recipe=recipe, advise=advise)


# --- the hook ------------------------------------------------------------------------------


@gradekit.hookimpl
def gradekit_register(registry):
    sections = {
        "layers": {
            "linear": linear,
            "batchnorm": batchnorm,
            "dropout": dropout,
            "vanilla_dropout": vanilla_dropout,
            "dropconnect": dropconnect,
        },
        "activations": {
            "sigmoid": sigmoid,
            "tanh": tanh,
            "relu": relu,
            "leaky_relu": leaky_relu,
            "prelu": prelu,
            "elu": elu,
            "selu": selu,
            "gelu": gelu,
            "softplus": softplus,
            "swish": swish,
            "silu": swish,
        },
        "losses": {
            "squared_error": squared_error,
            "softmax_cross_entropy": softmax_cross_entropy,
            "hinge": hinge,
        },
        "initializers": {
            "constant": constant,
            "normal": normal,
            "uniform": uniform,
            "xavier": xavier,
            "xavier_uniform": xavier_uniform,
            "glorot": glorot,
            "glorot_uniform": glorot_uniform,
            "he": he,
            "he_uniform": he_uniform,
        },
        "optimizers": {
            "sgd": sgd,
            "momentum": momentum,
            "nesterov": nesterov,
            "adagrad": adagrad,
            "rmsprop": rmsprop,
            "adam": adam,
        },
        "schedules": {
            "step": step_decay,
            "exponential": exponential_decay,
            "inverse_time": inverse_time_decay,
        },
        "penalties": {"l1": l1, "l2": l2},
        "early_stopping": {"early_stopping": early_stopping},
        "transforms": {
            "mixup": mixup,
            "cutmix": cutmix,
            "flip": horizontal_flip,
            "crop": random_crop,
            "noise": gaussian_noise,
            "cutout": cutout,
            "rotation_pretext": rotation_pretext,
        },
        "preprocessors": {
            "zero_center": zero_center,
            "standardize": standardize,
            "pca": pca,
            "whitening": whitening,
        },
        "search": {
            "grid": grid,
            "random": random_search,
            "log_uniform": log_uniform,
            "coarse_to_fine": coarse_to_fine,
        },
        "trainers": {"minibatch": minibatch},
        "diagnosers": {"curves": curves},
    }
    for kind, entries in sections.items():
        section = getattr(registry, kind)
        for name, factory in entries.items():
            section[name] = factory
