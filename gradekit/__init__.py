"""gradekit: grade numpy implementations of backprop, initialization, optimization and
regularization against trusted reference implementations.

A submission is a module with one hook::

    import gradekit

    @gradekit.hookimpl
    def gradekit_register(registry):
        registry.activations["relu"] = ReLU
"""

from importlib.metadata import version

from .components import KINDS
from .errors import GradekitError, RegistrationError, SubmissionError
from .hookspecs import hookimpl, hookspec
from .plugins import import_submission, load_catalog
from .registry import Catalog, Entry, Registry, Source

__version__ = version("gradekit")

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
