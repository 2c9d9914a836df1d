"""The instructor's reference implementations, registered through the student's own hook.

Every component the lecture names is here, with its formula and the course's convention
in its docstring. The grader loads this plugin only in the trusted parent process.
"""

from gradekit import hookimpl

from . import (
    activations,
    diagnosis,
    initializers,
    layers,
    losses,
    optimizers,
    preprocessing,
    regularizers,
    schedules,
    search,
    trainer,
    transforms,
)

COMPONENTS = {
    "layers": {
        "linear": layers.Linear,
        "batchnorm": layers.BatchNorm,
        "dropout": layers.Dropout,
        "vanilla_dropout": layers.VanillaDropout,
        "dropconnect": layers.DropConnect,
    },
    "activations": {
        "sigmoid": activations.Sigmoid,
        "tanh": activations.Tanh,
        "relu": activations.ReLU,
        "leaky_relu": activations.LeakyReLU,
        "prelu": activations.PReLU,
        "elu": activations.ELU,
        "selu": activations.SELU,
        "gelu": activations.GELU,
        "softplus": activations.Softplus,
        "swish": activations.Swish,
        "silu": activations.Swish,
    },
    "losses": {
        "squared_error": losses.SquaredError,
        "softmax_cross_entropy": losses.SoftmaxCrossEntropy,
        "hinge": losses.Hinge,
    },
    "initializers": {
        "constant": initializers.Constant,
        "normal": initializers.Normal,
        "uniform": initializers.Uniform,
        "xavier": initializers.Xavier,
        "xavier_uniform": initializers.XavierUniform,
        "glorot": initializers.Glorot,
        "glorot_uniform": initializers.GlorotUniform,
        "he": initializers.He,
        "he_uniform": initializers.HeUniform,
    },
    "optimizers": {
        "sgd": optimizers.SGD,
        "momentum": optimizers.Momentum,
        "nesterov": optimizers.Nesterov,
        "adagrad": optimizers.Adagrad,
        "rmsprop": optimizers.RMSProp,
        "adam": optimizers.Adam,
    },
    "schedules": {
        "step": schedules.StepDecay,
        "exponential": schedules.ExponentialDecay,
        "inverse_time": schedules.InverseTimeDecay,
    },
    "penalties": {
        "l1": regularizers.L1,
        "l2": regularizers.L2,
    },
    "early_stopping": {
        "early_stopping": regularizers.EarlyStopping,
    },
    "transforms": {
        "mixup": transforms.Mixup,
        "cutmix": transforms.CutMix,
        "flip": transforms.HorizontalFlip,
        "crop": transforms.RandomCrop,
        "noise": transforms.GaussianNoise,
        "cutout": transforms.Cutout,
        "rotation_pretext": transforms.RotationPretext,
    },
    "preprocessors": {
        "zero_center": preprocessing.ZeroCenter,
        "standardize": preprocessing.Standardize,
        "pca": preprocessing.PCA,
        "whitening": preprocessing.Whitening,
    },
    "search": {
        "grid": search.GridSearch,
        "random": search.RandomSearch,
        "log_uniform": search.LogUniformSearch,
        "coarse_to_fine": search.CoarseToFine,
    },
    "trainers": {
        "minibatch": trainer.MiniBatchTrainer,
    },
    "diagnosers": {
        "curves": diagnosis.CurveDiagnoser,
    },
}
"""Every reference component by kind and registry name."""


@hookimpl
def gradekit_register(registry):
    """Register every reference component under the name assignments ask for."""
    for kind, table in COMPONENTS.items():
        section = getattr(registry, kind)
        for name, factory in table.items():
            section[name] = factory
