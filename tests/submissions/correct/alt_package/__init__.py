"""A correct submission written as a package with a small class hierarchy.

One of three independent correct submissions (with ``alt_classes.py`` and
``alt_functional.py``): the grader must accept each of them. The modules are imported
with relative imports; the hook registers every component of the contract.
"""

from __future__ import annotations

import gradekit

from . import activations as act
from . import initializers as ini
from . import losses, optim, prep, regularize, training
from .layers import BatchNorm, DropConnect, Dropout, Linear, VanillaDropout

_ACTIVATIONS = {
    "sigmoid": act.Sigmoid,
    "tanh": act.Tanh,
    "relu": act.ReLU,
    "leaky_relu": act.LeakyReLU,
    "prelu": act.PReLU,
    "elu": act.ELU,
    "selu": act.SELU,
    "gelu": act.GELU,
    "softplus": act.Softplus,
    "swish": act.Swish,
    "silu": act.Swish,
}


@gradekit.hookimpl
def gradekit_register(registry):
    registry.layers["linear"] = Linear
    registry.layers["batchnorm"] = BatchNorm
    registry.layers["dropout"] = Dropout
    registry.layers["vanilla_dropout"] = VanillaDropout
    registry.layers["dropconnect"] = DropConnect
    for name, cls in _ACTIVATIONS.items():
        registry.activations[name] = cls
    registry.losses["squared_error"] = losses.SquaredError
    registry.losses["softmax_cross_entropy"] = losses.SoftmaxCrossEntropy
    registry.losses["hinge"] = losses.Hinge
    for name, cls in [
        ("constant", ini.Constant),
        ("normal", ini.Normal),
        ("uniform", ini.Uniform),
        ("xavier", ini.Xavier),
        ("xavier_uniform", ini.XavierUniform),
        ("glorot", ini.Glorot),
        ("glorot_uniform", ini.GlorotUniform),
        ("he", ini.He),
        ("he_uniform", ini.HeUniform),
    ]:
        registry.initializers[name] = cls
    registry.optimizers["sgd"] = optim.SGD
    registry.optimizers["momentum"] = optim.Momentum
    registry.optimizers["nesterov"] = optim.Nesterov
    registry.optimizers["adagrad"] = optim.Adagrad
    registry.optimizers["rmsprop"] = optim.RMSProp
    registry.optimizers["adam"] = optim.Adam
    registry.schedules["step"] = optim.StepDecay
    registry.schedules["exponential"] = optim.ExponentialDecay
    registry.schedules["inverse_time"] = optim.InverseTimeDecay
    registry.penalties["l1"] = regularize.L1
    registry.penalties["l2"] = regularize.L2
    registry.early_stopping["early_stopping"] = regularize.EarlyStopping
    registry.transforms["mixup"] = regularize.Mixup
    registry.transforms["cutmix"] = regularize.CutMix
    registry.transforms["flip"] = regularize.HorizontalFlip
    registry.transforms["crop"] = regularize.RandomCrop
    registry.transforms["noise"] = regularize.GaussianNoise
    registry.transforms["cutout"] = regularize.Cutout
    registry.transforms["rotation_pretext"] = regularize.RotationPretext
    registry.preprocessors["zero_center"] = prep.ZeroCenter
    registry.preprocessors["standardize"] = prep.Standardize
    registry.preprocessors["pca"] = prep.PCA
    registry.preprocessors["whitening"] = prep.Whitening
    registry.search["grid"] = training.GridSearch
    registry.search["random"] = training.RandomSearch
    registry.search["log_uniform"] = training.LogUniformSearch
    registry.search["coarse_to_fine"] = training.CoarseToFine
    registry.trainers["minibatch"] = training.MiniBatchTrainer
    registry.diagnosers["curves"] = training.CurveDiagnoser
