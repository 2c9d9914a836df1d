"""A null submission: every component of every bundled assignment, doing nothing.

``MODE`` says what each one answers, always of the right shape: ``identity`` (its input
back, unchanged weights, a constant schedule, a no-op transform), ``zeros``, or
``random`` (values from its own generator, never the one it is given). The tests write
one copy per mode. None of them does a component's job, so none may earn a point.
"""

import numpy as np

import gradekit

MODE = "zeros"
_rng = np.random.default_rng(12345)


def _like(a):
    """``a`` itself, zeros or random values, of ``a``'s shape."""
    a = np.array(a, dtype=np.float64)
    if MODE == "identity":
        return a
    if MODE == "zeros":
        return np.zeros_like(a)
    return _rng.standard_normal(a.shape)


def _number(value=0.0):
    return {"identity": float(value), "zeros": 0.0}.get(MODE, float(_rng.standard_normal()))


class Layer:
    """A layer or activation: forward and backward give back, zero or noise."""

    def __init__(self, **kwargs):
        self.params, self.grads = {}, {}
        din, dout = kwargs.get("din"), kwargs.get("dout")
        if din is not None and dout is not None:
            self.params = {"W": np.zeros((din, dout)), "b": np.zeros(dout)}
        self.running_mean = self.running_var = None
        self.x = None

    def forward(self, x, *, training=True):
        self.x = np.array(x, dtype=np.float64)
        w = self.params.get("W")
        if w is not None and np.ndim(x) == 2 and np.shape(w)[0] == np.shape(x)[1]:
            shape = (np.shape(x)[0], np.shape(w)[1])
            return _like(np.zeros(shape) if MODE != "identity" else self.x[:, : shape[1]])
        return _like(self.x)

    def backward(self, dout):
        self.grads = {k: _like(v) for k, v in self.params.items()}
        dout = np.array(dout, dtype=np.float64)
        if self.x is None or dout.shape != self.x.shape:
            return _like(np.zeros_like(self.x)) if MODE != "identity" else np.zeros_like(self.x)
        return _like(dout)


class Loss:
    def __init__(self, **kwargs):
        self.params, self.grads = {}, {}

    def forward(self, y, t):
        self.y = np.array(y, dtype=np.float64)
        return _number(np.sum(self.y))

    def backward(self, dout=1.0):
        return _like(self.y)


class Initializer:
    def __init__(self, **kwargs):
        pass

    def __call__(self, shape, rng):
        if MODE == "identity":
            return np.eye(*shape)
        if MODE == "zeros":
            return np.zeros(shape)
        return _rng.random(shape)


class Optimizer:
    def __init__(self, **kwargs):
        pass

    def init(self, param):
        return {}

    def update(self, param, grad, state):
        return _like(param), state


class Schedule:
    def __init__(self, **kwargs):
        self.lr = float(kwargs.get("lr", kwargs.get("lr0", 0.1)))

    def __call__(self, step):
        return _number(self.lr)


class Penalty:
    def __init__(self, **kwargs):
        pass

    def penalty(self, w):
        return _number(np.sum(w))

    def grad(self, w):
        return _like(w)


class Transform:
    def __init__(self, **kwargs):
        pass

    def __call__(self, x, y, rng):
        return _like(x), (np.array(y) if MODE == "identity" else _like(y))


class EarlyStopping:
    def __init__(self, **kwargs):
        self.patience = kwargs.get("patience", 3)
        self.min_delta = kwargs.get("min_delta", 0.0)
        self.best_loss, self.best_params = None, None

    def step(self, val_loss, params):
        if MODE == "identity":
            self.best_loss, self.best_params = float(val_loss), params
        elif MODE == "zeros":
            self.best_loss, self.best_params = 0.0, {k: np.zeros_like(v) for k, v in params.items()}
        else:
            self.best_loss = float(_rng.random())
            self.best_params = {k: _like(v) for k, v in params.items()}
        return False


class Preprocessor:
    def __init__(self, **kwargs):
        pass

    def fit(self, x):
        return self

    def transform(self, x):
        return _like(x)


class Search:
    def __init__(self, **kwargs):
        pass

    def _one(self, space):
        if MODE == "identity":
            return {k: float(lo) for k, (lo, hi) in space.items()}
        if MODE == "zeros":
            return {k: 0.0 for k in space}
        return {k: float(_rng.random()) for k in space}

    def propose(self, space, n, rng):
        count = n ** len(space) if type(self).__name__ == "Grid" else n
        return [self._one(space) for _ in range(count)]

    def refine(self, space, results, n, rng):
        return [self._one(space) for _ in range(n)]


class Grid(Search):
    pass


class Trainer:
    def __init__(self, **kwargs):
        self.epochs = int(kwargs.get("epochs", 5))

    def fit(self, model, optimizer, data, rng):
        losses = [_number(1.0) for _ in range(self.epochs)]
        return {"train_loss": losses, "val_loss": list(losses)}


class Diagnoser:
    LABELS = (
        "not_training",
        "error_increasing",
        "not_converged",
        "slow_start",
        "overfitting",
        "looks_good",
    )
    CELLS = ("high_variance", "high_bias", "high_bias_and_variance", "low_bias_and_variance")
    ADVICE = ("linear_on_top", "linear_from_stages", "finetune_few", "finetune_many")

    def __init__(self, **kwargs):
        pass

    def _pick(self, labels):
        if MODE == "random":
            return labels[int(_rng.integers(len(labels)))]
        return labels[-1] if MODE == "identity" else labels[0]

    def diagnose(self, train_curve, val_curve):
        return self._pick(self.LABELS)

    def recipe(self, train_err, test_err, base_err=0.0, tol=0.05):
        return self._pick(self.CELLS)

    def advise(self, data_size, similarity):
        return self._pick(self.ADVICE)


NAMES = {
    "activations": (
        Layer,
        [
            "elu",
            "gelu",
            "leaky_relu",
            "prelu",
            "relu",
            "selu",
            "sigmoid",
            "softplus",
            "swish",
            "tanh",
        ],
    ),
    "layers": (Layer, ["batchnorm", "dropconnect", "dropout", "linear", "vanilla_dropout"]),
    "losses": (Loss, ["hinge", "softmax_cross_entropy", "squared_error"]),
    "initializers": (
        Initializer,
        [
            "glorot",
            "glorot_uniform",
            "he",
            "he_uniform",
            "normal",
            "uniform",
            "xavier",
            "xavier_uniform",
            "constant",
        ],
    ),
    "optimizers": (Optimizer, ["adagrad", "adam", "momentum", "nesterov", "rmsprop", "sgd"]),
    "schedules": (Schedule, ["exponential", "inverse_time", "step"]),
    "penalties": (Penalty, ["l1", "l2"]),
    "transforms": (
        Transform,
        ["crop", "cutmix", "cutout", "flip", "mixup", "noise", "rotation_pretext"],
    ),
    "early_stopping": (EarlyStopping, ["early_stopping"]),
    "preprocessors": (Preprocessor, ["pca", "standardize", "whitening", "zero_center"]),
    "search": (Search, ["coarse_to_fine", "log_uniform", "random"]),
    "trainers": (Trainer, ["minibatch"]),
    "diagnosers": (Diagnoser, ["curves"]),
}


@gradekit.hookimpl
def gradekit_register(registry):
    for kind, (factory, names) in NAMES.items():
        for name in names:
            getattr(registry, kind)[name] = factory
    registry.search["grid"] = Grid
