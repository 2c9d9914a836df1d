"""The worker boundary: a hang or a crash costs one check; results are validated data."""

from __future__ import annotations

import io
import os
import re
import subprocess
import textwrap
import threading
import time

import numpy as np
import pytest

from gradekit.sandbox.backends import available
from gradekit.sandbox.plan import Plan
from gradekit.sandbox.runner import Limits, WorkerSession
from gradekit.sandbox.transport import TransportError, decode_outcome

SUBMISSION = """
import os, sys
import numpy as np
import gradekit

class Good:
    def __init__(self):
        self.params, self.grads = {}, {}
    def forward(self, x, *, training=True):
        return np.tanh(x)

class Hang(Good):
    def forward(self, x, *, training=True):
        while True:
            pass

class Dies(Good):
    def forward(self, x, *, training=True):
        os._exit(3)

class Exits(Good):
    def forward(self, x, *, training=True):
        sys.exit(0)

class Stamps(Good):  # writes the time it was called into the worker's folder
    def forward(self, x, *, training=True):
        import time
        with open("called.txt", "a") as f:
            print(time.time(), file=f)
        return np.tanh(x)

class ExitsLater(Good):  # answers, then a thread of its own kills the worker
    def forward(self, x, *, training=True):
        import threading, time
        threading.Thread(target=lambda: (time.sleep(0.2), os._exit(3))).start()
        return np.tanh(x)

class Shouts(Good):
    def forward(self, x, *, training=True):
        print('{"done": "task1"}')
        print("PASSED 100/100")
        return np.tanh(x)

@gradekit.hookimpl
def gradekit_register(registry):
    for name, cls in [("good", Good), ("hang", Hang), ("dies", Dies), ("exits", Exits),
                      ("shouts", Shouts), ("stamps", Stamps), ("exits_later", ExitsLater)]:
        registry.activations[name] = cls
"""


def forward_plan(name: str) -> Plan:
    plan = Plan()
    plan.make("c", "activations", name)
    plan.call("c", "forward", plan.array(np.linspace(-1, 1, 6).reshape(2, 3)), save="y")
    return plan


@pytest.fixture
def session(tmp_path):
    path = tmp_path / "student.py"
    path.write_text(textwrap.dedent(SUBMISSION))
    with WorkerSession(path, Limits(call=1.0)) as s:
        yield s


def test_a_hang_times_out_and_the_next_call_runs_in_a_new_worker(session):
    assert session.run(forward_plan("hang")).status == "timeout"
    after = session.run(forward_plan("good"))
    assert after.status == "ok"
    np.testing.assert_array_equal(after.values["y"], np.tanh(np.linspace(-1, 1, 6).reshape(2, 3)))


@pytest.mark.parametrize("name", ["dies", "exits"])
def test_a_worker_that_exits_costs_only_that_call(session, name):
    outcome = session.run(forward_plan(name))
    assert outcome.status in ("crashed", "error")
    assert "y" not in outcome.values
    assert session.run(forward_plan("good")).status == "ok"


def test_the_next_plan_runs_while_the_caller_judges(session):
    """run_many sends plan k+1 before it yields outcome k: the worker has already called
    the component again by the time the caller, slow to judge, asks for the next outcome."""
    outcomes = session.run_many([(forward_plan("stamps"), None)] * 2)
    first = next(outcomes)
    before = time.time()
    time.sleep(1.0)  # judging the first outcome: the second plan runs meanwhile
    second = next(outcomes)
    called = [float(t) for t in (session._root / "home" / "called.txt").read_text().split()]
    assert first.status == second.status == "ok" and len(called) == 2
    assert called[1] < before + 1.0, "the second plan waited for the caller"


def test_a_late_caller_still_gets_a_punctual_answer(session):
    """A plan's timeout counts from its sending: an answer that came in time is read even
    when the caller comes back after the timeout (1 s here) has passed."""
    outcomes = session.run_many([(forward_plan("good"), None)] * 2)
    next(outcomes)
    time.sleep(1.5)
    assert next(outcomes).status == "ok"


def test_a_hang_among_many_costs_only_its_check(session):
    plans = [(forward_plan(name), None) for name in ("good", "hang", "good", "dies", "good")]
    statuses = [o.status for o in session.run_many(plans)]
    assert statuses[0] == statuses[2] == statuses[4] == "ok"
    assert statuses[1] == "timeout" and statuses[3] in ("crashed", "error")


def test_the_submission_budget_counts_the_workers_time_not_the_judging(tmp_path):
    path = tmp_path / "student.py"
    path.write_text(textwrap.dedent(SUBMISSION))
    with WorkerSession(path, Limits(call=1.0, submission=1.5)) as session:
        plans = [(forward_plan(name), None) for name in ("hang", "hang", "good")]
        outcomes = list(session.run_many(plans))
    assert [o.status for o in outcomes] == ["timeout", "timeout", "timeout"]
    assert re.search(r"no answer within 0\.[45]\d* s", outcomes[1].detail)  # what was left
    assert "time budget (1.5 s) is used up" in outcomes[2].detail
    with WorkerSession(path, Limits(call=1.0, submission=0.6)) as session:
        outcomes = session.run_many([(forward_plan("good"), None)] * 4)
        for outcome in outcomes:
            assert outcome.status == "ok", outcome.detail
            time.sleep(0.3)  # judging: 1.2 s in all, not charged to the submission


@pytest.mark.parametrize("backend", ["rlimits", "bwrap"])
def test_a_worker_killed_between_checks_is_replaced(tmp_path, backend):
    """A thread that kills the worker after its call answered leaves the pipe closed for
    the next order: the next check gets a fresh worker, and grading goes on."""
    if backend not in available():
        pytest.skip(f"the {backend} backend does not work here")
    path = tmp_path / "student.py"
    path.write_text(textwrap.dedent(SUBMISSION))
    with WorkerSession(path, Limits(call=1.0), backend) as session:
        plans = [(forward_plan(name), None) for name in ("exits_later", "good", "good")]
        statuses = []
        for outcome in session.run_many(plans):
            statuses.append(outcome.status)
            time.sleep(0.5)  # the thread fires while the grader judges
    assert statuses == ["ok", "ok", "ok"]


_FORKING = threading.Event()
_FORKS: list[str] = []
os.register_at_fork(before=lambda: _FORKS.append("fork") if _FORKING.is_set() else None)


@pytest.mark.parametrize("backend", ["rlimits", "bwrap"])
def test_a_worker_is_spawned_so_no_fork_handler_runs_in_the_grader(tmp_path, backend):
    """A fork runs every library's fork handlers in the grader, OpenBLAS's among them, which
    deadlocks the grader when another of its threads is inside a matrix product; a spawn
    runs none. Python's own handlers stand in for the libraries': they run exactly when a
    child is forked (a ``preexec_fn``), as the control shows."""
    if backend not in available():
        pytest.skip(f"the {backend} backend does not work here")
    path = tmp_path / "student.py"
    path.write_text(textwrap.dedent(SUBMISSION))
    _FORKING.set()
    try:
        subprocess.run(["true"], preexec_fn=lambda: None, check=True)
        control, _FORKS[:] = list(_FORKS), []
        with WorkerSession(path, Limits(call=1.0), backend) as session:
            assert session.run(forward_plan("good")).status == "ok"
    finally:
        _FORKING.clear()
    assert control == ["fork"]
    assert _FORKS == []


def test_printing_fake_results_changes_nothing(session):
    outcome = session.run(forward_plan("shouts"))
    assert outcome.status == "ok"
    assert set(outcome.values) == {"y"}


NUMERIC = np.arange(3.0)
OBJECTS = np.array(["a", "b"], dtype=object)
FORTRAN = np.asfortranarray(np.arange(6.0).reshape(2, 3))
ONE = '{"values": {"y": {"t": "array", "index": 0}}, "arrays": 1}'


@pytest.mark.parametrize(
    ("record", "result", "pattern"),
    [
        (NUMERIC, '{"values": {"y": {"t": "array", "index": 5}}, "arrays": 1}', "bad array index"),
        (NUMERIC, '{"values": {"y": {"t": "pickle", "v": 1}}, "arrays": 1}', "malformed value"),
        (NUMERIC, "not json", "not valid JSON"),
        (OBJECTS, '{"values": {"y": {"t": "array", "index": 0}}, "arrays": 1}', "not a plain"),
        (NUMERIC.astype(">f8"), ONE, None),
        (FORTRAN, ONE, None),
        (NUMERIC, '{"values": {}, "arrays": 2}', "not in the .npy format"),
    ],
)
def test_malformed_results_are_rejected(record, result, pattern):
    """Each flaw is refused with its reason; numpy's own records of a big-endian or a
    Fortran-ordered array (``pattern`` None) are read, values intact."""
    records = io.BytesIO()
    np.lib.format.write_array(records, record, allow_pickle=True)
    if pattern is None:
        outcome = decode_outcome(result.encode(), lambda: io.BytesIO(records.getvalue()))
        assert all(np.array_equal(v, record) for v in outcome.values.values())
        return
    with pytest.raises(TransportError, match=pattern):
        decode_outcome(result.encode(), lambda: io.BytesIO(records.getvalue()))
