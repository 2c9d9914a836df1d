"""The check kinds, by the name an assignment file uses."""

from __future__ import annotations

from .base import Case, CheckKind, Options, Target
from .gradient import Gradient
from .updates import ScheduleValues, Update
from .values import Values

CHECK_KINDS: dict[str, CheckKind] = {
    kind.name: kind for kind in (Gradient(), Values(), Update(), ScheduleValues())
}

__all__ = ["CHECK_KINDS", "Case", "CheckKind", "Options", "Target"]
