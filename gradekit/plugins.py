"""The plugin manager: the reference, installed plugin packages and submissions.

Submissions are imported from their path under a private module name, never through
``sys.path``, so two submissions with the same file or helper names cannot see each other.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import sys
import traceback
from pathlib import Path
from types import ModuleType

import pluggy

from . import hookspecs
from .errors import GradekitError, SubmissionError
from .registry import Catalog, Registry, Source

ENTRY_POINT_GROUP = "gradekit"
REFERENCE_MODULE = "gradekit_reference"


def new_plugin_manager() -> pluggy.PluginManager:
    """A plugin manager that knows gradekit's hookspecs and nothing else yet."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    return pm


def _student_frame(exc: BaseException, path: Path) -> str:
    """`` (file.py, line N)`` for the innermost frame inside the submission, if any."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if _inside(f.filename, path)]
    return f" ({Path(frames[-1].filename).name}, line {frames[-1].lineno})" if frames else ""


def _inside(filename: str, path: Path) -> bool:
    root = path if path.is_dir() else path.parent
    try:
        return Path(filename).resolve().is_relative_to(root.resolve())
    except OSError:
        return False


def import_submission(path: str | Path) -> ModuleType:
    """Import a submission given as a ``.py`` file or a package folder, or raise SubmissionError.

    The module gets a name derived from the path's hash, so it cannot collide with an
    installed module or another submission, and relative imports work inside a package.
    """
    path = Path(path)
    if path.is_dir():
        init = path / "__init__.py"
        if not init.is_file():
            raise SubmissionError(str(path), "a package submission needs an __init__.py")
        spec_args = {"submodule_search_locations": [str(path)]}
        file = init
    elif path.suffix == ".py" and path.is_file():
        spec_args = {}
        file = path
    elif not path.exists():
        raise SubmissionError(str(path), "no such file or folder")
    else:
        raise SubmissionError(str(path), "a submission is a .py file or a package folder")
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]
    name = f"gradekit_submission_{digest}"
    spec = importlib.util.spec_from_file_location(name, file, **spec_args)
    if spec is None or spec.loader is None:
        raise SubmissionError(str(path), "cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        sys.modules.pop(name, None)
        where = f"{Path(exc.filename or file).name}, line {exc.lineno}"
        raise SubmissionError(str(path), f"syntax error ({where}): {exc.msg}") from None
    except BaseException as exc:  # a submission may raise anything, SystemExit included
        sys.modules.pop(name, None)
        raise SubmissionError(
            str(path),
            f"importing it raised {type(exc).__name__}: {exc}{_student_frame(exc, path)}",
        ) from None
    return module


def _register(pm: pluggy.PluginManager, module: object, source: Source) -> None:
    """Register ``module`` with the plugin manager, turning pluggy's errors into one line."""
    hook = getattr(module, "gradekit_register", None)
    if hook is None:
        raise SubmissionError(
            source.location,
            "no gradekit_register hook: define"
            " `@gradekit.hookimpl def gradekit_register(registry)`",
        )
    if not callable(hook) or pm.parse_hookimpl_opts(module, "gradekit_register") is None:
        raise SubmissionError(
            source.location, "gradekit_register is not decorated with @gradekit.hookimpl"
        )
    try:
        pm.register(module, name=f"{source.origin}:{source.location}")
    except pluggy.PluginValidationError:
        got = inspect.signature(hook)
        raise SubmissionError(
            source.location, f"gradekit_register{got} has a wrong signature: expected (registry)"
        ) from None
    except ValueError as exc:
        raise SubmissionError(source.location, f"registered twice: {exc}") from None


def _collect(pm: pluggy.PluginManager, sources: dict[str, Source]) -> Catalog:
    """Call every plugin's hook with a registry of its own, so provenance is exact."""
    catalog = Catalog()
    for impl in pm.hook.gradekit_register.get_hookimpls():  # in registration order
        source = sources[impl.plugin_name]
        registry = Registry(source)
        try:
            impl.function(registry=registry)
        except GradekitError as exc:
            raise SubmissionError(source.location, str(exc)) from None
        except BaseException as exc:
            path = Path(source.location)
            raise SubmissionError(
                source.location,
                f"gradekit_register raised {type(exc).__name__}: {exc}{_student_frame(exc, path)}",
            ) from None
        catalog.add(registry)
    return catalog


def load_catalog(
    submission: str | Path | None = None,
    *,
    reference: bool = True,
    installed: bool = True,
) -> Catalog:
    """Load the reference, installed plugin packages and a submission, in that order.

    Later sources override earlier ones name by name; the catalog keeps all of them.
    """
    pm = new_plugin_manager()
    sources: dict[str, Source] = {}

    def add(module: object, source: Source) -> None:
        _register(pm, module, source)
        sources[f"{source.origin}:{source.location}"] = source

    if reference and importlib.util.find_spec(REFERENCE_MODULE) is not None:  # not a kit's
        module = importlib.import_module(REFERENCE_MODULE)
        add(module, Source("reference", "reference", REFERENCE_MODULE))
    if installed:
        from importlib.metadata import entry_points  # not at import: a worker's start

        for ep in entry_points(group=ENTRY_POINT_GROUP):
            try:
                module = ep.load()
            except Exception as exc:
                raise SubmissionError(
                    f"plugin {ep.name} ({ep.value})",
                    f"failed to load: {type(exc).__name__}: {exc}",
                ) from None
            add(module, Source("plugin", ep.name, ep.value))
    if submission is not None:
        add(
            import_submission(submission),
            Source("submission", Path(submission).stem, str(submission)),
        )
    return _collect(pm, sources)
