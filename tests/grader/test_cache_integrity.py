"""The results cache: no worker can change what is recorded, for itself or a classmate.

Every entry carries an HMAC under a key that only the grader's user can read, and an
entry that does not verify is graded again and rewritten. The key is out of a worker's
reach only under bubblewrap, which never mounts the cache folder; under plain rlimits a
worker runs as the grader's user and could read the key, so there the cache is off.

The forgeries are built as a worker would: the entry's path by the cache's own code,
the entry's format by gradekit's (public) source, and, for a worker under rlimits, the
key read from the cache folder it finds by walking up from its own file. Each attack is
shown to work where the protection is taken away.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest

from gradekit import batch
from gradekit.assignments import load_assignment
from gradekit.batch import KEY_FILE, NO_BWRAP, ResultCache, grade_all, open_cache, seal
from gradekit.cli import main
from gradekit.grading import Grader
from gradekit.results import GradeReport, SubmissionResult
from gradekit.sandbox import backends
from gradekit.sandbox.view import library_roots
from gradekit.secret import SECRET_ENV

from .conftest import ROOT

EXAMPLES = ROOT / "assignments" / "backprop" / "examples"
SECRET = "a course secret for the cache tests 5d1e"
NOTICE = f"gradekit: the results cache is off: {NO_BWRAP}; every submission is graded"

needs_bwrap = pytest.mark.skipif(
    not backends.bwrap_works(),
    reason="the results cache opens only under bubblewrap, which does not work here",
)

HOSTILE = '''\
"""Finds the grader's results cache and rewrites every entry in it to zero."""
import hashlib
import hmac
import json
from pathlib import Path

import gradekit

GIVEN = {given!r}  # where the test put the cache: a worker could learn it from the syllabus


def _poison():
    here = Path(__file__).resolve()
    places = dict.fromkeys([*(p / ".gradekit-cache" for p in here.parents), Path(GIVEN)])
    found, wrote = [], 0
    for folder in places:
        try:
            key = (folder / "cache-key").read_bytes()
            entries = sorted(folder.glob("*.json"))
        except OSError:
            continue
        found.append(str(folder))
        for entry in entries:
            try:
                result = json.loads(entry.read_bytes().split(b"\\n")[-1])
                result["score"] = 0.0
                for check in result["checks"]:
                    check["score"] = 0.0
                body = json.dumps(result).encode()
                mac = hmac.new(key, entry.stem.encode() + b"\\0" + body, hashlib.sha256)
                entry.write_bytes(mac.hexdigest().encode() + b"\\n" + body)
                wrote += 1
            except (OSError, ValueError, KeyError):
                pass
    return f"poison: found {{found}} wrote {{wrote}}"


REPORT = _poison()


class Reporter:
    """A relu that says what the poisoning did, in its checks' messages."""

    def __init__(self):
        self.params, self.grads = {{}}, {{}}

    def forward(self, x, *, training=True):
        raise RuntimeError(REPORT)

    def backward(self, dout):
        raise RuntimeError(REPORT)


@gradekit.hookimpl
def gradekit_register(registry):
    registry.activations["relu"] = Reporter
'''
"""Mallory: poisons every cache entry it can reach, at import, and reports what it did."""


@cache
def grader(backend: str) -> Grader:
    """The backprop grader ``gradekit grade --backend BACKEND`` builds, with the secret."""
    return Grader(load_assignment("backprop"), backend=backend, secret=SECRET)


@pytest.fixture(autouse=True)
def _fresh_notice(monkeypatch):
    """The secret is set (no secret notice), and the cache notice may print again."""
    monkeypatch.setenv(SECRET_ENV, SECRET)
    monkeypatch.setenv("COLUMNS", "250")
    batch.notice_cache_off.cache_clear()
    yield
    batch.notice_cache_off.cache_clear()


@pytest.fixture
def klass(tmp_path, monkeypatch) -> Path:
    """Alice (correct) and Mallory (hostile), graded from ``tmp_path`` with the default
    cache, ``tmp_path/.gradekit-cache``: the folder above the class, as in a course."""
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "class"
    folder.mkdir()
    shutil.copy(EXAMPLES / "correct.py", folder / "alice.py")
    given = str(tmp_path / ".gradekit-cache")
    (folder / "mallory.py").write_text(HOSTILE.format(given=given))
    return folder


def _solo(backend: str, path: Path) -> SubmissionResult:
    """A submission graded alone, without any cache."""
    return grader(backend).grade(path, path.stem)


def _grade(klass: Path, backend: str, capsys) -> tuple[dict[str, SubmissionResult], str]:
    """``gradekit grade`` on the class, one job (Alice before Mallory): results and stderr."""
    out = klass.parent / "report.json"
    argv = ["grade", str(klass), "-a", "backprop", "--backend", backend, "--json", str(out)]
    assert main([*argv, "--no-detail"]) == 0
    printed = capsys.readouterr()
    assert "Traceback" not in printed.out + printed.err
    report = GradeReport.model_validate_json(out.read_text())
    return {s.submission: s for s in report.submissions}, printed.err


def _report(result: SubmissionResult) -> str:
    """What Mallory's worker said it did, from its relu check."""
    return next(c.message for c in result.checks if c.name == "relu.values")


def _same(a: SubmissionResult, b: SubmissionResult) -> bool:
    """The same grades, check by check."""
    return [(c.name, c.score, c.status) for c in a.checks] == [
        (c.name, c.score, c.status) for c in b.checks
    ] and a.score == b.score


def _cache_anyway(folder: Path, g: Grader, monkeypatch) -> ResultCache:
    """A cache opened whatever the backend: what gradekit would do without its policy."""
    with monkeypatch.context() as m:
        m.setattr(batch, "off_reason", lambda folder, backend: None)
        return ResultCache(folder, g)


def _unverified(key: bytes, name: str, data: bytes) -> bytes:
    """An entry's body, its MAC unchecked: the cache without its verification."""
    return data.split(b"\n")[-1]


# ------------------------------------------------------------------ forged entries
FORGERIES = {
    "full-marks-keeping-the-mac": "buggy",
    "zero-unsigned": "correct",
    "zero-under-another-key": "correct",
    "a-classmates-genuine-entry": "buggy",
}
"""Each forgery, and the example it is written for."""


def _forge(kind: str, cache: ResultCache, genuine: SubmissionResult, sub: Path) -> bytes:
    """Forged bytes for ``sub``'s entry, built as a worker would (it does not have the key)."""
    file = cache._path(sub)  # the path, rebuilt with the cache's own code
    assert file is not None and file.is_file()
    score = 0.0 if FORGERIES[kind] == "correct" else genuine.max_score
    checks = [c.model_copy(update={"score": c.max_score if score else 0.0}) for c in genuine.checks]
    body = genuine.model_copy(update={"score": score, "checks": checks}).model_dump_json()
    if kind == "full-marks-keeping-the-mac":
        return file.read_bytes().split(b"\n")[0] + b"\n" + body.encode()
    if kind == "zero-unsigned":
        return body.encode()
    if kind == "zero-under-another-key":
        return seal(secrets.token_bytes(32), file.stem, body.encode())
    other = sub.parent / "classmate.py"  # a correct classmate's genuine, signed entry
    shutil.copy(EXAMPLES / "correct.py", other)
    grade_all(grader("bwrap"), [("classmate", other)], cache=cache)
    copied = cache._path(other)
    assert copied is not None
    return copied.read_bytes()


@needs_bwrap
@pytest.mark.parametrize("kind", list(FORGERIES))
def test_a_forged_entry_is_ignored_and_the_submission_regraded(kind, tmp_path, monkeypatch):
    g = grader("bwrap")
    cache = ResultCache(tmp_path / "cache", g)
    sub = tmp_path / "student.py"
    shutil.copy(EXAMPLES / f"{FORGERIES[kind]}.py", sub)
    (genuine,) = grade_all(g, [("student", sub)], cache=cache)
    forged = _forge(kind, cache, genuine, sub)
    file = cache._path(sub)
    assert file is not None
    file.write_bytes(forged)

    with monkeypatch.context() as m:  # the attack is real: unverified, the forgery is read
        m.setattr(batch, "unseal", _unverified)
        read = cache.get("student", sub)
        assert read is not None and read.score != genuine.score

    assert cache.get("student", sub) is None
    graded: list[str] = []
    real_grade = g.grade

    def counted(path: Path, name: str) -> SubmissionResult:
        graded.append(name)
        return real_grade(path, name)

    monkeypatch.setattr(g, "grade", counted)
    (again,) = grade_all(g, [("student", sub)], cache=cache)
    assert graded == ["student"]
    assert again.model_dump() == genuine.model_dump()
    assert file.read_bytes() != forged  # rewritten with the genuine, signed result
    assert ResultCache(tmp_path / "cache", g).get("student", sub) == genuine
    (hit,) = grade_all(g, [("student", sub)], cache=cache)
    assert graded == ["student"] and hit == genuine


# ------------------------------------------------------------------ under rlimits: off
def test_under_rlimits_the_cache_is_off_so_a_poisoning_worker_changes_nothing(
    klass, capsys, monkeypatch
):
    """A poisoned cache is already there (as an earlier run could leave it, valid MACs),
    and Mallory's worker reaches it and rewrites it again: neither counts."""
    folder = klass.parent / ".gradekit-cache"
    alice, mallory = klass / "alice.py", klass / "mallory.py"
    solo = {"alice": _solo("rlimits", alice), "mallory": _solo("rlimits", mallory)}
    poisoned = _cache_anyway(folder, grader("rlimits"), monkeypatch)
    zero = solo["alice"].model_copy(update={"score": 0.0})
    poisoned.put(alice, zero)
    assert poisoned.get("alice", alice) == zero  # the entry verifies: it would be read
    entries = sorted(p.name for p in folder.iterdir())

    for _ in range(2):
        batch.notice_cache_off.cache_clear()  # once per process: each run is one
        results, err = _grade(klass, "rlimits", capsys)
        assert err.splitlines()[0] == NOTICE
        assert err.count("results cache") == 1
        assert results["alice"].model_dump() == solo["alice"].model_dump()
        assert _same(results["mallory"], solo["mallory"])
        assert f"found [{str(folder)!r}] wrote 1" in _report(results["mallory"])
        assert sorted(p.name for p in folder.iterdir()) == entries  # the grader wrote nothing


def test_with_the_cache_on_under_rlimits_a_worker_would_poison_it(klass, capsys, monkeypatch):
    """Why the cache is off there: a worker runs as the grader's user, reads the key and
    rewrites Alice's entry with a valid MAC, and the regrade reads her zero."""
    monkeypatch.setattr(batch, "off_reason", lambda folder, backend: None)
    folder = klass.parent / ".gradekit-cache"
    first, _ = _grade(klass, "rlimits", capsys)
    assert first["alice"].score == first["alice"].max_score > 0
    assert f"found [{str(folder)!r}] wrote 1" in _report(first["mallory"])
    again, _ = _grade(klass, "rlimits", capsys)
    assert again["alice"].score == 0


def test_no_cache_is_quiet_and_writes_nothing(klass, capsys):
    argv = ["grade", str(klass / "alice.py"), "-a", "backprop", "--backend", "rlimits"]
    assert main([*argv, "--no-cache", "--no-detail"]) == 0
    assert "results cache" not in capsys.readouterr().err
    assert not (klass.parent / ".gradekit-cache").exists()


# ------------------------------------------------------------------ under bubblewrap
@needs_bwrap
def test_under_bwrap_no_worker_sees_the_cache_and_a_regrade_is_a_cache_hit(
    klass, capsys, monkeypatch
):
    folder = klass.parent / ".gradekit-cache"
    alice, mallory = klass / "alice.py", klass / "mallory.py"
    solo = {"alice": _solo("bwrap", alice), "mallory": _solo("bwrap", mallory)}
    first, err = _grade(klass, "bwrap", capsys)
    assert "results cache" not in err
    assert first["alice"].model_dump() == solo["alice"].model_dump()
    assert _same(first["mallory"], solo["mallory"])
    assert "found [] wrote 0" in _report(first["mallory"])  # not by walking up, nor by path
    assert len(list(folder.glob("*.json"))) == 2
    assert ResultCache(folder, grader("bwrap")).get("alice", alice) == first["alice"]

    def no_grading(*args, **kwargs):
        raise AssertionError("a cached submission was graded again")

    monkeypatch.setattr(Grader, "grade", no_grading)
    again, _ = _grade(klass, "bwrap", capsys)
    assert {n: r.model_dump() for n, r in again.items()} == {
        n: r.model_dump() for n, r in first.items()
    }


# ------------------------------------------------------------------ where the cache may be
def test_under_rlimits_the_cache_does_not_open(tmp_path, capsys):
    assert batch.off_reason(tmp_path / "cache", "rlimits") == NO_BWRAP
    with pytest.raises(batch.CacheOff, match="without bubblewrap"):
        ResultCache(tmp_path / "cache", grader("rlimits"))
    assert open_cache(tmp_path / "cache", grader("rlimits")) is None
    assert open_cache(tmp_path / "cache", grader("rlimits")) is None
    assert capsys.readouterr().err == NOTICE + "\n"  # said once
    assert not (tmp_path / "cache").exists()


def test_a_cache_inside_a_folder_workers_see_is_refused(tmp_path):
    seen = batch.worker_folders()
    assert Path("/usr") in seen and set(library_roots()) <= set(seen)
    for folder in seen:
        assert "which workers can read" in batch.off_reason(folder / "cache", "bwrap")
    assert batch.off_reason(tmp_path / "cache", "bwrap") is None
    (tmp_path / "link").symlink_to(library_roots()[0])
    assert batch.off_reason(tmp_path / "link" / "cache", "bwrap") is not None


@needs_bwrap
def test_a_worker_sees_every_folder_named_and_not_the_cache_beside_it(tmp_path):
    """``worker_folders`` is what a real confined worker sees; a cache outside is unseen."""
    session = {name: tmp_path / name for name in ("home", "plans", "view")}
    for folder in session.values():
        folder.mkdir()
    sub = tmp_path / "alice.py"
    sub.write_text("")
    (tmp_path / "cache").mkdir()
    prefix = backends.bwrap_prefix(session["home"], sub, [], session["plans"], session["view"])
    probe = "import os, sys; print(' '.join(str(os.path.exists(p)) for p in sys.argv[1:]))"
    paths = [*map(str, batch.worker_folders()), str(tmp_path / "cache")]
    python = [str(backends.python_executable()), "-I", "-S", "-c", probe, *paths]
    done = subprocess.run([*prefix, *python], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True"] * (len(paths) - 1) + ["False"]


@needs_bwrap
def test_a_cache_folder_seen_by_a_worker_is_never_opened(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(batch, "worker_folders", lambda: (tmp_path / "mounted",))
    inside = tmp_path / "mounted" / "cache"
    argv = ["grade", str(EXAMPLES / "correct.py"), "-a", "backprop", "--backend", "bwrap"]
    assert main([*argv, "--cache", str(inside), "--no-detail"]) == 0
    err = capsys.readouterr().err
    reason = f"{inside} lies inside {tmp_path / 'mounted'}, which workers can read"
    assert err.startswith(f"gradekit: the results cache is off: {reason}")
    assert len(err.splitlines()) == 1
    assert not inside.exists()


@needs_bwrap
def test_a_submission_holding_the_cache_is_not_cached(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    shutil.copy(EXAMPLES / "correct.py", package / "__init__.py")
    cache = ResultCache(package / "cache", grader("bwrap"))
    (result,) = grade_all(grader("bwrap"), [("pkg", package)], cache=cache)
    assert result.score == result.max_score
    assert not (package / "cache").exists()
    outside = ResultCache(tmp_path / "cache", grader("bwrap"))
    outside.put(package, result)
    assert outside.get("pkg", package) == result


@needs_bwrap
def test_a_submission_too_large_to_hash_is_graded_not_cached(tmp_path, monkeypatch):
    """The cache key reads a submission's files to a limit: a huge file is never read
    into the grader's memory for it, and the submission is simply not cached."""
    sub = tmp_path / "alice.py"
    shutil.copy(EXAMPLES / "correct.py", sub)
    result = SubmissionResult(
        submission="alice", path=str(sub), assignment="backprop", score=1, max_score=2, checks=[]
    )
    cache = ResultCache(tmp_path / "cache", grader("bwrap"))
    monkeypatch.setattr(batch, "MAX_HASHED_BYTES", sub.stat().st_size - 1)
    cache.put(sub, result)
    assert cache.get("alice", sub) is None
    monkeypatch.setattr(batch, "MAX_HASHED_BYTES", sub.stat().st_size)
    cache.put(sub, result)
    assert cache.get("alice", sub) == result


# ------------------------------------------------------------------ the key
def _stored(tmp_path: Path) -> tuple[Path, SubmissionResult]:
    """A cache with one entry, stored without grading: the key is what is tested."""
    sub = tmp_path / "alice.py"
    sub.write_text("x = 1\n")
    result = SubmissionResult(
        submission="alice", path=str(sub), assignment="backprop", score=1, max_score=2, checks=[]
    )
    cache = ResultCache(tmp_path / "cache", grader("bwrap"))
    cache.put(sub, result)
    return sub, result


@needs_bwrap
def test_the_key_is_made_on_the_first_store_for_the_grader_only(tmp_path):
    sub, result = _stored(tmp_path)
    key = tmp_path / "cache" / KEY_FILE
    assert key.stat().st_mode & 0o777 == 0o600 and key.stat().st_size == 32
    assert (tmp_path / "cache").stat().st_mode & 0o777 == 0o700
    assert ResultCache(tmp_path / "cache", grader("bwrap")).get("alice", sub) == result
    key.write_bytes(os.urandom(32))  # a new key: every old entry is regraded
    assert ResultCache(tmp_path / "cache", grader("bwrap")).get("alice", sub) is None


@needs_bwrap
@pytest.mark.parametrize("problem", ["readable", "link", "short", "folder"])
def test_a_key_that_is_not_the_graders_turns_the_cache_off_in_one_line(tmp_path, capsys, problem):
    _stored(tmp_path)
    key = tmp_path / "cache" / KEY_FILE
    if problem == "readable":
        key.chmod(0o644)
    elif problem == "link":
        key.rename(tmp_path / "elsewhere")
        key.symlink_to(tmp_path / "elsewhere")
    elif problem == "short":
        key.write_bytes(b"0123")
    else:
        key.unlink()
        key.mkdir()
    argv = ["grade", str(tmp_path / "alice.py"), "-a", "backprop", "--backend", "bwrap"]
    assert main([*argv, "--cache", str(tmp_path / "cache"), "--no-detail"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("gradekit: the results cache is off: ") and str(key) in err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
