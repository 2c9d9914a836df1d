"""Plugins and scheduling for the whole suite.

pytester drives the self-check's runs (tests/selfcheck); pytest accepts ``pytest_plugins``
only in a top-level conftest, hence here. The suite runs on every core with pytest-xdist:
the tests of one file stay on one worker, so that what a file computes once (graders,
kits, hostile gradings) is computed once; the hostile files, the longest, are split by
sandbox backend. Each worker has its own temporary folders and caches.
"""

from __future__ import annotations

import os
import re

pytest_plugins = ["pytester"]

# xdist's workers are the suite's parallelism: each keeps numpy's BLAS to one thread (set
# before they start, so before they import numpy), as every sandboxed worker does.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

SHARED = {"tests/kit/test_kit.py": "kits", "tests/kit/test_student_install.py": "kits"}
"""Files that share a session fixture worth building once: their unit of work."""
SPLIT = re.compile(r"^tests/hostile/.*\[(bwrap|rlimits)\b")
"""Tests whose unit of work is their file and sandbox backend."""


def unit_of_work(nodeid: str) -> str:
    """The tests one xdist worker runs together: a file, a shared fixture's files, or a
    hostile file under one backend."""
    path = nodeid.split("::", 1)[0]
    backend = SPLIT.match(nodeid)
    return f"{path}:{backend[1]}" if backend else SHARED.get(path, path)


def pytest_xdist_make_scheduler(config, log):
    """Schedule by ``unit_of_work`` (xdist's own groups do not survive pytest 9's ids)."""
    from xdist.scheduler import LoadScopeScheduling

    class ByUnitOfWork(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return unit_of_work(nodeid)

    return ByUnitOfWork(config, log)
