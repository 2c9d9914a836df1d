"""gradekit: grade numpy implementations of backprop, initialization, optimization and
regularization against trusted reference implementations.

A submission is a module with one hook::

    import gradekit

    @gradekit.hookimpl
    def gradekit_register(registry):
        registry.activations["relu"] = ReLU
"""

from .components import KINDS
from .errors import GradekitError, RegistrationError, SubmissionError
from .hookspecs import hookimpl, hookspec
from .plugins import import_submission, load_catalog
from .registry import Catalog, Entry, Registry, Source


def __getattr__(name: str) -> str:
    """``__version__``, read on first use: importlib.metadata costs each worker's start 20 ms."""
    if name == "__version__":
        from importlib.metadata import version

        return version("gradekit")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "KINDS",
    "Catalog",
    "Entry",
    "GradekitError",
    "RegistrationError",
    "Registry",
    "Source",
    "SubmissionError",
    "__version__",
    "hookimpl",
    "hookspec",
    "import_submission",
    "load_catalog",
]
