"""The worker process: imports one submission and runs the plans the parent sends.

Started as ``python -m gradekit.sandbox.worker SUBMISSION FD_IN FD_OUT``. The control
pipe carries only folder names and acknowledgements. Plans are files in a folder the
parent writes (read-only under bubblewrap); results are files in a folder of the
worker's. Nothing the worker says is trusted: the parent validates every result.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np

import gradekit

from ..errors import SubmissionError
from ..plugins import load_catalog
from .plan import execute
from .transport import read_plan, write_outcome

_HIDE = (str(Path(gradekit.__file__).parent), str(Path(np.__file__).parent))


class MissingComponent(LookupError):
    """The submission registers no component of that kind and name."""


def main(argv: list[str]) -> int:
    """Load the submission, say whether it loaded, then run plans until the pipe closes."""
    submission, fd_in, fd_out = argv[0], int(argv[1]), int(argv[2])
    os.environ.pop("PWD", None)  # set by bubblewrap's --chdir; the worker's env is only ours
    control_in = os.fdopen(fd_in, "r")
    control_out = os.fdopen(fd_out, "w")

    def say(message: dict) -> None:
        control_out.write(json.dumps(message) + "\n")
        control_out.flush()

    try:
        catalog = load_catalog(submission, reference=False, installed=False)
    except SubmissionError as exc:
        say({"load_error": exc.problem})
        return 0

    def resolve(kind: str, name: str):
        entry = catalog.get(kind, name)
        if entry is None:
            raise MissingComponent(f"the submission registers no {kind} {name!r}")
        return entry.factory

    say({"ready": True})
    for line in control_in:
        order = json.loads(line)
        ops, arrays = read_plan(Path(order["plan"]))
        out = Path(order["out"])
        out.mkdir()
        write_outcome(out, execute(ops, arrays, resolve, hide=_HIDE))
        say({"done": out.name})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
