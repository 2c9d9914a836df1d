"""``gradekit gradescope``: an autograder bundle for Gradescope, and the command it runs.

``gradekit gradescope build ASSIGNMENT -o autograder.zip`` writes a zip with, at its root,
``setup.sh`` (run once, as root, on Gradescope's Ubuntu image: installs bubblewrap and
gradekit from the wheel in the zip), ``run_autograder`` (run once per submission), a wheel
of the gradekit that built the bundle, and the assignment's folder (its spec, hidden checks
included; not its examples, which may hold a solution). ``run_autograder`` calls
``gradekit gradescope run``, which grades ``<root>/submission`` through the same worker and
limits as ``gradekit grade`` and writes ``<root>/results/results.json``. Built with a
course secret, the zip also holds it as ``course-secret``, which ``run_autograder`` passes
to ``gradekit gradescope run --secret-file`` to salt the hidden checks' seeds. The root is
``/autograder`` unless ``GRADEKIT_AUTOGRADER_ROOT`` says otherwise; ``GRADEKIT_BIN`` names
the gradekit to call instead of the one setup.sh installed (both for testing a bundle
outside Gradescope).
"""

from __future__ import annotations

import argparse
import json
import os
import time
import zipfile
from pathlib import Path
from typing import Any

from rich.console import Console

from ..errors import GradekitError
from ..kit.wheel import build_wheel
from ..sandbox.intake import FILE_SUFFIXES, is_folder

ROOT_ENV = "GRADEKIT_AUTOGRADER_ROOT"
"""Overrides ``/autograder``, the root Gradescope's harness uses."""
BIN_ENV = "GRADEKIT_BIN"
"""The gradekit executable ``run_autograder`` calls (default: the one setup.sh installs)."""
VENV = "/opt/gradekit"
"""Where setup.sh installs gradekit on the autograder image."""
PACKAGES = ("gradekit", "gradekit_reference", "gradekit_assignments")
"""The import packages of the gradekit distribution, all of which go into the wheel."""
SECRET_FILE = "course-secret"
"""The bundle's copy of the course secret, at its root (``/autograder/source``)."""

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
    "from gradekit.assignments import load_assignment; load_assignment('./assignment')"
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this once per submission, from /autograder. It grades
# $ROOT/submission against the bundled assignment and writes $ROOT/results/results.json.
set -uo pipefail
ROOT="${{{root_env}:-/autograder}}"
GRADEKIT="${{{bin_env}:-{venv}/bin/gradekit}}"
exec "$GRADEKIT" gradescope run "$ROOT/source/assignment" --root "$ROOT"{secret_option}
"""


# ------------------------------------------------------------------ the bundle
def _add_executable(zf: zipfile.ZipFile, name: str, text: str) -> None:
    entry = zipfile.ZipInfo(name, date_time=time.localtime()[:6])
    entry.external_attr = 0o100755 << 16
    entry.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(entry, text)


def _add_secret(zf: zipfile.ZipFile, secret: str) -> None:
    """Store the course secret, readable by its owner only (root on Gradescope)."""
    entry = zipfile.ZipInfo(SECRET_FILE, date_time=time.localtime()[:6])
    entry.external_attr = 0o100600 << 16
    entry.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(entry, secret + "\n")


def build_bundle(
    assignment: str | Path, output: Path, wheel: Path | None = None, secret: str | None = None
) -> Path:
    """Write the autograder zip for ``assignment`` (a bundled name or a folder).

    With a course ``secret``, the zip carries it and ``run_autograder`` grades with it.
    """
    import tempfile

    from ..assignments import load_assignment

    loaded = load_assignment(assignment)
    with tempfile.TemporaryDirectory() as tmp:
        if wheel is None:
            wheel = build_wheel(Path(tmp), PACKAGES)
        elif not (wheel.is_file() and wheel.name.endswith(".whl")):
            raise GradekitError(f"{wheel}: not a wheel file")
        output.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as zf:
            _add_executable(zf, "setup.sh", SETUP_SH.format(venv=VENV, wheel=wheel.name))
            option = f' --secret-file "$ROOT/source/{SECRET_FILE}"' if secret else ""
            _add_executable(
                zf,
                "run_autograder",
                RUN_AUTOGRADER.format(
                    root_env=ROOT_ENV, bin_env=BIN_ENV, venv=VENV, secret_option=option
                ),
            )
            if secret:
                _add_secret(zf, secret)
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
def _lexists(path: Path) -> bool:
    """Whether ``path`` is there, a dangling link included (the link is not followed)."""
    return path.is_symlink() or path.exists()


def _candidate(path: Path) -> bool:
    """A ``.py`` file, a notebook or a package folder, or a link or special file in the
    place of one.

    Nothing is followed: a link (named ``x.py``, or with no suffix, as a package would be)
    is found as it is, for the grader to refuse with its reason.
    """
    if path.name.startswith((".", "_")):
        return False
    if path.is_symlink():
        return path.suffix in (*FILE_SUFFIXES, "")
    if is_folder(path):
        return _lexists(path / "__init__.py")
    return path.suffix in FILE_SUFFIXES


def find_submission(folder: Path) -> Path:
    """The submission Gradescope put in ``folder``: a package, or its one ``.py`` file,
    notebook or package folder. Links are never followed (see ``sandbox.intake``)."""
    if folder.is_symlink():
        return folder
    if not folder.is_dir():
        raise GradekitError(f"{folder}: no submission folder")
    if _lexists(folder / "__init__.py"):
        return folder
    found = sorted(p for p in folder.iterdir() if _candidate(p))
    if len(found) != 1:
        names = ", ".join(p.name for p in found) or "nothing"
        upload = "upload one .py file or one package folder (or one notebook)"
        raise GradekitError(f"{folder}: {upload}; found {names}")
    return found[0]


def _write(results: Path, payload: dict[str, Any]) -> None:
    results.parent.mkdir(parents=True, exist_ok=True)
    tmp = results.with_suffix(".tmp")
    tmp.write_text(json.dumps(payload, indent=2) + "\n")
    tmp.replace(results)


def run_submission(assignment: str | Path, root: Path, secret: str | None = None) -> dict[str, Any]:
    """Grade ``root/submission``, write ``root/results/results.json``, return what was written.

    Whatever goes wrong, a results.json is written: a submission that cannot be found, or
    that is refused (a link, a special file), gets score 0 and a message, as Gradescope
    shows nothing without the file.
    """
    from ..assignments import load_assignment
    from ..grading import Grader
    from ..report.files import gradescope_results

    start = time.perf_counter()
    results = root / "results" / "results.json"
    # A bad spec is the instructor's error: it stops here, before any results.json.
    grader = Grader(load_assignment(assignment), secret=secret)
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
    from ..assignments import load_assignment
    from ..secret import course_secret, notice_public_seeds

    wheel = Path(args.wheel) if args.wheel else None
    secret = course_secret(args.secret_file)
    loaded = load_assignment(args.assignment)
    out = build_bundle(args.assignment, Path(args.output), wheel, secret)
    notice_public_seeds([loaded], secret)
    console.print(f"wrote {out}: upload it as the assignment's autograder on Gradescope")
    return 0


def _run(args: argparse.Namespace, console: Console) -> int:
    """``gradekit gradescope run``: what run_autograder calls."""
    from ..assignments import load_assignment
    from ..secret import course_secret, notice_public_seeds

    root = Path(args.root or os.environ.get(ROOT_ENV) or "/autograder")
    secret = course_secret(args.secret_file)
    notice_public_seeds([load_assignment(args.assignment)], secret)
    payload = run_submission(args.assignment, root, secret)
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
    b.add_argument(
        "--secret-file",
        metavar="FILE",
        help="bundle this course secret for hidden checks' seeds (default: $GRADEKIT_SECRET)",
    )
    b.set_defaults(run=_build)
    r = inner.add_parser("run", help="grade <root>/submission into <root>/results/results.json")
    r.add_argument("assignment", help="the assignment folder (in the bundle: source/assignment)")
    r.add_argument("--root", help=f"the autograder root (default: ${ROOT_ENV} or /autograder)")
    r.add_argument(
        "--secret-file",
        metavar="FILE",
        help="the course secret for hidden checks' seeds (default: $GRADEKIT_SECRET)",
    )
    r.set_defaults(run=_run)
