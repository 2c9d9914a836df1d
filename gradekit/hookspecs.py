"""The hooks a plugin implements: empty functions whose docstrings are the contract."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from .checks.base import CheckKind
    from .registry import Registry

PROJECT = "gradekit"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def gradekit_register(registry: Registry) -> None:
    """Register this plugin's components by kind and name.

    ``registry`` has one dict-like section per kind: ``layers``, ``activations``,
    ``losses``, ``initializers``, ``optimizers``, ``schedules``, ``penalties``,
    ``transforms``, ``early_stopping``, ``preprocessors``, ``search``, ``trainers`` and
    ``diagnosers``. Put a class (or any callable that builds a component) under the
    name the assignment asks for::

        @gradekit.hookimpl
        def gradekit_register(registry):
            registry.activations["relu"] = ReLU
            registry.optimizers["adam"] = Adam

    The grader builds each component by calling it with the hyperparameters of the
    check as keyword arguments (``Adam(lr=0.01)``), so constructors take the names the
    component reference documents, with the same defaults. Instances follow the protocol
    of their kind (``gradekit.components``). A name may be registered once per plugin.
    Register only: do no work at import time and keep no global state.
    """


@hookspec
def gradekit_check_kinds() -> list[CheckKind]:
    """Return the check kinds this plugin adds, for instance ``[MyCheck()]``.

    A check kind (``gradekit.checks.CheckKind``) has a ``name`` that assignment files use
    as a check's ``type``, the component ``kinds`` it applies to, an ``options`` model,
    and three methods: ``plan`` (the calls to make), ``expect`` (the outcome on trusted
    code) and ``judge`` (cases with messages). gradekit's own check kinds register
    through this hook too. Only installed plugins and gradekit itself implement it:
    submissions are never loaded in the grader's process.
    """
