"""Warm workers: forked per submission by one template, yet nothing crosses between them.

Each probe submission reports what it can see from inside its worker (as the message of
an exception, the only channel a test needs): the modules, files, environment variables
and random draws another submission left, the class's folder, its capabilities.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from gradekit.sandbox import classroom
from gradekit.sandbox.backends import available
from gradekit.sandbox.classroom import Classroom
from gradekit.sandbox.plan import Plan
from gradekit.sandbox.runner import Limits, WorkerSession

PROBE = textwrap.dedent(
    """
    import ctypes, json, os, random, sys
    from pathlib import Path
    import numpy as np
    import gradekit

    MARK = {mark!r}
    SEEN = {{
        "modules": sorted(m for m in sys.modules if m.startswith("probe_mark_")),
        "env": sorted(k for k in os.environ if k.startswith("PROBE_MARK_")),
        "home": sorted(os.listdir(".")),
        "numpy": np.random.random(4).tolist(),
        "random": [random.random() for _ in range(4)],
    }}
    sys.modules["probe_mark_" + MARK] = sys
    os.environ["PROBE_MARK_" + MARK] = "1"
    Path("left_by_" + MARK).write_text(MARK)


    def _others(roots):
        found = []
        for root in roots:
            try:
                found += [str(p) for p in Path(root).rglob("left_by_*")]
            except OSError as exc:
                found.append(f"unreadable: {{exc.strerror}}")
        return sorted(found)


    def _capabilities():
        header = (ctypes.c_uint32 * 2)(0x20080522, 0)
        data = (ctypes.c_uint32 * 6)()
        ctypes.CDLL(None).capget(header, data)
        return [data[0], data[3]]  # effective, low and high words


    def _writable(path):
        try:
            Path(path, "probe").write_text("x")
            return True
        except OSError:
            return False


    class ReLU:
        def __init__(self):
            self.params, self.grads = {{}}, {{}}

        def forward(self, x, *, training=True):
            report = dict(SEEN, class_files=_others({classes!r}), caps=_capabilities())
            report["writable"] = [p for p in ("/", "/tmp", "/class", "/plans") if _writable(p)]
            raise RuntimeError("LEAK:" + json.dumps(report))


    @gradekit.hookimpl
    def gradekit_register(registry):
        registry.activations["relu"] = ReLU
    """
)


def probe_plan() -> Plan:
    plan = Plan()
    plan.make("act", "activations", "relu")
    plan.call("act", "forward", plan.array([[1.0]]), save="y")
    return plan


def report(session: WorkerSession) -> dict:
    outcome = session.run(probe_plan())
    assert outcome.failure is not None, outcome.detail
    message = outcome.failure.message
    assert message.startswith("LEAK:"), message
    return json.loads(message[len("LEAK:") :])


@pytest.fixture(params=["bwrap", "rlimits"])
def backend(request) -> str:
    if request.param not in available():
        pytest.skip(f"the {request.param} backend does not work on this machine")
    return request.param


def probes(tmp_path: Path, room: Classroom) -> list[Path]:
    paths = []
    for mark in ("a", "b"):
        path = tmp_path / f"probe_{mark}.py"
        path.write_text(PROBE.format(mark=mark, classes=[str(room.root), "/class"]))
        paths.append(path)
    return paths


def test_two_submissions_of_one_template_share_nothing(tmp_path, backend):
    """A then B, each forked by the same template: B sees none of A's modules, files,
    environment or random draws."""
    room = Classroom([probe_plan()], backend, ())
    try:
        first, second = probes(tmp_path, room)
        seen = []
        for path in (first, second):
            with WorkerSession(path, Limits(call=30.0), backend, (), room) as session:
                seen.append(report(session))
                assert session.warm, "the session fell back to a cold worker"
        template = room.template()
        assert template is not None and room._started == [template], "one template for both"
        a, b = seen
        assert a["modules"] == b["modules"] == [] and a["env"] == b["env"] == []
        assert a["home"] == b["home"] == [], "a worker's folder starts empty"
        assert a["numpy"] != b["numpy"], "numpy's global random state was shared"
        assert a["random"] != b["random"], "Python's random state was shared"
    finally:
        room.close()


@pytest.mark.skipif("bwrap" not in available(), reason="bubblewrap does not work here")
def test_a_confined_warm_worker_sees_no_other_submission_and_holds_no_capability(tmp_path):
    """Two sessions open at once: B cannot read A's folder (the class's folder is covered),
    can write only its own home, and has no capability left with which to undo a mount."""
    room = Classroom([probe_plan()], "bwrap", ())
    try:
        first, second = probes(tmp_path, room)
        with WorkerSession(first, Limits(call=30.0), "bwrap", (), room) as a:
            report(a)
            assert list(room.root.rglob("left_by_a")), "A wrote its file into its home"
            with WorkerSession(second, Limits(call=30.0), "bwrap", (), room) as b:
                seen = report(b)
                assert b.warm
        assert not any("left_by_a" in p for p in seen["class_files"]), seen["class_files"]
        assert seen["caps"] == [0, 0], "the worker kept capabilities"
        assert seen["writable"] == [], seen["writable"]
        assert seen["home"] == []
    finally:
        room.close()


def test_a_template_that_died_leaves_cold_workers(tmp_path, backend):
    """The template is killed: the next submission is graded by a cold worker, correctly."""
    room = Classroom([probe_plan()], backend, ())
    try:
        first, second = probes(tmp_path, room)
        with WorkerSession(first, Limits(call=30.0), backend, (), room) as session:
            report(session)
        template = room.template()
        assert template is not None
        template._proc.kill()
        template._proc.wait()
        with WorkerSession(second, Limits(call=30.0), backend, (), room) as session:
            assert report(session)["modules"] == []
            assert not session.warm
        assert room.template() is None
    finally:
        room.close()


@pytest.mark.skipif("bwrap" not in available(), reason="bubblewrap does not work here")
def test_a_submission_too_large_to_copy_gets_a_cold_worker(tmp_path, monkeypatch):
    """A confined warm worker sees a copy of its submission; one past the copy's limit is
    graded by a cold worker, which sees it where it lies, and nothing is left behind."""
    room = Classroom([probe_plan()], "bwrap", ())
    try:
        first, _ = probes(tmp_path, room)
        monkeypatch.setattr(classroom, "COPY_LIMIT", first.stat().st_size - 1)
        with WorkerSession(first, Limits(call=30.0), "bwrap", (), room) as session:
            assert report(session)["modules"] == []
            assert not session.warm
        assert room.template() is not None, "the template is still there for the next"
        # its refused seat is gone; the next submission's waits, holding nothing yet
        assert sorted(p.name for p in room.root.iterdir()) == ["lib", "plans.bin", "s1"]
        assert list((room.root / "s1" / "submission").iterdir()) == []
    finally:
        room.close()


def test_a_cold_worker_reads_the_class_plans_once(tmp_path):
    """A class's cold worker reads the file of plans at its first check and keeps it: the
    file moved away after that, every later check still runs."""
    room = Classroom([probe_plan(), probe_plan()], "rlimits", (), warm=False)
    try:
        first, _ = probes(tmp_path, room)
        with WorkerSession(first, Limits(call=30.0), "rlimits", (), room) as session:
            plans = room._plans
            assert session.run(plans[0]).failure is not None and not session.warm
            room.book.rename(room.book.with_name("moved.bin"))
            outcome = session.run(plans[1])
            assert outcome.failure is not None, outcome.detail
            assert outcome.failure.message.startswith("LEAK:"), outcome.failure.message
    finally:
        room.close()


def test_the_next_submissions_worker_waits_in_its_seat(tmp_path, backend):
    """While A is graded, B's seat is prepared: a worker forked and confined, waiting with
    nothing in its folder; B's session takes that very worker. Closing the class stops the
    worker still waiting for a third submission, and removes every seat."""
    room = Classroom([probe_plan()], backend, ())
    try:
        first, second = probes(tmp_path, room)
        with WorkerSession(first, Limits(call=30.0), backend, (), room) as a:
            report(a)
        preparing = room._ready
        assert preparing is not None, "no seat prepared for the next submission"
        preparing._thread.join()
        seat = preparing._seat
        assert seat is not None and seat.usable()
        assert sorted(p.name for p in seat.here.iterdir()) == ["home", "plans", "submission"]
        assert not any(seat.here.rglob("*.py")), "a waiting seat holds no submission"
        with WorkerSession(second, Limits(call=30.0), backend, (), room) as b:
            assert report(b)["modules"] == []
            assert b._worker is seat.worker, "B did not take the waiting worker"
        third = room._ready
        assert third is not None
        third._thread.join()
        waiting = third._seat
        assert waiting is not None and waiting.usable()
        worker = waiting.worker
    finally:
        room.close()
    assert worker is not None and worker.exited(), "a waiting worker outlived its class"
    assert not room.root.exists()


def test_a_class_last_held_by_its_seat_thread_still_closes(tmp_path, monkeypatch):
    """The thread preparing a seat holds the class until it ends: if the class is collected
    there, its closing must not wait for that very thread (it raised and left its folder)."""
    release, unraised, calls = threading.Event(), [], []

    def start_warm(*args):
        calls.append(args)
        if len(calls) > 1:  # the seat prepared in the background waits for the test
            release.wait(10)

    class Stub:
        backend = "rlimits"

        def folder(self, name):
            (tmp_path / name).mkdir()
            return tmp_path / name, tmp_path / name

        def alive(self):
            return True

    monkeypatch.setattr(classroom, "start_warm", start_warm)
    monkeypatch.setattr(sys, "unraisablehook", unraised.append)
    room = Classroom([probe_plan()], "rlimits", ())
    root, template = room.root, Stub()
    room.seat(template, (8, 1024, 5.0))  # the first seat, made here; the next one prepared
    preparing = room._ready._thread
    del room
    gc.collect()
    release.set()
    preparing.join(10)
    assert unraised == []
    assert not root.exists(), "the class's folder was left behind"


CLOSED_IN_ITS_SEAT_THREAD = """
import sys, threading, time
from gradekit.sandbox import classroom
from gradekit.sandbox.plan import Plan

def slowed(action, started=None):  # in the seat's thread: making and removing a seat
    def slowly(*args):
        if threading.current_thread() is not threading.main_thread():
            if started is not None:
                started.set()
            time.sleep(0.5)
        return action(*args)
    return slowly

closing = threading.Event()
classroom.start_warm = slowed(classroom.start_warm)
classroom.Seat.leave = slowed(classroom.Seat.leave, closing)
room = classroom.Classroom([Plan()], "rlimits", ())
print(room.root, flush=True)
room.seat(room.template(), (16, 1024, 30.0)).leave()  # the next seat is being prepared
del room  # the seat's thread holds the class, which closes there once the seat is made
closing.wait(30)
sys.exit(0)  # while the class is closing in that thread
"""


def test_a_class_closing_in_its_seat_thread_is_closed_before_the_process_exits():
    """A grader that exits while the thread preparing a seat closes the class (the last to
    hold it) waits for it: the class's folder and template go, as at any other exit."""
    done = subprocess.run(
        [sys.executable, "-c", CLOSED_IN_ITS_SEAT_THREAD],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    root = Path(done.stdout.split()[0])
    assert not root.exists(), "the class's folder was left behind"


@pytest.mark.skipif("bwrap" not in available(), reason="bubblewrap does not work here")
def test_a_file_planted_in_a_waiting_seat_is_never_written_through(tmp_path):
    """The next seat exists while another submission is graded: a link planted where its
    copy goes is not followed, and the submission gets a cold worker instead."""
    room = Classroom([probe_plan()], "bwrap", ())
    try:
        first, second = probes(tmp_path, room)
        with WorkerSession(first, Limits(call=30.0), "bwrap", (), room) as a:
            report(a)
        room._ready._thread.join()
        target = tmp_path / "elsewhere.py"
        (room._ready._seat.here / "submission" / second.name).symlink_to(target)
        with WorkerSession(second, Limits(call=30.0), "bwrap", (), room) as b:
            assert report(b)["modules"] == []
            assert not b.warm
        assert not target.exists(), "the copy followed a planted link"
    finally:
        room.close()


def test_a_seat_that_cannot_be_made_leaves_a_cold_worker(tmp_path, monkeypatch):
    """A seat's folder that cannot be made (a name taken) costs the warm worker, never the
    submission's grade."""
    room = Classroom([probe_plan()], "rlimits", ())

    def taken(*args):
        raise FileExistsError("taken")

    try:
        first, _ = probes(tmp_path, room)
        monkeypatch.setattr(Classroom, "_new_seat", taken)
        with WorkerSession(first, Limits(call=30.0), "rlimits", (), room) as session:
            assert report(session)["modules"] == []
            assert not session.warm
    finally:
        room.close()
