"""Wheels of the running gradekit: the grader's whole, or the student's engine alone.

Built from the installed packages, so they work from a checkout (editable install) and
from an installed wheel alike. The metadata and entry points are the distribution's.
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from collections.abc import Iterable
from importlib import metadata
from importlib.resources import files
from pathlib import Path

STUDENT_LEAVES_OUT = (
    "batch.py",
    "experiments/",
    "audit.py",
    "commands/audit.py",
    "commands/experiment.py",
    "commands/gradescope.py",
    "commands/init.py",
    "commands/kit.py",
    "commands/report.py",
    "kit/build.py",
    "kit/wheel.py",
    "report/analytics.py",
    "report/html.py",
    "report/similarity.py",
)
"""The instructor's modules, left out of a student's engine: grading a class, the
experiments, building kits and bundles, the HTML report. None is needed to self-check (the
plotting modules stay: a notebook's ``gradekit.check()`` draws a failing check's figure)."""

_FIXED_TIME = (2020, 1, 1, 0, 0, 0)
"""Every file's time in the zip, so the same code gives the same wheel."""


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def package_files(package: str, leave_out: Iterable[str] = ()) -> list[tuple[str, Path]]:
    """Every file of an import package (no caches) as (name in the wheel, path), without
    the files and folders (ending in ``/``) of ``leave_out``, relative to the package."""
    root = Path(str(files(package)))
    skip = tuple(leave_out)
    found = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if "__pycache__" in rel.split("/") or path.suffix == ".pyc" or not path.is_file():
            continue
        if any(rel == s or (s.endswith("/") and rel.startswith(s)) for s in skip):
            continue
        found.append((f"{package}/{rel}", path))
    return found


def build_wheel(
    folder: Path, packages: Iterable[str], leave_out: Iterable[str] = (), summary: str = ""
) -> Path:
    """A pure-Python wheel named ``gradekit`` of ``packages``, written to ``folder``.

    ``leave_out`` names files of the ``gradekit`` package to omit (see
    ``STUDENT_LEAVES_OUT``); ``summary`` replaces the distribution's one-line summary.
    """
    packages = tuple(packages)
    dist = metadata.distribution("gradekit")
    version = dist.version
    info = f"gradekit-{version}.dist-info"
    meta = [
        "Metadata-Version: 2.1",
        "Name: gradekit",
        f"Version: {version}",
        f"Summary: {summary or dist.metadata.get('Summary', '')}",
        f"Requires-Python: {dist.metadata.get('Requires-Python', '>=3.11')}",
        *(f"Requires-Dist: {r}" for r in dist.requires or [] if "extra ==" not in r),
    ]
    extra = {
        f"{info}/METADATA": "\n".join(meta) + "\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: gradekit\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
        f"{info}/entry_points.txt": dist.read_text("entry_points.txt") or "",
        f"{info}/top_level.txt": "\n".join(packages) + "\n",
    }
    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / f"gradekit-{version}-py3-none-any.whl"
    record = []

    def write(zf: zipfile.ZipFile, name: str, data: bytes) -> None:
        zf.writestr(zipfile.ZipInfo(name, _FIXED_TIME), data, zipfile.ZIP_DEFLATED)
        record.append(_record_line(name, data))

    with zipfile.ZipFile(wheel, "w") as zf:
        for package in packages:
            skip = leave_out if package == "gradekit" else ()
            for name, path in package_files(package, skip):
                write(zf, name, path.read_bytes())
        for name, text in extra.items():
            write(zf, name, text.encode())
        record.append(f"{info}/RECORD,,")
        zf.writestr(zipfile.ZipInfo(f"{info}/RECORD", _FIXED_TIME), "\n".join(record) + "\n")
    return wheel
