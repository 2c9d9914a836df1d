"""The course secret: it salts the seeds of hidden checks, so their inputs are not public.

An assignment's spec is public (the bundled ones ship with gradekit), so anyone can
compute a hidden check's inputs from its seed, and a correct component's answers, at
home. With a course secret, each hidden check's seed is an HMAC-SHA256 of its public
seed under the secret: answers memorised for the public seeds then match nothing.
Public checks keep their seeds, so a student's local verdicts stay those of the grader.

The secret comes from ``--secret-file FILE`` or, without one, from ``GRADEKIT_SECRET``.
It is never printed, written to a result, or passed to a worker.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Iterable
from pathlib import Path

from .assignments import Assignment
from .errors import GradekitError

SECRET_ENV = "GRADEKIT_SECRET"
"""The environment variable that holds the course secret."""

NOTICE = (
    "gradekit: no course secret: hidden checks use the assignment file's public seeds, so"
    f" their answers can be computed at home; set {SECRET_ENV} or pass --secret-file FILE"
    " (see docs/grading.md)."
)
"""What gradekit says once when it grades hidden checks without a secret."""


def read_secret_file(file: str | Path) -> str:
    """The secret in ``file``, stripped; a GradekitError in one line when it has none."""
    path = Path(file)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise GradekitError(f"{path}: the secret file is not UTF-8 text") from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise GradekitError(f"{path}: cannot read the secret file: {reason}") from None
    secret = text.strip()
    if not secret:
        raise GradekitError(f"{path}: the secret file is empty")
    return secret


def course_secret(file: str | Path | None) -> str | None:
    """The course secret: ``file``'s content if given, else ``GRADEKIT_SECRET``, else None."""
    if file is not None:
        return read_secret_file(file)
    return os.environ.get(SECRET_ENV, "").strip() or None


def secret_digest(secret: str | None) -> str:
    """A hash that tells secrets apart without revealing one ("" without a secret)."""
    if secret is None:
        return ""
    return hashlib.sha256(b"gradekit-secret\0" + secret.encode()).hexdigest()


def has_hidden_checks(assignment: Assignment) -> bool:
    """Whether any check of ``assignment`` is hidden (and so wants a secret seed)."""
    return any(check.visibility == "hidden" for check in assignment.spec.checks)


def notice_public_seeds(assignments: Iterable[Assignment], secret: str | None) -> None:
    """Say once on stderr that hidden checks use public seeds, when there is no secret."""
    if secret is None and any(has_hidden_checks(a) for a in assignments):
        print(NOTICE, file=sys.stderr)
