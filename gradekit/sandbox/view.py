"""What a worker can import: the standard library, numpy, pluggy and gradekit's contract.

A worker's interpreter starts without ``site`` (``-S``), so no site-packages folder is on
its path: nothing installed beside gradekit (the reference, the bundled assignments, the
grader's own modules) can be imported. Its only extra import folder is a *view*: a copy of
the gradekit modules a worker needs to load a plugin and run a plan, and links to numpy
and pluggy. None of those modules implements a component or computes an expected outcome.
"""

from __future__ import annotations

import shutil
from functools import cache
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import gradekit

WORKER_MODULES = (
    "__init__.py",
    "errors.py",
    "hookspecs.py",
    "plugins.py",
    "registry.py",
    "components/__init__.py",
    "components/initializers.py",
    "components/layers.py",
    "components/losses.py",
    "components/optimizers.py",
    "components/preprocessors.py",
    "components/regularizers.py",
    "components/training.py",
    "routines.py",
    "problems.py",
    "regression.py",
    "sandbox/__init__.py",
    "sandbox/isolate.py",
    "sandbox/orders.py",
    "sandbox/plan.py",
    "sandbox/transport.py",
    "sandbox/worker.py",
    "sandbox/zygote.py",
)
"""The gradekit files a worker sees, relative to the package: the contract (hookspecs,
registry, protocols), the plugin loader, the plan executor and the trusted routines."""

LIBRARIES = ("numpy", "pluggy")
"""The distributions a worker may import besides the standard library."""


def boot(module: str) -> str:
    """The ``-c`` program of a worker (``worker``) or a template (``zygote``): put the
    view first on the path, then run ``gradekit.sandbox.<module>`` as ``__main__``."""
    return (
        "import sys; sys.path.insert(0, sys.argv.pop(1)); import runpy; "
        f"runpy.run_module('gradekit.sandbox.{module}', run_name='__main__', alter_sys=True)"
    )


@cache
def library_roots() -> tuple[Path, ...]:
    """The real top-level folders and modules of ``LIBRARIES`` (numpy.libs included)."""
    roots: set[Path] = set()
    for name in LIBRARIES:
        try:
            dist = distribution(name)
        except PackageNotFoundError:  # pragma: no cover - both are dependencies
            continue
        for file in dist.files or ():
            top = file.parts[0]
            if top == ".." or top.endswith((".dist-info", ".egg-info", ".pth")):
                continue
            path = Path(str(dist.locate_file(top)))
            if path.exists():
                roots.add(path.resolve())
    return tuple(sorted(roots))


def build_view(folder: Path) -> Path:
    """Write a worker's import folder into ``folder`` (created) and return it."""
    package = Path(gradekit.__file__).parent
    folder.mkdir(parents=True)
    for relative in WORKER_MODULES:
        target = folder / "gradekit" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(package / relative, target)
    for root in library_roots():
        (folder / root.name).symlink_to(root, target_is_directory=root.is_dir())
    return folder
