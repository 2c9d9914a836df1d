"""A correct submission written as plain classes with straightforward numpy.

One of three independent correct submissions (with ``alt_package`` and
``alt_functional``): the grader must accept each of them.
"""

from __future__ import annotations

import math

import numpy as np

import gradekit

# --- helpers -------------------------------------------------------------------------------


def _sigmoid(x):
    """Split on the sign of x: exp is only ever taken of a non-positive number."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


_erf = np.vectorize(math.erf, otypes=[float])


def _rng(rng):
    return np.random.default_rng() if rng is None else rng


# --- layers --------------------------------------------------------------------------------


class Linear:
    """y = x @ W + b."""

    def __init__(self, din, dout, weight_init=None, rng=None):
        self.rng = _rng(rng)
        if weight_init is None:
            W = self.rng.normal(0.0, 1.0 / math.sqrt(din), (din, dout))
        else:
            W = np.asarray(weight_init((din, dout), self.rng), dtype=np.float64)
        self.params = {"W": W, "b": np.zeros(dout)}
        self.grads = {}

    def forward(self, x, *, training=True):
        self.x = x
        return x @ self.params["W"] + self.params["b"]

    def backward(self, dout):
        self.grads["W"] = self.x.T @ dout
        self.grads["b"] = dout.sum(axis=0)
        return dout @ self.params["W"].T


class BatchNorm:
    """Batch normalization with the compact backward formula."""

    def __init__(self, dim, eps=1e-5, momentum=0.1):
        self.eps = eps
        self.momentum = momentum
        self.params = {"gamma": np.ones(dim), "beta": np.zeros(dim)}
        self.grads = {}
        self.running_mean = np.zeros(dim)
        self.running_var = np.ones(dim)

    def forward(self, x, *, training=True):
        if training:
            mu = x.mean(axis=0)
            var = x.var(axis=0)
            m = self.momentum
            self.running_mean = (1 - m) * self.running_mean + m * mu
            self.running_var = (1 - m) * self.running_var + m * var
        else:
            mu, var = self.running_mean, self.running_var
        self.training = training
        self.inv = 1.0 / np.sqrt(var + self.eps)
        self.xhat = (x - mu) * self.inv
        return self.params["gamma"] * self.xhat + self.params["beta"]

    def backward(self, dout):
        self.grads["gamma"] = (dout * self.xhat).sum(axis=0)
        self.grads["beta"] = dout.sum(axis=0)
        dxhat = dout * self.params["gamma"]
        if not self.training:
            return dxhat * self.inv
        n = dout.shape[0]
        return (self.inv / n) * (
            n * dxhat - dxhat.sum(axis=0) - self.xhat * (dxhat * self.xhat).sum(axis=0)
        )


class Dropout:
    """Inverted dropout, p the keep probability."""

    def __init__(self, p=0.5, rng=None):
        self.p = p
        self.rng = _rng(rng)
        self.params, self.grads = {}, {}

    def forward(self, x, *, training=True):
        if not training:
            self.mask = None
            return x.copy()
        self.mask = (self.rng.random(x.shape) < self.p) / self.p
        return x * self.mask

    def backward(self, dout):
        return dout.copy() if self.mask is None else dout * self.mask


class VanillaDropout:
    """Dropout without rescaling at training time; multiply by p at test time."""

    def __init__(self, p=0.5, rng=None):
        self.p = p
        self.rng = _rng(rng)
        self.params, self.grads = {}, {}

    def forward(self, x, *, training=True):
        if training:
            self.mask = (self.rng.random(x.shape) < self.p).astype(np.float64)
        else:
            self.mask = self.p
        return x * self.mask

    def backward(self, dout):
        return dout * self.mask


class DropConnect:
    """A Bernoulli(p) mask on the weights of a linear layer."""

    def __init__(self, din, dout, p=0.5, weight_init=None, rng=None):
        self.p = p
        self.rng = _rng(rng)
        if weight_init is None:
            W = self.rng.normal(0.0, 1.0 / math.sqrt(din), (din, dout))
        else:
            W = np.asarray(weight_init((din, dout), self.rng), dtype=np.float64)
        self.params = {"W": W, "b": np.zeros(dout)}
        self.grads = {}

    def forward(self, x, *, training=True):
        W = self.params["W"]
        if training:
            self.M = (self.rng.random(W.shape) < self.p).astype(np.float64)
        else:
            self.M = np.full(W.shape, float(self.p))
        self.x = x
        self.Wm = W * self.M
        return x @ self.Wm + self.params["b"]

    def backward(self, dout):
        self.grads["W"] = (self.x.T @ dout) * self.M
        self.grads["b"] = dout.sum(axis=0)
        return dout @ self.Wm.T


# --- activations ---------------------------------------------------------------------------


class _Activation:
    def __init__(self):
        self.params, self.grads = {}, {}


class Sigmoid(_Activation):
    def forward(self, x, *, training=True):
        self.s = _sigmoid(x)
        return self.s

    def backward(self, dout):
        return dout * self.s * (1 - self.s)


class Tanh(_Activation):
    def forward(self, x, *, training=True):
        self.y = np.tanh(x)
        return self.y

    def backward(self, dout):
        return dout * (1 - self.y**2)


class ReLU(_Activation):
    def forward(self, x, *, training=True):
        self.mask = x > 0
        return np.where(self.mask, x, 0.0)

    def backward(self, dout):
        return np.where(self.mask, dout, 0.0)


class LeakyReLU(_Activation):
    def __init__(self, alpha=0.1):
        super().__init__()
        self.alpha = alpha

    def forward(self, x, *, training=True):
        self.mask = x > 0
        return np.where(self.mask, x, self.alpha * x)

    def backward(self, dout):
        return np.where(self.mask, dout, self.alpha * dout)


class PReLU:
    def __init__(self, num_parameters=1, init=0.25):
        self.params = {"a": np.full(num_parameters, float(init))}
        self.grads = {}

    def forward(self, x, *, training=True):
        self.x = x
        a = self.params["a"]
        return np.where(x > 0, x, a * x)

    def backward(self, dout):
        x = self.x
        a = self.params["a"]
        neg = np.minimum(x, 0.0) * dout
        ga = neg.reshape(-1, x.shape[-1]).sum(axis=0)
        if a.shape[0] == 1:
            ga = np.array([ga.sum()])
        self.grads["a"] = ga
        return np.where(x > 0, dout, a * dout)


class ELU(_Activation):
    def __init__(self, alpha=1.0):
        super().__init__()
        self.alpha = alpha

    def forward(self, x, *, training=True):
        self.x = x
        self.e = np.exp(np.minimum(x, 0.0))
        return np.where(x > 0, x, self.alpha * (self.e - 1.0))

    def backward(self, dout):
        return np.where(self.x > 0, dout, self.alpha * self.e * dout)


class SELU(ELU):
    def __init__(self):
        super().__init__(alpha=1.6732632423543772)
        self.scale = 1.0507009873554805

    def forward(self, x, *, training=True):
        return self.scale * super().forward(x)

    def backward(self, dout):
        return self.scale * super().backward(dout)


class GELU(_Activation):
    def __init__(self, approximate=False):
        super().__init__()
        self.approximate = approximate

    def forward(self, x, *, training=True):
        self.x = x
        if self.approximate:
            c = math.sqrt(2.0 / math.pi)
            self.t = np.tanh(c * (x + 0.044715 * x**3))
            return 0.5 * x * (1 + self.t)
        self.cdf = 0.5 * (1.0 + _erf(x / math.sqrt(2.0)))
        return x * self.cdf

    def backward(self, dout):
        x = self.x
        if self.approximate:
            c = math.sqrt(2.0 / math.pi)
            du = c * (1 + 3 * 0.044715 * x**2)
            return dout * (0.5 * (1 + self.t) + 0.5 * x * (1 - self.t**2) * du)
        pdf = np.exp(-0.5 * x**2) / math.sqrt(2 * math.pi)
        return dout * (self.cdf + x * pdf)


class Softplus(_Activation):
    def forward(self, x, *, training=True):
        self.x = x
        return np.logaddexp(0.0, x)

    def backward(self, dout):
        return dout * _sigmoid(self.x)


class Swish(_Activation):
    def __init__(self, beta=1.0):
        super().__init__()
        self.beta = beta

    def forward(self, x, *, training=True):
        self.x = x
        self.s = _sigmoid(self.beta * x)
        return x * self.s

    def backward(self, dout):
        s = self.s
        return dout * (s + self.beta * self.x * s * (1 - s))


# --- losses --------------------------------------------------------------------------------


class SquaredError:
    def forward(self, y, t):
        self.diff = y - t
        self.n = y.shape[0]
        return float(np.sum(self.diff**2) / self.n)

    def backward(self, dout=1.0):
        return dout * 2.0 * self.diff / self.n


class SoftmaxCrossEntropy:
    def forward(self, y, t):
        n, k = y.shape
        if t.ndim == 1:
            T = np.zeros((n, k))
            T[np.arange(n), t.astype(int)] = 1.0
        else:
            T = t
        shifted = y - y.max(axis=1, keepdims=True)
        logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        self.p = np.exp(logp)
        self.T = T
        self.n = n
        return float(-(T * logp).sum() / n)

    def backward(self, dout=1.0):
        return dout * (self.p * self.T.sum(axis=1, keepdims=True) - self.T) / self.n


class Hinge:
    def forward(self, y, t):
        self.t = t
        self.margin = 1.0 - t * y
        self.n = y.shape[0]
        return float(np.maximum(0.0, self.margin).sum() / self.n)

    def backward(self, dout=1.0):
        return dout * np.where(self.margin > 0, -self.t, 0.0) / self.n


# --- initializers --------------------------------------------------------------------------


class Constant:
    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, rng):
        return np.full(shape, float(self.value))


class Normal:
    def __init__(self, std=0.01):
        self.sd = std

    def __call__(self, shape, rng):
        return rng.normal(0.0, self.sd, shape)


class Uniform:
    def __init__(self, limit=0.05):
        self.limit = limit

    def __call__(self, shape, rng):
        return rng.uniform(-self.limit, self.limit, shape)


class Xavier:
    def __call__(self, shape, rng):
        return rng.normal(0.0, 1.0 / math.sqrt(shape[0]), shape)


class XavierUniform:
    def __call__(self, shape, rng):
        a = math.sqrt(3.0 / shape[0])
        return rng.uniform(-a, a, shape)


class Glorot:
    def __call__(self, shape, rng):
        return rng.normal(0.0, math.sqrt(2.0 / (shape[0] + shape[1])), shape)


class GlorotUniform:
    def __call__(self, shape, rng):
        a = math.sqrt(6.0 / (shape[0] + shape[1]))
        return rng.uniform(-a, a, shape)


class He:
    def __call__(self, shape, rng):
        return rng.normal(0.0, math.sqrt(2.0 / shape[0]), shape)


class HeUniform:
    def __call__(self, shape, rng):
        a = math.sqrt(6.0 / shape[0])
        return rng.uniform(-a, a, shape)


# --- optimizers ----------------------------------------------------------------------------


class SGD:
    def __init__(self, lr=0.01):
        self.lr = lr

    def init(self, param):
        return {}

    def update(self, param, grad, state):
        return param - self.lr * grad, {}


class Momentum:
    def __init__(self, lr=0.01, mu=0.9):
        self.lr, self.mu = lr, mu

    def init(self, param):
        return {"v": np.zeros_like(param, dtype=np.float64)}

    def update(self, param, grad, state):
        v = self.mu * state["v"] - self.lr * grad
        return param + v, {"v": v}


class Nesterov:
    def __init__(self, lr=0.01, mu=0.9):
        self.lr, self.mu = lr, mu

    def init(self, param):
        return {"v": np.zeros_like(param, dtype=np.float64)}

    def update(self, param, grad, state):
        v_prev = state["v"]
        v = self.mu * v_prev - self.lr * grad
        return param - self.mu * v_prev + (1 + self.mu) * v, {"v": v}


class Adagrad:
    def __init__(self, lr=0.01, eps=1e-8):
        self.lr, self.eps = lr, eps

    def init(self, param):
        return {"s": np.zeros_like(param, dtype=np.float64)}

    def update(self, param, grad, state):
        s = state["s"] + grad**2
        return param - self.lr * grad / (np.sqrt(s) + self.eps), {"s": s}


class RMSProp:
    def __init__(self, lr=0.01, beta=0.99, eps=1e-8):
        self.lr, self.beta, self.eps = lr, beta, eps

    def init(self, param):
        return {"s": np.zeros_like(param, dtype=np.float64)}

    def update(self, param, grad, state):
        s = self.beta * state["s"] + (1 - self.beta) * grad**2
        return param - self.lr * grad / (np.sqrt(s) + self.eps), {"s": s}


class Adam:
    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, bias_correction=True):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.bias_correction = bias_correction

    def init(self, param):
        z = np.zeros_like(param, dtype=np.float64)
        return {"m": z, "v": z.copy(), "t": np.array(0)}

    def update(self, param, grad, state):
        t = state["t"] + 1
        m = self.beta1 * state["m"] + (1 - self.beta1) * grad
        v = self.beta2 * state["v"] + (1 - self.beta2) * grad**2
        if self.bias_correction:
            mhat = m / (1 - self.beta1**t)
            vhat = v / (1 - self.beta2**t)
        else:
            mhat, vhat = m, v
        new = param - self.lr * mhat / (np.sqrt(vhat) + self.eps)
        return new, {"m": m, "v": v, "t": np.array(t)}


# --- schedules -----------------------------------------------------------------------------


class StepDecay:
    def __init__(self, lr0=0.1, gamma=0.1, step_size=30):
        self.lr0, self.gamma, self.step_size = lr0, gamma, step_size

    def __call__(self, step):
        return float(self.lr0 * self.gamma ** (step // self.step_size))


class ExponentialDecay:
    def __init__(self, lr0=0.1, k=0.01):
        self.lr0, self.k = lr0, k

    def __call__(self, step):
        return float(self.lr0 * math.exp(-self.k * step))


class InverseTimeDecay:
    def __init__(self, lr0=0.1, k=0.01):
        self.lr0, self.k = lr0, k

    def __call__(self, step):
        return float(self.lr0 / (1 + self.k * step))


# --- penalties and early stopping ----------------------------------------------------------


class L2:
    def __init__(self, lam=1e-3):
        self.lam = lam

    def penalty(self, w):
        return float(0.5 * self.lam * np.sum(w**2))

    def grad(self, w):
        return self.lam * w


class L1:
    def __init__(self, lam=1e-3):
        self.lam = lam

    def penalty(self, w):
        return float(self.lam * np.sum(np.abs(w)))

    def grad(self, w):
        return self.lam * np.sign(w)


class EarlyStopping:
    def __init__(self, patience=5, min_delta=0.0):
        self.patience = patience
        self.min_delta = min_delta
        self.best_loss = math.inf
        self.best_params = None
        self.wait = 0

    def step(self, val_loss, params):
        if val_loss < self.best_loss - self.min_delta:
            self.best_loss = float(val_loss)
            self.best_params = {k: np.array(v, copy=True) for k, v in params.items()}
            self.wait = 0
            return False
        self.wait += 1
        return self.wait >= self.patience


# --- transforms ----------------------------------------------------------------------------


class Mixup:
    def __init__(self, alpha=0.2):
        self.alpha = alpha

    def __call__(self, x, y, rng):
        lam = rng.beta(self.alpha, self.alpha)
        perm = rng.permutation(x.shape[0])
        return lam * x + (1 - lam) * x[perm], lam * y + (1 - lam) * y[perm]


class CutMix:
    def __init__(self, beta=1.0):
        self.beta = beta

    def __call__(self, x, y, rng):
        H, W = x.shape[2], x.shape[3]
        lam = rng.beta(self.beta, self.beta)
        perm = rng.permutation(x.shape[0])
        h = round(math.sqrt(1 - lam) * H)
        w = round(math.sqrt(1 - lam) * W)
        cy, cx = int(rng.integers(H)), int(rng.integers(W))
        y1, y2 = max(cy - h // 2, 0), min(cy - h // 2 + h, H)
        x1, x2 = max(cx - w // 2, 0), min(cx - w // 2 + w, W)
        out = x.copy()
        out[:, :, y1:y2, x1:x2] = x[perm][:, :, y1:y2, x1:x2]
        lam = 1.0 - (y2 - y1) * (x2 - x1) / (H * W)
        return out, lam * y + (1 - lam) * y[perm]


class HorizontalFlip:
    def __init__(self, p=0.5):
        self.p = p

    def __call__(self, x, y, rng):
        flip = rng.random(x.shape[0]) < self.p
        out = x.copy()
        out[flip] = x[flip][..., ::-1]
        return out, y.copy()


class RandomCrop:
    def __init__(self, padding=4):
        self.padding = padding

    def __call__(self, x, y, rng):
        p = self.padding
        n, _, H, W = x.shape
        padded = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        out = np.empty_like(x)
        for i in range(n):
            top, left = rng.integers(0, 2 * p + 1, size=2)
            out[i] = padded[i, :, top : top + H, left : left + W]
        return out, y.copy()


class GaussianNoise:
    def __init__(self, std=0.1):
        self.std = std

    def __call__(self, x, y, rng):
        return x + rng.normal(0.0, self.std, x.shape), y.copy()


class Cutout:
    def __init__(self, size=8):
        self.size = size

    def __call__(self, x, y, rng):
        n, _, H, W = x.shape
        out = x.copy()
        s = self.size
        for i in range(n):
            cy, cx = int(rng.integers(H)), int(rng.integers(W))
            y1, y2 = max(cy - s // 2, 0), min(cy - s // 2 + s, H)
            x1, x2 = max(cx - s // 2, 0), min(cx - s // 2 + s, W)
            out[i, :, y1:y2, x1:x2] = 0.0
        return out, y.copy()


class RotationPretext:
    """k drawn with rng.choice; a quarter turn as a transpose of the W-mirror."""

    def __call__(self, x, y, rng):
        ks = rng.choice(4, size=len(x))
        out = np.array(x, dtype=np.float64)
        for i, k in enumerate(ks):
            for _ in range(k):
                out[i] = np.swapaxes(out[i][..., ::-1], -1, -2)
        return out, np.eye(4)[ks]


# --- preprocessors -------------------------------------------------------------------------


class ZeroCenter:
    def fit(self, x):
        self.mean = x.mean(axis=0)
        return self

    def transform(self, x):
        return x - self.mean


class Standardize:
    def __init__(self, eps=1e-8):
        self.eps = eps

    def fit(self, x):
        self.mean = x.mean(axis=0)
        self.scale = np.sqrt(x.var(axis=0) + self.eps)
        return self

    def transform(self, x):
        return (x - self.mean) / self.scale


class PCA:
    def __init__(self, k=None):
        self.k = k

    def fit(self, x):
        self.mean = x.mean(axis=0)
        xc = x - self.mean
        cov = xc.T @ xc / x.shape[0]
        U, S, _ = np.linalg.svd(cov)
        self.U, self.S = U, S
        return self

    def transform(self, x):
        k = self.U.shape[1] if self.k is None else self.k
        return (x - self.mean) @ self.U[:, :k]


class Whitening:
    def __init__(self, eps=1e-5, zca=False):
        self.eps, self.zca = eps, zca

    def fit(self, x):
        self.mean = x.mean(axis=0)
        xc = x - self.mean
        U, S, _ = np.linalg.svd(xc.T @ xc / x.shape[0])
        self.U, self.S = U, S
        return self

    def transform(self, x):
        white = (x - self.mean) @ self.U / np.sqrt(self.S + self.eps)
        return white @ self.U.T if self.zca else white


# --- search strategies, the trainer and the diagnoser --------------------------------------


def _names(space):
    return sorted(space)


class GridSearch:
    def __init__(self, log=False):
        self.log = log

    def propose(self, space, n, rng):
        names = _names(space)
        points = [{}]
        for name in names:
            lo, hi = space[name]
            if self.log:
                values = [
                    10 ** (math.log10(lo) + i * math.log10(hi / lo) / (n - 1)) for i in range(n)
                ]
                values[-1] = float(hi)
            else:
                values = [lo + i * (hi - lo) / (n - 1) for i in range(n)]
                values[-1] = float(hi)
            points = [{**p, name: float(v)} for p in points for v in values]
        return points


class RandomSearch:
    def propose(self, space, n, rng):
        out = []
        for _ in range(n):
            out.append({k: float(rng.uniform(*space[k])) for k in _names(space)})
        return out


class LogUniformSearch:
    def propose(self, space, n, rng):
        out = []
        for _ in range(n):
            out.append(
                {
                    k: float(10 ** rng.uniform(math.log10(space[k][0]), math.log10(space[k][1])))
                    for k in _names(space)
                }
            )
        return out


class CoarseToFine:
    def __init__(self, keep=0.2, margin=0.05):
        self.keep, self.margin = keep, margin

    def propose(self, space, n, rng):
        return LogUniformSearch().propose(space, n, rng)

    def refine(self, space, results, n, rng):
        losses = np.array([float(loss) for _, loss in results])
        count = max(2, math.ceil(self.keep * len(results)))
        chosen = [results[i][0] for i in np.argsort(losses, kind="stable")[:count]]
        region = {}
        for k, (lo, hi) in space.items():
            width = math.log10(hi) - math.log10(lo)
            logs = [math.log10(c[k]) for c in chosen]
            low = max(math.log10(lo), min(logs) - self.margin * width)
            high = min(math.log10(hi), max(logs) + self.margin * width)
            region[k] = (10**low, 10**high)
        return LogUniformSearch().propose(region, n, rng)


class MiniBatchTrainer:
    def __init__(self, epochs=20, batch_size=16, patience=None, trainable=None):
        self.epochs = epochs
        self.batch_size = batch_size
        self.patience = patience
        self.frozen = None if trainable is None else set(trainable)

    def fit(self, model, optimizer, data, rng):
        x, t, n = data["x"], data["t"], len(data["x"])
        state = {}
        for k in model.params:
            if self.frozen is None or k in self.frozen:
                state[k] = optimizer.init(model.params[k])
        train_loss, val_loss = [], []
        best_val, best_weights, since = math.inf, None, 0
        for _ in range(self.epochs):
            shuffled = np.arange(n)
            rng.shuffle(shuffled)
            running = []
            start = 0
            while start < n:
                batch = shuffled[start : start + self.batch_size]
                start += self.batch_size
                out = model.forward(x[batch])
                diff = out - t[batch]
                running.append(float((diff**2).sum(axis=1).mean()))
                model.backward(2 * diff / batch.size)
                for k in list(state):
                    model.params[k], state[k] = optimizer.update(
                        model.params[k], model.grads[k], state[k]
                    )
            out = model.forward(data["x_val"])
            val = float(((out - data["t_val"]) ** 2).sum(axis=1).mean())
            train_loss.append(float(np.mean(running)))
            val_loss.append(val)
            if self.patience is not None:
                if val < best_val:
                    best_val, since = val, 0
                    best_weights = {k: np.copy(v) for k, v in model.params.items()}
                else:
                    since += 1
                if since >= self.patience:
                    break
        if self.patience is not None and best_weights is not None:
            for k in best_weights:
                model.params[k] = best_weights[k]
        return {"train_loss": train_loss, "val_loss": val_loss}


def _moving(curve, width):
    c = np.cumsum(np.insert(np.asarray(curve, dtype=float), 0, 0.0))
    return (c[width:] - c[:-width]) / width


class CurveDiagnoser:
    """Log-ratios for the trend, and a straight-line fit of the last quarter for convergence."""

    def diagnose(self, train_curve, val_curve):
        n = len(train_curve)
        k = max(3, n // 10)
        st, sv = _moving(train_curve, k), _moving(val_curve, k)
        trend = math.log(st[-1] / st[0])
        if trend > math.log(1.1):
            return "error_increasing"
        if trend > math.log(0.9):
            return "not_training"
        i = int(np.argmin(sv))
        if i < len(sv) - 2 * k and sv[-1] - sv[i] > 0.2 * (sv[0] - sv[i]):
            return "overfitting"
        drop = st[0] - st[-1]
        if st[0] - st[len(st) // 5] < 0.15 * drop:
            return "slow_start"
        quarter = np.asarray(train_curve[-(n // 4) :], dtype=float)
        slope = np.polyfit(np.arange(len(quarter)), quarter, 1)[0]
        if -slope * len(quarter) > 0.05 * drop:
            return "not_converged"
        return "looks_good"

    def recipe(self, train_err, test_err, base_err=0.0, tol=0.05):
        high_bias = (train_err - base_err) > tol
        high_variance = (test_err - train_err) > tol
        if high_bias:
            return "high_bias_and_variance" if high_variance else "high_bias"
        return "high_variance" if high_variance else "low_bias_and_variance"

    def advise(self, data_size, similarity):
        table = {
            (True, True): "Linear on top",
            (True, False): "linear-from-stages",
            (False, True): "finetune few",
            (False, False): "FINETUNE_MANY",
        }
        return table[(data_size <= 999, not similarity < 0.5)]


# --- the hook ------------------------------------------------------------------------------


@gradekit.hookimpl
def gradekit_register(registry):
    registry.layers["linear"] = Linear
    registry.layers["batchnorm"] = BatchNorm
    registry.layers["dropout"] = Dropout
    registry.layers["vanilla_dropout"] = VanillaDropout
    registry.layers["dropconnect"] = DropConnect

    registry.activations["sigmoid"] = Sigmoid
    registry.activations["tanh"] = Tanh
    registry.activations["relu"] = ReLU
    registry.activations["leaky_relu"] = LeakyReLU
    registry.activations["prelu"] = PReLU
    registry.activations["elu"] = ELU
    registry.activations["selu"] = SELU
    registry.activations["gelu"] = GELU
    registry.activations["softplus"] = Softplus
    registry.activations["swish"] = Swish
    registry.activations["silu"] = Swish

    registry.losses["squared_error"] = SquaredError
    registry.losses["softmax_cross_entropy"] = SoftmaxCrossEntropy
    registry.losses["hinge"] = Hinge

    registry.initializers["constant"] = Constant
    registry.initializers["normal"] = Normal
    registry.initializers["uniform"] = Uniform
    registry.initializers["xavier"] = Xavier
    registry.initializers["xavier_uniform"] = XavierUniform
    registry.initializers["glorot"] = Glorot
    registry.initializers["glorot_uniform"] = GlorotUniform
    registry.initializers["he"] = He
    registry.initializers["he_uniform"] = HeUniform

    registry.optimizers["sgd"] = SGD
    registry.optimizers["momentum"] = Momentum
    registry.optimizers["nesterov"] = Nesterov
    registry.optimizers["adagrad"] = Adagrad
    registry.optimizers["rmsprop"] = RMSProp
    registry.optimizers["adam"] = Adam

    registry.schedules["step"] = StepDecay
    registry.schedules["exponential"] = ExponentialDecay
    registry.schedules["inverse_time"] = InverseTimeDecay

    registry.penalties["l1"] = L1
    registry.penalties["l2"] = L2

    registry.early_stopping["early_stopping"] = EarlyStopping

    registry.transforms["mixup"] = Mixup
    registry.transforms["cutmix"] = CutMix
    registry.transforms["flip"] = HorizontalFlip
    registry.transforms["crop"] = RandomCrop
    registry.transforms["noise"] = GaussianNoise
    registry.transforms["cutout"] = Cutout
    registry.transforms["rotation_pretext"] = RotationPretext

    registry.preprocessors["zero_center"] = ZeroCenter
    registry.preprocessors["standardize"] = Standardize
    registry.preprocessors["pca"] = PCA
    registry.preprocessors["whitening"] = Whitening

    registry.search["grid"] = GridSearch
    registry.search["random"] = RandomSearch
    registry.search["log_uniform"] = LogUniformSearch
    registry.search["coarse_to_fine"] = CoarseToFine
    registry.trainers["minibatch"] = MiniBatchTrainer
    registry.diagnosers["curves"] = CurveDiagnoser
