"""A backprop submission with five typical bugs, each a misconception the grader names:

- ReLU backward gates on the upstream gradient instead of the input;
- sigmoid backward uses the input x instead of the output s;
- the linear layer averages db instead of summing it over the batch;
- softmax without subtracting the max (overflows on large scores);
- squared error gradient without the factor 2.
"""

import math

import numpy as np

import gradekit

_erf = np.vectorize(math.erf, otypes=[float])


class Linear:
    """y = x @ W + b."""

    def __init__(self, din, dout, weight_init=None, rng=None):
        self.rng = rng if rng is not None else np.random.default_rng()
        if weight_init is not None:
            W = weight_init((din, dout), self.rng)
        else:
            W = self.rng.standard_normal((din, dout)) / np.sqrt(din)
        self.params = {"W": W, "b": np.zeros(dout)}
        self.grads = {}

    def forward(self, x, *, training=True):
        self.x = x
        return x @ self.params["W"] + self.params["b"]

    def backward(self, dout):
        self.grads = {"W": self.x.T @ dout, "b": dout.mean(axis=0)}  # BUG: db sums over the batch
        return dout @ self.params["W"].T


class Elementwise:
    """Forward caches x and f(x); backward multiplies by f'(x)."""

    def __init__(self):
        self.params, self.grads = {}, {}

    def forward(self, x, *, training=True):
        self.x = x
        self.y = self.f(x)
        return self.y

    def backward(self, dout):
        return dout * self.df()


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


class Sigmoid(Elementwise):
    def f(self, x):
        return _sigmoid(x)

    def df(self):
        return self.x * (1 - self.x)  # BUG: s(1 - s) uses the output, not the input


class Tanh(Elementwise):
    def f(self, x):
        return np.tanh(x)

    def df(self):
        return 1 - self.y**2


class ReLU(Elementwise):
    def f(self, x):
        return np.maximum(x, 0.0)

    def backward(self, dout):
        return np.maximum(dout, 0.0)  # BUG: the mask should come from x, not dout


class LeakyReLU(Elementwise):
    def __init__(self, alpha=0.1):
        super().__init__()
        self.alpha = alpha

    def f(self, x):
        return np.where(x >= 0, x, self.alpha * x)

    def df(self):
        return np.where(self.x > 0, 1.0, self.alpha)


class PReLU:
    def __init__(self, num_parameters=1, init=0.25):
        self.params = {"a": np.full(num_parameters, float(init))}
        self.grads = {}

    def forward(self, x, *, training=True):
        self.x = x
        return np.maximum(x, 0) + self.params["a"] * np.minimum(x, 0)

    def backward(self, dout):
        a = self.params["a"]
        neg = np.minimum(self.x, 0)
        da = (dout * neg).reshape(-1, self.x.shape[-1]).sum(axis=0)
        self.grads = {"a": da if a.size > 1 else np.array([da.sum()])}
        return dout * np.where(self.x > 0, 1.0, a)


class ELU(Elementwise):
    def __init__(self, alpha=1.0):
        super().__init__()
        self.alpha = alpha

    def f(self, x):
        return np.where(x > 0, x, self.alpha * np.expm1(np.minimum(x, 0)))

    def df(self):
        return np.where(self.x > 0, 1.0, self.alpha * np.exp(np.minimum(self.x, 0)))


class SELU(ELU):
    LAMBDA = 1.0507009873554805

    def __init__(self):
        super().__init__(alpha=1.6732632423543772)

    def f(self, x):
        return self.LAMBDA * super().f(x)

    def df(self):
        return self.LAMBDA * super().df()


class GELU(Elementwise):
    def __init__(self, approximate=False):
        super().__init__()
        self.approximate = approximate

    def f(self, x):
        if self.approximate:
            return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))
        return 0.5 * x * (1 + _erf(x / np.sqrt(2)))

    def df(self):
        x = self.x
        if self.approximate:
            c = np.sqrt(2 / np.pi)
            t = np.tanh(c * (x + 0.044715 * x**3))
            return 0.5 * (1 + t) + 0.5 * x * (1 - t**2) * c * (1 + 3 * 0.044715 * x**2)
        return 0.5 * (1 + _erf(x / np.sqrt(2))) + x * np.exp(-(x**2) / 2) / np.sqrt(2 * np.pi)


class Softplus(Elementwise):
    def f(self, x):
        return np.logaddexp(0.0, x)

    def df(self):
        return _sigmoid(self.x)


class Swish(Elementwise):
    def __init__(self, beta=1.0):
        super().__init__()
        self.beta = beta

    def f(self, x):
        return x * _sigmoid(self.beta * x)

    def df(self):
        s = _sigmoid(self.beta * self.x)
        return s + self.beta * self.x * s * (1 - s)


class SquaredError:
    def forward(self, y, t):
        self.diff, self.n = y - t, y.shape[0]
        return float(np.sum(self.diff**2) / self.n)

    def backward(self, dout=1.0):
        return dout * self.diff / self.n  # BUG: d/dy ||y - t||^2 = 2 (y - t)


class SoftmaxCrossEntropy:
    def forward(self, y, t):
        z = y  # BUG: no max-subtraction, exp overflows for large scores
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        n = y.shape[0]
        onehot = np.zeros_like(y)
        if t.ndim == 1:
            onehot[np.arange(n), t.astype(int)] = 1.0
        else:
            onehot = t
        self.p, self.onehot, self.n = np.exp(logp), onehot, n
        return float(-(onehot * logp).sum() / n)

    def backward(self, dout=1.0):
        return dout * (self.p * self.onehot.sum(axis=1, keepdims=True) - self.onehot) / self.n


class Hinge:
    def forward(self, z, t):
        self.z, self.t = z, t
        return float(np.mean(np.maximum(0.0, 1 - t * z)))

    def backward(self, dout=1.0):
        active = (1 - self.t * self.z) > 0
        return dout * np.where(active, -self.t, 0.0) / self.z.shape[0]


@gradekit.hookimpl
def gradekit_register(registry):
    registry.layers["linear"] = Linear
    for name, cls in {
        "sigmoid": Sigmoid,
        "tanh": Tanh,
        "relu": ReLU,
        "leaky_relu": LeakyReLU,
        "prelu": PReLU,
        "elu": ELU,
        "selu": SELU,
        "gelu": GELU,
        "softplus": Softplus,
        "swish": Swish,
    }.items():
        registry.activations[name] = cls
    registry.losses["squared_error"] = SquaredError
    registry.losses["softmax_cross_entropy"] = SoftmaxCrossEntropy
    registry.losses["hinge"] = Hinge
