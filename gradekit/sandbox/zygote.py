"""The warm template: an interpreter with numpy, the contract and a class's plans loaded,
that forks one worker per request and never runs a submission's code itself.

Started with ``SOCKET_FD BOOK CONFINE`` (see ``template`` for the parent's side). Each
request on the socket carries three descriptors (the worker's order pipe, its answer
pipe and its output) and one submission's folder; the reply is the child's pid. The
child learns which submission to import from its first order, so it can be forked before
the submission is known (a class's spare worker, ``classroom``).
The child leaves the template's state behind: it closes every descriptor but its own,
restores the default signal handlers, enters its own namespaces when ``CONFINE`` is 1
(``isolate``), takes fresh random state, and then is a worker like a cold one (``serve``).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
from pathlib import Path

import numpy as np
import numpy.linalg
import numpy.random

from . import isolate
from .transport import Book, read_book
from .worker import serve

REQUEST_BYTES = 1 << 16
_IGNORED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGPIPE)


def _reap() -> None:
    """Collect exited children. Only ever between requests: a pid the parent was just
    told stays that process's until the parent has opened it."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def close_all_but(keep: set[int]) -> None:
    """Close every descriptor not in ``keep``: the template's socket above all."""
    low = 0
    for fd in sorted(keep | {1 << 16}):
        if low < fd:  # an empty range would close everything (it reaches close_range as -1)
            os.closerange(low, fd)
        low = fd + 1


def _child(request: dict, fds: list[int], books: dict[str, Book], confine: bool) -> int:
    """Become one submission's worker; the first line on its answer pipe says whether
    its namespaces were set up (before any order is read, so before any student code)."""
    order_in, answer_out, output = fds
    os.setsid()
    for sig in _IGNORED:
        signal.signal(sig, signal.SIG_DFL)
    os.dup2(output, 1)
    os.dup2(output, 2)
    close_all_but({0, 1, 2, order_in, answer_out})
    folder = Path(request["folder"])
    try:
        isolate.die_with_parent()
        if confine:
            isolate.confine(folder)
            home = isolate.WORKER_HOME
        else:
            home = folder / "home"
        os.chdir(home)
    except OSError as exc:
        os.write(answer_out, json.dumps({"not_started": str(exc)[:300]}).encode() + b"\n")
        return 71
    os.write(answer_out, b'{"started": true}\n')
    os.environ.update(HOME=str(home), TMPDIR=str(home))
    np.random.seed()  # the template's global state is every child's: each draws its own
    return serve(order_in, answer_out, None, books)


def main(argv: list[str]) -> int:
    """Serve fork requests until the parent closes the socket."""
    sock = socket.socket(fileno=int(argv[0]))
    books = {argv[1]: read_book(Path(argv[1]))}
    confine = argv[2] == "1"
    for sig in _IGNORED:  # a worker's signal to its parent never stops the template
        signal.signal(sig, signal.SIG_IGN)
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(sock, REQUEST_BYTES, 3)
        except OSError:
            return 1
        if not message:
            return 0
        _reap()
        pid = os.fork()
        if pid == 0:
            try:
                sock.close()
                code = _child(json.loads(message), fds, books, confine)
            except BaseException as exc:
                print(f"gradekit: the worker could not start: {exc}", file=sys.stderr)
                code = 70
            os._exit(code)
        for fd in fds:
            os.close(fd)
        sock.sendall(json.dumps({"pid": pid}).encode())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
