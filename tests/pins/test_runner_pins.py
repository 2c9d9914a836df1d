"""The parent's side of the boundary (``sandbox.runner``), pinned on stand-in workers and a
stand-in clock: the first order (the submission and the limits the worker sets), the
startup's outcomes, each order's form (a class plan by index, a small plan inline, a large
one in a file of its own, removed once answered), each way an answer fails (a timeout, a
death, a lie, too many bytes, an unreadable result, a spent worker) to its status and
message and whether the worker is replaced, the per-call timeout and the submission's
budget (the worker's time, never the judging), the catalog's outcomes, the command line of
a cold worker, and the warm seat; then one real worker under rlimits."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from gradekit.errors import SubmissionError
from gradekit.sandbox import backends, runner
from gradekit.sandbox.isolate import WORKER_PLANS
from gradekit.sandbox.limits import Limits
from gradekit.sandbox.orders import INLINE_BYTES
from gradekit.sandbox.plan import Failure, Outcome, Plan
from gradekit.sandbox.runner import WorkerSession
from gradekit.sandbox.transport import answer_frame, encode_book, encode_outcome, read_book
from gradekit.sandbox.view import boot

# --- stand-ins: a clock, workers that answer from a script


class Clock:
    """``runner.time``: a monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


class Fake:
    """A worker that answers from a script of ``(seconds it takes, what is read)``: a
    message (a line, an answer's frame) or an answer's body (bytes, "timeout" or None).
    Its orders arrive on a real pipe; ``die`` closes the far end, so the next order fails."""

    def __init__(self, clock: Clock, script=(), bodies=frozenset()) -> None:
        self.clock = clock
        self.script = list(script)
        self.bodies = set(bodies)
        """The positions in ``script`` of answers' bodies."""
        self._read, self.orders = os.pipe()
        os.set_blocking(self._read, False)
        self.deadlines: list[float] = []
        """The deadline each message (a line, an answer's frame) was awaited by."""
        self.sizes: list[tuple[int, float]] = []
        """The size and deadline of each answer's body read."""
        self._at = 0
        self.printed = ""
        self.output = SimpleNamespace(tail=lambda: self.printed)
        self.stopped = False
        self.gone = False

    def _next(self, size: int | None, deadline: float):
        if self._at in self.bodies:
            self.sizes.append((size, deadline))
        else:
            self.deadlines.append(deadline)
        took, read = self.script[self._at]
        self._at += 1
        self.clock.now += took
        return read

    def read_message(self, deadline: float):
        return self._next(None, deadline)

    def read_exact(self, size: int, deadline: float):
        return self._next(size, deadline)

    def stop(self) -> None:
        self.stopped = True

    def exited(self) -> bool:
        return self.gone

    def die(self) -> None:
        os.close(self._read)

    def received(self) -> bytes:
        try:
            return os.read(self._read, 1 << 20)
        except BlockingIOError:
            return b""

    def orders_sent(self) -> list:
        """The JSON lines sent (an inline plan's bytes left out)."""
        data, found = self.received(), []
        while data:
            line, data = data.split(b"\n", 1)
            order = json.loads(line)
            found.append(order)
            if "inline" in order:
                data = data[order["inline"] :]
        return found


class WarmFake(Fake, runner.WarmWorker):
    """A stand-in forked by a template."""


READY = (0.0, {"ready": True})


def frame(task: int, json: int, records: int) -> bytearray:
    """An answer's frame as a worker's pipe hands it over."""
    return bytearray(answer_frame(task, b"-" * json, records))


def answer(task: int, outcome: Outcome, took: float = 0.0) -> tuple[tuple, tuple]:
    """A worker's answer to task ``task``: its frame and its body."""
    document, records = encode_outcome(outcome)
    return (took, frame(task, len(document), len(records))), (0.0, bytearray(document + records))


def ok(task: int, took: float = 0.0, y: float = 1.0) -> tuple[tuple, tuple]:
    return answer(task, Outcome(values={"y": np.full(2, y)}), took)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    c = Clock()
    monkeypatch.setattr(runner, "time", c)
    return c


@pytest.fixture
def started(monkeypatch, clock):
    """``start_cold`` handing out the queued stand-ins, with what each start was given."""
    queue: list[Fake] = []
    calls: list[tuple] = []

    def start_cold(command, home, cap, output):
        calls.append((command, home, cap, output))
        return queue.pop(0)

    monkeypatch.setattr(runner, "start_cold", start_cold)
    monkeypatch.setattr(runner, "ProcessCap", lambda limit: ("cap", limit))
    monkeypatch.setattr(runner, "build_view", view)
    return queue, calls


def view(folder: Path) -> Path:
    """``build_view`` as a stand-in: the folder, marked."""
    folder.mkdir()
    (folder / "view").write_text("")
    return folder


@pytest.fixture
def student(tmp_path) -> Path:
    path = tmp_path / "class" / "alice.py"
    path.parent.mkdir()
    path.write_text("")
    return path


def worker(clock: Clock, *script, kind: type = Fake) -> Fake:
    """A stand-in that is ready, then reads ``script``: messages, and answers (a frame
    and a body, see ``answer``)."""
    reads, bodies = [READY], set()
    for item in script:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], tuple):
            reads.append(item[0])
            bodies.add(len(reads))
            reads.append(item[1])
        else:
            reads.append(item)
    return kind(clock, reads, bodies)


def plan(pad: str = "") -> Plan:
    p = Plan()
    p.make("c", "activations", "relu", note=pad)
    p.call("c", "forward", p.array(np.arange(3.0)), save="y")
    return p


def session(student: Path, **limits) -> WorkerSession:
    return WorkerSession(student, Limits(**limits), "rlimits")


# --- starting: the first order, and what the startup says


def test_the_first_order_names_the_submission_and_the_limits_the_worker_sets(
    student, started, clock
):
    queue, calls = started
    fake = worker(clock, ok(1))
    queue.append(fake)
    limits = dict(memory_mb=100, cpu_seconds=7, file_mb=3, open_files=20, processes=5)
    with session(student, startup=4.0, output_kb=2, **limits) as s:
        assert s.run(plan()).status == "ok"
        root = s._root
    first = fake.orders_sent()[0]
    assert first == {"submission": str(student.resolve()), **limits}
    assert fake.deadlines[0] == 1000.0 + 4.0
    ((command, home, cap, output),) = calls
    assert home == root / "home" and cap == ("cap", 5) and output == 2 * 1024
    assert command.__self__ is s and command.__name__ == "_command"


def test_a_cold_session_has_its_own_folder_and_view_removed_on_close(student, started, clock):
    queue, _ = started
    queue.append(worker(clock, ok(1)))
    s = session(student)
    s.run(plan())
    root = s._root
    assert sorted(p.name for p in root.iterdir()) == ["home", "lib", "plans", "submission"]
    assert (root / "lib" / "view").is_file()
    s.close()
    assert s._root is None and not root.exists()
    assert queue == [] and s._worker is None


@pytest.mark.parametrize(
    ("message", "printed", "error"),
    [
        ("timeout", "", "the submission timed out importing"),
        (None, "", "the submission died while importing"),
        ({"ready": 1}, "", "the submission died while importing"),
        ([], "", "the submission died while importing"),
        ("timeout", "Traceback\nboom", "the submission timed out importing; its last output: "),
    ],
)
def test_a_worker_that_does_not_say_ready_is_a_load_error(
    student, started, clock, message, printed, error
):
    queue, _ = started
    fake = Fake(clock, [(0.0, message)])
    fake.printed = printed
    queue.append(fake)
    with session(student) as s:
        outcome = s.run(plan())
        assert fake.stopped
        assert s.load_error == error + printed
        assert outcome == Outcome(
            status="error", detail=f"the submission did not load: {error}{printed}"
        )
        assert s.run(plan()).detail == outcome.detail  # no new worker: it did not load
    assert len(fake.orders_sent()) == 1


def test_a_load_error_the_worker_reports_is_kept_cut_to_1000_characters(student, started, clock):
    queue, _ = started
    fake = Fake(clock, [(0.0, {"load_error": "x" * 1200})])
    queue.append(fake)
    with session(student) as s:
        outcome = s.run(plan())
        assert s.load_error == "x" * 1000
    assert fake.stopped
    assert (
        outcome.status == "error" and outcome.detail == "the submission did not load: " + "x" * 1000
    )


def test_a_load_error_that_is_not_text_is_a_death(student, started, clock):
    queue, _ = started
    queue.append(Fake(clock, [(0.0, {"load_error": 3})]))
    with session(student) as s:
        s.run(plan())
        assert s.load_error == "the submission died while importing"


def test_a_worker_whose_pipe_is_closed_at_once_died_importing(student, started, clock):
    queue, _ = started
    fake = Fake(clock, [])
    fake.die()
    queue.append(fake)
    with session(student) as s:
        assert (
            s.run(plan()).detail
            == "the submission did not load: the submission died while importing"
        )
    assert fake.deadlines == []


def test_a_refused_submission_starts_no_worker(tmp_path, started):
    _queue, calls = started
    (tmp_path / "real.py").write_text("")
    (tmp_path / "alice.py").symlink_to(tmp_path / "real.py")
    with WorkerSession(tmp_path / "alice.py", backend="rlimits") as s:
        outcome = s.run(plan())
        assert s.load_error == "alice.py: links are not graded: upload the file itself"
    assert outcome.status == "error"
    assert outcome.detail == f"the submission did not load: {s.load_error}"
    assert calls == []


# --- orders: inline, by file, by index


def test_a_small_plan_goes_inline_after_its_order(student, started, clock):
    queue, _ = started
    fake = worker(clock, ok(1), ok(2))
    queue.append(fake)
    p = plan()
    with session(student) as s:
        assert [o.status for o in s.run_many([(p, None), (p, None)])] == ["ok", "ok"]
        sent = fake.received()
    data = encode_book([(p.ops, p.arrays)])
    first = json.dumps({"inline": len(data), "out": 1}).encode() + b"\n" + data
    second = json.dumps({"inline": len(data), "out": 2}).encode() + b"\n" + data
    assert sent.endswith(first + second)


def padded(size: int) -> Plan:
    """A plan whose book is exactly ``size`` bytes."""
    base = len(encode_book([(plan().ops, plan().arrays)]))
    p = plan("x" * (size - base))
    assert len(encode_book([(p.ops, p.arrays)])) == size
    return p


def test_a_plan_of_inline_bytes_goes_inline_one_byte_more_in_a_file(student, started, clock):
    queue, _ = started
    fake = worker(clock, ok(1), ok(2))
    queue.append(fake)
    small, large = padded(INLINE_BYTES), padded(INLINE_BYTES + 1)
    with session(student) as s:
        outcomes = s.run_many([(small, None), (large, None)])
        assert next(outcomes).status == "ok"
        own = s._root / "plans" / "task2"
        assert own.is_file()  # sent before the first outcome is yielded
        ((ops, _arrays),) = read_book(own)
        assert ops == large.ops
        assert next(outcomes).status == "ok"
        assert not own.exists()  # removed once answered
        orders = fake.orders_sent()
    assert orders[1] == {"inline": INLINE_BYTES, "out": 1}
    assert orders[2] == {"book": str(own), "index": 0, "out": 2}
    assert INLINE_BYTES == 16 << 10


def test_a_large_plans_file_is_removed_whatever_the_answer(student, started, clock):
    queue, _ = started
    queue.append(worker(clock, (0.0, "timeout")))
    queue.append(worker(clock))
    with session(student, call=1.0) as s:
        assert s.run(padded(INLINE_BYTES + 1)).status == "timeout"
        assert list((s._root / "plans").iterdir()) == []


class Classroom:
    """A class without a template: its plans' file, its view, each plan's index."""

    def __init__(self, tmp: Path, plans: list[Plan]) -> None:
        self.book = tmp / "class" / "plans.bin"
        self.view = tmp / "class" / "lib"
        self._plans = plans

    def template(self):
        return None

    def index(self, p: Plan):
        return next((i for i, q in enumerate(self._plans) if q is p), None)


def test_a_class_plan_is_ordered_by_its_index_in_the_class_book(tmp_path, student, started, clock):
    queue, _ = started
    fake = worker(clock, ok(1), ok(2))
    queue.append(fake)
    plans = [plan(), plan()]
    room = Classroom(tmp_path, plans)
    with WorkerSession(student, Limits(), "rlimits", classroom=room) as s:
        assert s.run(plans[1]).status == "ok"
        assert s.run(plan()).status == "ok"  # not the class's: inline
        assert not (s._root / "lib").exists()  # the class's view is used
    orders = fake.orders_sent()
    assert orders[1] == {"book": str(room.book), "index": 1, "keep": True, "out": 1}
    assert "inline" in orders[2]


# --- answers


def test_an_answer_is_the_workers_outcome(student, started, clock):
    queue, _ = started
    fake = worker(clock, ok(1, y=3.0))
    queue.append(fake)
    with session(student) as s:
        outcome = s.run(plan())
    np.testing.assert_array_equal(outcome.values["y"], [3.0, 3.0])
    assert outcome.status == "ok" and outcome.failure is None
    ((size, _),) = fake.sizes
    assert size == len(bytes(ok(1, y=3.0)[1][1]))


def test_the_answer_is_awaited_until_the_plans_timeout_from_its_sending(student, started, clock):
    queue, _ = started
    fake = worker(clock, ok(1), ok(2), ok(3))
    queue.append(fake)
    with session(student, call=5.0) as s:
        s.run(plan())
        clock.now = 2000.0
        s.run(plan(), timeout=2.5)
        clock.now = 3000.0
        s.run(plan(), timeout=0)  # no timeout given: the call limit
    assert fake.deadlines[1:] == [1005.0, 2002.5, 3005.0]
    assert [d for _, d in fake.sizes] == [1005.0, 2002.5, 3005.0]


def test_a_timeout_costs_the_check_and_the_next_gets_a_new_worker(student, started, clock):
    queue, calls = started
    first = worker(clock, (1.5, "timeout"))
    second = worker(clock, ok(2))
    queue += [first, second]
    with session(student, call=1.5) as s:
        outcome = s.run(plan())
        assert outcome == Outcome(status="timeout", detail="no answer within 1.5 s")
        assert first.stopped and s._worker is None
        assert s.run(plan()).status == "ok"
    assert len(calls) == 2


@pytest.mark.parametrize(
    "head",
    [
        None,
        frame(2, 1, 0),
        bytearray(b'{"done": 1, "json": 1, "records": 0}\n'[:24]),
        frame(1, 1, 0)[:-1],
    ],
)
def test_a_worker_that_dies_or_lies_crashes_the_check(student, started, clock, head):
    queue, _ = started
    fake = worker(clock, (0.0, head))
    fake.printed = "Segmentation fault"
    queue.append(fake)
    with session(student) as s:
        outcome = s.run(plan())
    assert fake.stopped
    assert outcome == Outcome(
        status="crashed",
        detail="the worker died during the call; its last output: Segmentation fault",
    )


def test_a_crash_without_output_says_only_that(student, started, clock):
    queue, _ = started
    queue.append(worker(clock, (0.0, None)))
    with session(student) as s:
        assert s.run(plan()).detail == "the worker died during the call"


def test_an_answer_larger_than_allowed_is_unreadable_and_its_worker_replaced(
    student, started, clock
):
    """The records may take file_mb MiB; one byte more is refused before it is read."""
    queue, _ = started
    limit = 2 << 20
    fits = (0.0, frame(1, 0, limit)), (0.0, None)
    over = (0.0, frame(2, 0, limit + 1))
    fake = worker(clock, fits, over)
    queue.append(fake)
    with session(student, file_mb=2) as s:
        assert s.run(plan()).status == "crashed"  # read, then found cut short
        assert fake.sizes[0][0] == limit
        fake.stopped = False
        s._worker = fake
        outcome = s.run(plan())
    assert outcome == Outcome(
        status="error",
        detail=f"unreadable result from alice.py: the answer's {limit + 1} bytes are more "
        "than allowed",
    )
    assert fake.stopped and len(fake.sizes) == 1


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("timeout", Outcome(status="timeout", detail="no answer within 30 s")),
        (None, Outcome(status="crashed", detail="the worker died while answering")),
    ],
)
def test_an_answer_cut_short_costs_the_check(student, started, clock, body, expected):
    queue, _ = started
    head, _ = ok(1)
    fake = worker(clock, (head, (0.0, body)))
    queue.append(fake)
    with session(student) as s:
        assert s.run(plan()) == expected
    assert fake.stopped


def test_an_unreadable_result_is_an_error_of_the_check_and_the_worker_goes_on(
    student, started, clock
):
    queue, _ = started
    body = bytearray(b'{"values": {"y": {"t": "pickle"}}, "arrays": 0}')
    fake = worker(clock, ((0.0, frame(1, len(body), 0)), (0.0, body)), ok(2))
    queue.append(fake)
    with session(student) as s:
        outcome = s.run(plan())
        assert outcome == Outcome(
            status="error",
            detail="unreadable result from alice.py: malformed value of tag 'pickle'",
        )
        assert not fake.stopped
        assert s.run(plan()).status == "ok"


@pytest.mark.parametrize(
    ("kind", "replaced"), [("MemoryError", True), ("RecursionError", True), ("ValueError", False)]
)
def test_a_worker_that_ran_out_is_replaced_after_its_answer(
    student, started, clock, kind, replaced
):
    queue, calls = started
    failure = Failure(op=1, type=kind, message="", trace="")
    fake = worker(clock, answer(1, Outcome(failure=failure, status="error")), ok(2))
    queue += [fake, worker(clock, ok(2))]
    with session(student) as s:
        outcome = s.run(plan())
        assert outcome.failure == failure and outcome.status == "error"
        assert fake.stopped is replaced
        assert s.run(plan()).status == "ok"
    assert len(calls) == (2 if replaced else 1)


# --- a worker that died between two checks


def test_a_worker_dead_before_the_order_is_replaced_once(student, started, clock):
    queue, calls = started
    first = worker(clock, ok(1))
    second = worker(clock, ok(2))
    queue += [first, second]
    with session(student) as s:
        assert s.run(plan()).status == "ok"
        first.die()
        assert s.run(plan()).status == "ok"
    assert first.stopped and len(calls) == 2
    assert [o.get("out") for o in second.orders_sent()] == [None, 2]


def test_a_replacement_that_cannot_take_the_order_crashes_the_check(student, started, clock):
    queue, _ = started
    first = worker(clock, ok(1))
    second = worker(clock)
    queue += [first, second]
    with session(student) as s:
        s.run(plan())
        first.die()
        second.die()
        big = padded(INLINE_BYTES + 1)
        outcome = s.run(big)
        assert outcome == Outcome(status="crashed", detail="the worker died before the call")
        assert second.stopped
        assert list((s._root / "plans").iterdir()) == []  # its own file removed


def test_a_replacement_that_does_not_load_is_the_load_error(student, started, clock):
    queue, _ = started
    first = worker(clock, ok(1))
    queue += [first, Fake(clock, [(0.0, {"load_error": "gone"})])]
    with session(student) as s:
        s.run(plan())
        first.die()
        outcome = s.run(plan())
    assert outcome == Outcome(status="crashed", detail="the worker died before the call")


# --- the submission's time budget: the worker's time, never the judging


def test_the_budget_shortens_the_last_calls_then_times_out_at_once(student, started, clock):
    queue, _ = started
    fake = worker(clock, ok(1, took=3.0), (2.0, "timeout"))
    queue += [fake, worker(clock)]
    with session(student, call=10.0, submission=5.0) as s:
        assert s.run(plan()).status == "ok"
        second = s.run(plan())
        assert second == Outcome(status="timeout", detail="no answer within 2 s")
        assert fake.deadlines[-1] == 1003.0 + 2.0
        third = s.run(plan())
    assert third == Outcome(
        status="timeout", detail="the submission's time budget (5 s) is used up"
    )


def test_a_budget_used_up_sends_no_order(student, started, clock):
    queue, _calls = started
    fake = worker(clock, ok(1, took=5.0))
    queue.append(fake)
    with session(student, submission=5.0) as s:
        s.run(plan())
        fake.received()
        assert s.run(plan()).detail == "the submission's time budget (5 s) is used up"
        assert fake.received() == b""


def test_the_budget_counts_the_wait_from_the_sending_not_the_judging(student, started, clock):
    """run_many sends the next plan before it yields; time the caller spends judging
    before it asks for the next outcome is not charged to the submission."""
    queue, _ = started
    fake = worker(clock, ok(1, took=1.0), ok(2, took=0.5), ok(3, took=1.0))
    queue.append(fake)
    with session(student, call=10.0, submission=3.0) as s:
        outcomes = s.run_many([(plan(), None)] * 3)
        for outcome in outcomes:
            assert outcome.status == "ok", outcome.detail
            clock.now += 100.0  # judging
        assert s._spent == pytest.approx(2.5)


def test_a_late_caller_is_charged_only_from_its_return(student, started, clock):
    """A plan sent while the caller judged: the wait counts from when the caller came back."""
    queue, _ = started
    fake = worker(clock, ok(1, took=1.0), ok(2, took=0.25))
    queue.append(fake)
    with session(student, submission=100.0) as s:
        outcomes = s.run_many([(plan(), None)] * 2)
        next(outcomes)
        clock.now += 10.0
        next(outcomes)
        assert s._spent == pytest.approx(1.25)


# --- the catalog


CATALOG = [
    {"kind": "activations", "name": "relu", "summary": "", "missing": [], "todo": ["backward"]}
]


def test_the_catalog_is_the_workers_checked(student, started, clock):
    queue, _ = started
    fake = worker(clock, (0.0, {"catalog": CATALOG}))
    queue.append(fake)
    with session(student, call=7.0) as s:
        clock.now = 1500.0
        assert s.catalog() == CATALOG
    assert fake.received().endswith(b'\n{"catalog": true}\n')
    assert fake.deadlines[-1] == 1500.0 + 7.0


@pytest.mark.parametrize(
    ("message", "problem"),
    [
        ("timeout", "listing its components took over 2.5 s"),
        (None, "the worker died or sent an unreadable answer while listing"),
        ({"catalog": CATALOG, "x": 1}, "the worker answered the catalog order with garbage"),
        ([CATALOG], "the worker answered the catalog order with garbage"),
        ({"catalog": "relu"}, "the worker's catalog is malformed: not a list of components"),
    ],
)
def test_a_catalog_that_fails_is_one_line_about_the_submission(
    student, started, clock, message, problem
):
    queue, _ = started
    fake = worker(clock, (0.0, message))
    queue.append(fake)
    with session(student, call=2.5) as s, pytest.raises(SubmissionError) as caught:
        s.catalog()
    assert caught.value.location == str(student.resolve())
    assert caught.value.problem == problem
    assert fake.stopped


def test_a_catalog_of_a_submission_that_did_not_load_is_its_load_error(student, started, clock):
    queue, _ = started
    fake = Fake(clock, [(0.0, "timeout")])
    fake.printed = "secret output"
    queue.append(fake)
    with session(student) as s, pytest.raises(SubmissionError) as caught:
        s.catalog()
    assert caught.value.problem == "the submission timed out importing"


def test_a_catalog_order_the_worker_cannot_take_is_a_death(student, started, clock):
    queue, _ = started
    fake = worker(clock)
    queue.append(fake)
    with session(student) as s:
        s._start()
        fake.die()
        with pytest.raises(SubmissionError, match="died or sent an unreadable answer"):
            s.catalog()


def test_a_catalog_problem_is_cut_to_one_line_of_500(student, started, clock):
    queue, _ = started
    queue.append(Fake(clock, [(0.0, {"load_error": "bad\nline " + "x" * 600})]))
    with session(student) as s, pytest.raises(SubmissionError) as caught:
        s.catalog()
    assert caught.value.problem.startswith("bad line xx") and len(caught.value.problem) == 500


# --- the cold worker's command line


def test_a_cold_workers_python_has_no_site_and_writes_no_bytecode(student, started, clock):
    with session(student) as s:
        s._prepare()
        command = s._command((7, 8))
        root = s._root
    assert command == [
        str(backends.python_executable()),
        *("-I", "-S", "-B", "-c", boot("worker")),
        str(root / "lib"),
        str(student.resolve()),
        "7",
        "8",
    ]


@pytest.fixture
def confined(monkeypatch):
    monkeypatch.setattr(backends, "bwrap_works", lambda: True)
    prefixes: list = []

    def bwrap_prefix(home, submission, hidden, plans, view, readable=()):
        prefixes.append((home, submission, hidden, plans, view, readable))
        return ["bwrap", "--prefix"]

    monkeypatch.setattr(runner, "bwrap_prefix", bwrap_prefix)
    return prefixes


def test_a_confined_cold_worker_hides_the_class_and_the_graders_folder(
    tmp_path, student, confined, started, monkeypatch
):
    """The hidden folders, the grader's working folder and the folder of the class are
    covered; the worker sees the submission at /submission, with a clean environment."""
    monkeypatch.chdir(tmp_path)
    secret = tmp_path / "secret"
    with WorkerSession(student, Limits(), "bwrap", hidden=(secret,)) as s:
        s._prepare()
        command = s._command((7, 8))
        root = s._root
    ((home, submission, hidden, plans, view, readable),) = confined
    assert (home, plans, view, readable) == (root / "home", root / "plans", root / "lib", ())
    assert submission == student.resolve()
    assert hidden == [secret, tmp_path, student.resolve().parent]
    env = dict(zip(command[4::3], command[5::3], strict=False))
    clear = command.index("--clearenv")
    assert command[:clear] == ["bwrap", "--prefix"]
    sets = command[clear + 1 : command.index(str(backends.python_executable()))]
    pairs = {sets[i + 1]: sets[i + 2] for i in range(0, len(sets), 3) if sets[i] == "--setenv"}
    assert pairs == runner.scrubbed_env(root / "home")
    assert env  # read from the command line
    assert command[-4:] == [str(root / "lib"), "/submission/alice.py", "7", "8"]


def test_a_confined_cold_worker_of_a_class_reads_the_class_plans(
    tmp_path, student, confined, started, clock
):
    _queue, _ = started
    room = Classroom(tmp_path, [])
    with WorkerSession(student, Limits(), "bwrap", classroom=room) as s:
        s._prepare()
        s._command((7, 8))
    (prefix,) = confined
    assert prefix[4] == room.view and prefix[5] == (room.book,)


# --- the warm seat


class Template:
    def __init__(self, book: str = "/class/plans.bin") -> None:
        self.book = Path(book)
        self.live = True

    def alive(self) -> bool:
        return self.live


class WarmRoom(Classroom):
    """A class with a template and seats: each seat a folder and a waiting stand-in."""

    def __init__(self, tmp: Path, plans: list[Plan], seats: list[Fake], refuse=False):
        super().__init__(tmp, plans)
        self.tmp = tmp
        self.the_template = Template()
        self.seats = seats
        self.refuse = refuse
        self.asked: list = []
        self.admitted: list = []
        self.left: list = []

    def template(self):
        return self.the_template

    def seat(self, template, key):
        self.asked.append((template, key))
        here = self.tmp / f"seat{len(self.asked)}"
        for sub in ("home", "plans", "submission"):
            (here / sub).mkdir(parents=True)
        worker = self.seats.pop(0) if self.seats else None
        return SimpleNamespace(
            here=here,
            seen=Path(f"/class/seat{len(self.asked)}"),
            worker=worker,
            leave=lambda: self.left.append(here),
        )

    def admit(self, seat, submission, imported):
        self.admitted.append((seat.here, submission, imported))
        if self.refuse:
            raise OSError("too large")


def test_a_warm_session_takes_its_seats_worker(tmp_path, student, started, clock):
    _queue, calls = started
    waiting = worker(clock, ok(1), ok(2), kind=WarmFake)
    plans = [plan()]
    room = WarmRoom(tmp_path, plans, [waiting])
    with WorkerSession(
        student, Limits(processes=9, output_kb=3, startup=4.0), "rlimits", classroom=room
    ) as s:
        assert s.run(plans[0]).status == "ok"
        assert s.warm and s._worker is waiting
        assert s.run(padded(INLINE_BYTES + 1)).status == "ok"
    assert calls == []
    assert room.asked == [(room.the_template, (9, 3 * 1024, 4.0))]
    assert room.admitted == [(tmp_path / "seat1", student.resolve(), None)]
    orders = waiting.orders_sent()
    assert orders[1] == {"book": "/class/plans.bin", "index": 0, "keep": True, "out": 1}
    assert orders[2] == {
        "book": str(tmp_path / "seat1" / "plans" / "task2"),
        "index": 0,
        "out": 2,
    }


def test_a_confined_warm_worker_names_its_own_plans_at_plans(
    tmp_path, student, started, clock, monkeypatch
):
    monkeypatch.setattr(backends, "bwrap_works", lambda: True)
    _queue, _ = started
    waiting = worker(clock, ok(1), kind=WarmFake)
    room = WarmRoom(tmp_path, [], [waiting])
    with WorkerSession(student, Limits(), "bwrap", classroom=room) as s:
        assert s.run(padded(INLINE_BYTES + 1)).status == "ok"
    orders = waiting.orders_sent()
    assert orders[0]["submission"] == "/submission/alice.py"
    assert orders[1] == {"book": str(WORKER_PLANS / "task1"), "index": 0, "out": 1}


def test_a_submission_that_cannot_be_copied_gets_a_cold_worker(tmp_path, student, started, clock):
    queue, calls = started
    waiting = worker(clock, kind=WarmFake)
    room = WarmRoom(tmp_path, [], [waiting], refuse=True)
    queue.append(worker(clock, ok(1)))
    with WorkerSession(student, Limits(), "rlimits", classroom=room) as s:
        assert s.run(plan()).status == "ok"
        assert not s.warm
        assert s._root.parent != tmp_path
    assert room.left == [tmp_path / "seat1"]
    assert len(calls) == 1


def test_a_warm_worker_that_died_is_forked_again_in_the_seat(
    tmp_path, student, started, clock, monkeypatch
):
    _queue, calls = started
    waiting = worker(clock, kind=WarmFake)
    waiting.gone = True
    forked = worker(clock, ok(1), kind=WarmFake)
    room = WarmRoom(tmp_path, [], [waiting])
    asked: list = []

    def start_warm(template, folder, processes, output, startup):
        asked.append((template, folder, processes, output, startup))
        return forked

    monkeypatch.setattr(runner, "start_warm", start_warm)
    with WorkerSession(
        student, Limits(processes=4, output_kb=1, startup=2.0), "rlimits", classroom=room
    ) as s:
        assert s.run(plan()).status == "ok"
        assert s._worker is forked
    assert waiting.stopped
    assert asked == [(room.the_template, Path("/class/seat1"), 4, 1024, 2.0)]
    assert calls == []


def test_without_a_live_template_a_warm_session_goes_cold(tmp_path, student, started, clock):
    queue, calls = started
    waiting = worker(clock, kind=WarmFake)
    waiting.gone = True
    room = WarmRoom(tmp_path, [], [waiting])
    room.the_template.live = False
    queue.append(worker(clock, ok(1)))
    with WorkerSession(student, Limits(), "rlimits", classroom=room) as s:
        assert s.run(plan()).status == "ok"
        assert not s.warm
    assert len(calls) == 1


def test_a_warm_worker_whose_template_died_is_replaced_by_a_cold_one(
    tmp_path, student, started, clock
):
    queue, calls = started
    waiting = WarmFake(clock, [(0.0, None)])
    room = WarmRoom(tmp_path, [], [waiting])
    room.the_template.live = False
    waiting.gone = False
    queue.append(worker(clock, ok(1)))
    with WorkerSession(student, Limits(), "rlimits", classroom=room) as s:
        assert s.run(plan()).status == "ok"
        assert s.load_error is None and not s.warm and s._template is None
    assert waiting.stopped and len(calls) == 1


def test_a_warm_worker_that_died_importing_is_a_load_error(tmp_path, student, started, clock):
    _queue, calls = started
    waiting = WarmFake(clock, [(0.0, None)])
    room = WarmRoom(tmp_path, [], [waiting])
    with WorkerSession(student, Limits(), "rlimits", classroom=room) as s:
        assert s.run(plan()).detail == (
            "the submission did not load: the submission died while importing"
        )
    assert calls == []


def test_closing_stops_the_worker_waiting_in_the_seat(tmp_path, student, started, clock):
    waiting = worker(clock, kind=WarmFake)
    room = WarmRoom(tmp_path, [], [waiting])
    s = WorkerSession(student, Limits(), "rlimits", classroom=room)
    s._prepare()
    assert s._waiting is waiting
    s.close()
    assert waiting.stopped and s._waiting is None and s._root is None
    assert not (tmp_path / "seat1").exists()


# --- notebooks


NOTEBOOK = {
    "cells": [
        {"cell_type": "markdown", "metadata": {}, "source": "# hw"},
        {
            "cell_type": "code",
            "metadata": {},
            "source": "%matplotlib inline\nx = 1\n",
            "outputs": [],
            "execution_count": None,
        },
    ],
    "metadata": {},
    "nbformat": 4,
    "nbformat_minor": 5,
}


def test_a_notebooks_module_is_written_in_the_sessions_folder(tmp_path, started, clock):
    queue, _ = started
    path = tmp_path / "hw.ipynb"
    path.write_text(json.dumps(NOTEBOOK))
    fake = worker(clock, ok(1))
    queue.append(fake)
    with WorkerSession(path, Limits(), "rlimits") as s:
        assert s.run(plan()).status == "ok"
        module = s._root / "submission" / "notebook.py"
        assert "x = 1" in module.read_text()
        assert s.notes == ("cell 2, line 1: `%matplotlib inline` left out (IPython only)",)
    assert fake.orders_sent()[0]["submission"] == str(module)


def test_a_notebook_that_cannot_be_read_is_a_load_error(tmp_path, started):
    path = tmp_path / "hw.ipynb"
    path.write_text("{not json")
    with WorkerSession(path, Limits(), "rlimits") as s:
        assert s.load_error is not None and "notebook" in s.load_error
        assert s.notes == ()


# --- one real worker


SUBMISSION = """
import numpy as np
import gradekit


class Tanh:
    def __init__(self):
        self.params, self.grads = {}, {}

    def forward(self, x, *, training=True):
        return np.tanh(x)


@gradekit.hookimpl
def gradekit_register(registry):
    registry.activations["tanh"] = Tanh
"""


def test_a_real_worker_runs_a_plan_and_lists_the_submission(tmp_path):
    path = tmp_path / "alice.py"
    path.write_text(textwrap.dedent(SUBMISSION))
    p = Plan()
    p.make("c", "activations", "tanh")
    p.call("c", "forward", p.array(np.linspace(-1, 1, 4)), save="y")
    with WorkerSession(path, Limits(call=20.0, startup=20.0), "rlimits") as s:
        outcome = s.run(p)
        assert [e["name"] for e in s.catalog()] == ["tanh"]
    assert outcome.status == "ok", outcome.detail
    np.testing.assert_allclose(outcome.values["y"], np.tanh(np.linspace(-1, 1, 4)))
