"""Grading a class: any number of jobs gives the same report, the cache, and shards."""

from __future__ import annotations

import os
import shutil

import pytest

from gradekit import pool
from gradekit.batch import ResultCache, grade_all, parse_shard, shard
from gradekit.errors import GradekitError
from gradekit.sandbox.backends import bwrap_works

from .conftest import ROOT, grader

EXAMPLES = ROOT / "assignments" / "backprop" / "examples"
needs_bwrap = pytest.mark.skipif(
    not bwrap_works(),
    reason="the results cache opens only under bubblewrap, which does not work here",
)


@pytest.fixture
def klass(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    for i in range(3):
        shutil.copy(EXAMPLES / "correct.py", folder / f"good{i}.py")
        shutil.copy(EXAMPLES / "buggy.py", folder / f"buggy{i}.py")
    (folder / "broken.py").write_text("import numpy\nraise SystemExit(1)\n")
    return sorted((p.stem, p) for p in folder.iterdir())


def test_two_jobs_give_the_report_of_one(klass):
    g = grader("backprop")
    one = g.report(grade_all(g, klass, jobs=1)).model_dump()
    two = g.report(grade_all(g, klass, jobs=2)).model_dump()
    assert one == two
    scores = {s["submission"]: s["score"] for s in one["submissions"]}
    assert scores["broken"] == 0 and scores["good0"] > scores["buggy0"] > 0


def test_each_job_is_a_process_of_its_own(klass):
    """Judging holds the GIL: two jobs are two processes, each grading its share, and the
    reference outcomes are computed once, before they fork."""
    g = grader("backprop")
    seen = []
    grade_all(g, klass, jobs=2, done=lambda r: seen.append(r.submission))
    assert sorted(seen) == [name for name, _ in klass], "done is called once per submission"

    def record(name, path):  # the result names the process that graded it
        return g.grade(path, name).model_copy(update={"submission": str(os.getpid())})

    results = {}
    pool.grade_in_processes(g, klass, 2, record, lambda i, r: results.update({i: r}))
    assert sorted(results) == list(range(len(klass)))
    pids = {int(r.submission) for r in results.values()}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2, pids


def test_a_job_that_dies_leaves_its_submissions_to_the_parent(klass, monkeypatch):
    """A job process that dies grades nothing; the parent grades what it left, the same."""
    g = grader("backprop")
    alone = g.report(grade_all(g, klass, jobs=1)).model_dump()
    monkeypatch.setattr(pool, "_job", lambda *args: os._exit(3))
    assert g.report(grade_all(g, klass, jobs=2)).model_dump() == alone


@needs_bwrap
def test_a_regrade_reuses_the_cache_until_a_file_changes(klass, tmp_path, monkeypatch):
    g = grader("backprop")
    cache = ResultCache(tmp_path / "cache", g)
    first = grade_all(g, klass, cache=cache)

    def no_grading(*args, **kwargs):
        raise AssertionError("an unchanged submission was graded again")

    monkeypatch.setattr(g, "grade", no_grading)
    again = grade_all(g, klass, jobs=2, cache=cache)
    assert [r.model_dump() for r in again] == [r.model_dump() for r in first]

    name, path = klass[0]
    path.write_text(path.read_text() + "\n# changed\n")
    with pytest.raises(AssertionError, match="graded again"):
        grade_all(g, [(name, path)], cache=cache)


@needs_bwrap
def test_a_cached_result_takes_the_new_name(klass, tmp_path):
    g = grader("backprop")
    cache = ResultCache(tmp_path / "cache", g)
    name, path = next(s for s in klass if s[0] == "good0")
    cache.put(path, g.grade(path, name))
    renamed = cache.get("alice", path)
    assert renamed is not None and renamed.submission == "alice"


def test_shards_are_disjoint_deterministic_and_cover_the_class(klass):
    parts = [shard(list(reversed(klass)), i, 3) for i in (1, 2, 3)]
    names = [n for part in parts for n, _ in part]
    assert sorted(names) == sorted(n for n, _ in klass)
    assert len(names) == len(set(names))
    assert shard(klass, 2, 3) == parts[1]


@pytest.mark.parametrize("text", ["0/3", "4/3", "a/b", "2"])
def test_a_bad_shard_is_a_clear_error(text):
    with pytest.raises(GradekitError, match="--shard"):
        parse_shard(text)
