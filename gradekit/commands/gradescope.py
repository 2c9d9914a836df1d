"""``gradekit gradescope``: an autograder bundle for Gradescope, and the command it runs.

``gradekit gradescope build ASSIGNMENT -o autograder.zip`` writes a zip with, at its root,
``setup.sh`` (run once, as root, on Gradescope's Ubuntu image: installs bubblewrap and
gradekit from the wheel in the zip), ``run_autograder`` (run once per submission), a wheel
of the gradekit that built the bundle, and the assignment's folder (its spec, hidden checks
included; not its examples, which may hold a solution). ``run_autograder`` calls
``gradekit gradescope run``, which grades ``<root>/submission`` through the same worker and
limits as ``gradekit grade`` and writes ``<root>/results/results.json``. The root is
``/autograder`` unless ``GRADEKIT_AUTOGRADER_ROOT`` says otherwise; ``GRADEKIT_BIN`` names
the gradekit to call instead of the one setup.sh installed (both for testing a bundle
outside Gradescope).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import time
import zipfile
from importlib import metadata
from importlib.resources import files
from pathlib import Path
from typing import Any

from rich.console import Console

from ..errors import GradekitError

ROOT_ENV = "GRADEKIT_AUTOGRADER_ROOT"
"""Overrides ``/autograder``, the root Gradescope's harness uses."""
BIN_ENV = "GRADEKIT_BIN"
"""The gradekit executable ``run_autograder`` calls (default: the one setup.sh installs)."""
VENV = "/opt/gradekit"
"""Where setup.sh installs gradekit on the autograder image."""
PACKAGES = ("gradekit", "gradekit_reference", "gradekit_assignments")
"""The import packages of the gradekit distribution, all of which go into the wheel."""

SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (Ubuntu).
# It installs bubblewrap (the worker's sandbox) and gradekit from the wheel in this bundle.
set -euo pipefail
cd "$(dirname "$0")"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq bubblewrap python3 python3-venv python3-pip
PYTHON=python3
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    apt-get install -y -qq software-properties-common
    add-apt-repository -y ppa:deadsnakes/ppa
    apt-get update -qq
    apt-get install -y -qq python3.11 python3.11-venv
    PYTHON=python3.11
fi
"$PYTHON" -m venv {venv}
{venv}/bin/pip install --quiet --upgrade pip
{venv}/bin/pip install --quiet ./{wheel}
# Fail the image build, not every submission, when the spec does not load.
{venv}/bin/python -c \\
    "from gradekit.assignments import load_assignment; load_assignment('assignment')"
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this once per submission, from /autograder. It grades
# $ROOT/submission against the bundled assignment and writes $ROOT/results/results.json.
set -uo pipefail
ROOT="${{{root_env}:-/autograder}}"
GRADEKIT="${{{bin_env}:-{venv}/bin/gradekit}}"
exec "$GRADEKIT" gradescope run "$ROOT/source/assignment" --root "$ROOT"
"""


# ------------------------------------------------------------------ the wheel
def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def _package_files(package: str) -> list[tuple[str, Path]]:
    """Every file of an import package (no caches), as (name in the wheel, path)."""
    root = Path(str(files(package)))
    found = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if path.is_file() and "__pycache__" not in rel.parts and path.suffix != ".pyc":
            found.append((f"{package}/{rel.as_posix()}", path))
    return found


def build_wheel(folder: Path) -> Path:
    """A pure-Python wheel of the gradekit that is running, written to ``folder``.

    Built from the installed packages, so it works from a checkout (editable install) and
    from an installed wheel alike; its metadata and entry points are the distribution's.
    """
    dist = metadata.distribution("gradekit")
    version = dist.version
    info = f"gradekit-{version}.dist-info"
    meta = [
        "Metadata-Version: 2.1",
        "Name: gradekit",
        f"Version: {version}",
        f"Summary: {dist.metadata.get('Summary', '')}",
        f"Requires-Python: {dist.metadata.get('Requires-Python', '>=3.11')}",
        *(f"Requires-Dist: {r}" for r in dist.requires or [] if "extra ==" not in r),
    ]
    extra = {
        f"{info}/METADATA": "\n".join(meta) + "\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: gradekit\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
        f"{info}/entry_points.txt": dist.read_text("entry_points.txt") or "",
        f"{info}/top_level.txt": "\n".join(PACKAGES) + "\n",
    }
    wheel = folder / f"gradekit-{version}-py3-none-any.whl"
    record = []
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as zf:
        for package in PACKAGES:
            for name, path in _package_files(package):
                data = path.read_bytes()
                zf.writestr(name, data)
                record.append(_record_line(name, data))
        for name, text in extra.items():
            zf.writestr(name, text)
            record.append(_record_line(name, text.encode()))
        record.append(f"{info}/RECORD,,")
        zf.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
    return wheel


# ------------------------------------------------------------------ the bundle
def _add_executable(zf: zipfile.ZipFile, name: str, text: str) -> None:
    entry = zipfile.ZipInfo(name, date_time=time.localtime()[:6])
    entry.external_attr = 0o100755 << 16
    entry.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(entry, text)


def build_bundle(assignment: str | Path, output: Path, wheel: Path | None = None) -> Path:
    """Write the autograder zip for ``assignment`` (a bundled name or a folder)."""
    import tempfile

    from ..assignments import load_assignment

    loaded = load_assignment(assignment)
    with tempfile.TemporaryDirectory() as tmp:
        if wheel is None:
            wheel = build_wheel(Path(tmp))
        elif not (wheel.is_file() and wheel.name.endswith(".whl")):
            raise GradekitError(f"{wheel}: not a wheel file")
        output.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as zf:
            _add_executable(zf, "setup.sh", SETUP_SH.format(venv=VENV, wheel=wheel.name))
            _add_executable(
                zf,
                "run_autograder",
                RUN_AUTOGRADER.format(root_env=ROOT_ENV, bin_env=BIN_ENV, venv=VENV),
            )
            zf.write(wheel, wheel.name)
            for path in sorted(loaded.folder.rglob("*")):
                rel = path.relative_to(loaded.folder)
                skip = (
                    "__pycache__" in rel.parts
                    or any(p.startswith(".") for p in rel.parts)
                    or rel.parts[0] == "examples"  # may hold a solution; grading needs none
                )
                if path.is_file() and not skip:
                    zf.write(path, f"assignment/{rel.as_posix()}")
    return output


# ------------------------------------------------------------------ grading one submission
def find_submission(folder: Path) -> Path:
    """The submission Gradescope put in ``folder``: a package, or its one ``.py`` file or
    package folder."""
    if not folder.is_dir():
        raise GradekitError(f"{folder}: no submission folder")
    if (folder / "__init__.py").is_file():
        return folder
    found = sorted(
        p
        for p in folder.iterdir()
        if not p.name.startswith((".", "_"))
        and ((p.is_file() and p.suffix == ".py") or (p / "__init__.py").is_file())
    )
    if len(found) != 1:
        names = ", ".join(p.name for p in found) or "nothing"
        raise GradekitError(f"{folder}: upload one .py file or one package folder; found {names}")
    return found[0]


def _write(results: Path, payload: dict[str, Any]) -> None:
    results.parent.mkdir(parents=True, exist_ok=True)
    tmp = results.with_suffix(".tmp")
    tmp.write_text(json.dumps(payload, indent=2) + "\n")
    tmp.replace(results)


def run_submission(assignment: str | Path, root: Path) -> dict[str, Any]:
    """Grade ``root/submission``, write ``root/results/results.json``, return what was written.

    Whatever goes wrong, a results.json is written: a submission that cannot be found gets
    score 0 and a message, as Gradescope shows nothing without the file.
    """
    from ..assignments import load_assignment
    from ..grading import Grader
    from ..report.files import gradescope_results

    start = time.perf_counter()
    results = root / "results" / "results.json"
    grader = Grader(load_assignment(assignment))  # a bad spec is the instructor's error
    try:
        submission = find_submission(root / "submission")
    except GradekitError as exc:
        payload: dict[str, Any] = {"score": 0.0, "output": str(exc), "tests": []}
    else:
        payload = gradescope_results(grader.grade(submission, submission.stem))
    payload["execution_time"] = round(time.perf_counter() - start, 3)
    _write(results, payload)
    return payload


# ------------------------------------------------------------------ the command line
def _build(args: argparse.Namespace, console: Console) -> int:
    """``gradekit gradescope build``."""
    wheel = Path(args.wheel) if args.wheel else None
    out = build_bundle(args.assignment, Path(args.output), wheel)
    console.print(f"wrote {out}: upload it as the assignment's autograder on Gradescope")
    return 0


def _run(args: argparse.Namespace, console: Console) -> int:
    """``gradekit gradescope run``: what run_autograder calls."""
    root = Path(args.root or os.environ.get(ROOT_ENV) or "/autograder")
    payload = run_submission(args.assignment, root)
    total = sum(t["max_score"] for t in payload["tests"])
    console.print(f"score {payload['score']:g}/{total:g}; wrote {root / 'results/results.json'}")
    return 0


def add_parser(sub: Any) -> None:
    """Add ``gradekit gradescope build`` and ``gradekit gradescope run``."""
    p = sub.add_parser("gradescope", help="export an assignment as a Gradescope autograder")
    inner = p.add_subparsers(dest="gradescope_command", required=True)
    b = inner.add_parser("build", help="write the autograder zip (setup.sh, run_autograder)")
    b.add_argument("assignment", help="a bundled assignment's name or an assignment folder")
    b.add_argument("-o", "--output", default="autograder.zip", help="the zip to write")
    b.add_argument("--wheel", metavar="FILE", help="bundle this gradekit wheel instead")
    b.set_defaults(run=_build)
    r = inner.add_parser("run", help="grade <root>/submission into <root>/results/results.json")
    r.add_argument("assignment", help="the assignment folder (in the bundle: source/assignment)")
    r.add_argument("--root", help=f"the autograder root (default: ${ROOT_ENV} or /autograder)")
    r.set_defaults(run=_run)
