"""The benchmark's own pieces, at small sizes: the per-entry loop and gradekit's check
agree, the generated class has its mix, the experiments run at both widths, the sandbox's
in-process floor grades as the sandbox does, and the round trip is measured."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from gradekit.assignments import load_assignment
from gradekit.checks import Target, check_kinds
from gradekit.grading import Grader
from gradekit.sandbox.backends import available
from gradekit.sandbox.runner import LocalSession

RUN = Path(__file__).parents[2] / "benchmarks" / "run.py"


@pytest.fixture(scope="module")
def bench():
    """benchmarks/run.py as a module, its sibling modules importable as when it runs."""
    sys.path.insert(0, str(RUN.parent))
    try:
        spec = importlib.util.spec_from_file_location("gradekit_benchmarks", RUN)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(str(RUN.parent))


def test_the_in_process_floor_grades_as_the_sandbox_does(bench):
    """The floor the sandbox is measured against is the same work: the same verdicts."""
    from sandbox_costs import in_process

    for name in ("backprop", "training"):
        grader = Grader(load_assignment(name))
        for example in ("correct", "buggy"):
            path = grader.assignment.folder / "examples" / f"{example}.py"
            here = in_process(grader, path, example).model_dump(exclude={"path", "load_error"})
            there = grader.grade(path, example).model_dump(exclude={"path", "load_error"})
            assert here == there, (name, example)
        grader.close()


def test_the_round_trip_section_compares_a_warm_worker_with_a_pipe(bench, capsys):
    from sandbox_costs import roundtrip_section

    roundtrip_section(20)
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ")]
    assert len(rows) == 1 + 2 * len(available()), rows
    plans = [row.split("|")[2].strip() for row in rows[1:]]
    assert plans == ["the class's, by index", "its own, sent"] * len(available())
    assert all(float(row.split("|")[-3].strip(" *x")) > 0 for row in rows[1:])


@pytest.mark.parametrize("bug", [None, "one entry", "derivative"])
def test_gradekit_and_the_per_entry_loop_agree(bench, bug):
    kind = check_kinds()["gradient"]
    options = kind.options(batch=4)
    target = Target("layers", "linear_tanh", {"din": 8, "dout": 7}, 3, bench.LinearTanh)
    plan = kind.plan(target, options)
    key = ("layers", "linear_tanh")
    expected = kind.expect(target, options, plan, LocalSession({key: bench.LinearTanh}).run)

    def factory(din, dout):
        return bench.LinearTanh(din, dout, bug)

    cases = kind.judge(target, options, plan, LocalSession({key: factory}).run(plan), expected)
    passed, _ = bench.per_entry_loop(factory(8, 7), 4)
    assert all(c.passed for c in cases) == passed == (bug is None)
    if bug == "one entry":
        assert any(c.message.startswith("dW[3, 5]") for c in cases if not c.passed)


def test_generated_class_has_its_mix(bench, tmp_path):
    mix = bench.make_class(tmp_path, 100, "backprop")
    assert mix == {"correct": 50, "buggy": 48, "hostile": 2}
    files = sorted(tmp_path.iterdir())
    assert len({f.read_text() for f in files}) == 100  # distinct: no cache hit between them
    assert "os._exit" in files[49].read_text() or "sys.exit" in files[49].read_text()


def test_init_section_times_the_graded_width_and_the_lectures(bench):
    graded, lecture = bench.experiment_graders()
    widths = [{c.spec.parsed_options.width for c in g.checks} for g in (graded, lecture)]
    assert widths == [{1024}, {4096}]
    assert [c.spec.id for c in graded.checks] == [c.spec.id for c in lecture.checks]
