"""What a worker may use: time, memory, files, processes, output."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """What a worker may use. Times are wall-clock seconds; sizes are MiB."""

    call: float = 30.0
    """One plan (one check's calls)."""
    startup: float = 30.0
    """Importing the submission."""
    submission: float = 600.0
    """Every call of one submission together; checks after that time out at once."""
    memory_mb: int = 2048
    """Address space of the worker (RLIMIT_AS)."""
    cpu_seconds: int = 600
    """CPU time of one worker process (RLIMIT_CPU)."""
    file_mb: int = 64
    """The largest file the worker may write (RLIMIT_FSIZE)."""
    open_files: int = 256
    processes: int = 64
    """Processes and threads at once (a pids cgroup as root, else RLIMIT_NPROC)."""
    output_kb: int = 64
    """How much of the worker's printed output is kept (the rest is read and dropped)."""


SET_BY_THE_WORKER = ("memory_mb", "cpu_seconds", "file_mb", "open_files", "processes")
"""The limits the worker sets on itself (``worker.apply_limits``) before it imports code."""
