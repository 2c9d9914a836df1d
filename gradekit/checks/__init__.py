"""The check kinds, by the name an assignment file uses as a check's ``type``.

Each built-in module here is a plugin implementing ``gradekit_check_kinds``, the same
hook an installed plugin package uses to add its own kinds.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from ..errors import GradekitError
from .base import Case, CheckKind, Options, Target


@cache
def check_kinds() -> dict[str, CheckKind]:
    """Every check kind: gradekit's own modules, then installed plugins', by name."""
    from importlib.metadata import entry_points

    from ..plugins import ENTRY_POINT_GROUP, new_plugin_manager

    pm = new_plugin_manager()
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "gradekit_check_kinds"):
            pm.register(module, name=f"gradekit.checks.{info.name}")
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        module = ep.load()
        if hasattr(module, "gradekit_check_kinds") and not pm.is_registered(module):
            pm.register(module, name=f"plugin:{ep.name}")
    kinds: dict[str, CheckKind] = {}
    for impl in pm.hook.gradekit_check_kinds.get_hookimpls():
        for kind in impl.function():
            if kind.name in kinds:
                raise GradekitError(
                    f"{impl.plugin_name}: check kind {kind.name!r} is defined twice"
                )
            kinds[kind.name] = kind
    return kinds


__all__ = ["Case", "CheckKind", "Options", "Target", "check_kinds"]
