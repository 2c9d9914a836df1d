"""Grading a class (``batch``), pinned in-process with a stand-in grader: shards, the code
and file digests, where the cache may open, its key file (ours, private, whole), the
signed entries (HMAC over name and body), what keys an entry (files, spec, secret, limits,
figures, code), the submissions never cached, and ``grade_all``'s order, isolation of a
failing cache, jobs and clean-up. The worker pool is stubbed: its own tests are its own."""

from __future__ import annotations

import hashlib
import hmac
import os
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from gradekit import batch
from gradekit.batch import (
    KEY_BYTES,
    KEY_FILE,
    NO_BWRAP,
    CacheOff,
    ResultCache,
    grade_all,
    open_cache,
    parse_shard,
    seal,
    shard,
    unseal,
)
from gradekit.errors import GradekitError
from gradekit.results import SubmissionResult
from gradekit.secret import secret_digest

SECRET = "a course secret 9f2c"


class Spec:
    """An assignment's spec as the cache reads it: its JSON."""

    def __init__(self, text: str) -> None:
        self.text = text

    def model_dump_json(self) -> str:
        return self.text


class Grader:
    """A stand-in for ``grading.Grader``: grades a file by its length, records what it did."""

    def __init__(self, folder: Path, **kw) -> None:
        self.backend = kw.get("backend", "bwrap")
        self.assignment = SimpleNamespace(folder=folder, spec=Spec(kw.get("spec", '{"a": 1}')))
        self.secret = kw.get("secret", SECRET)
        self.limits = kw.get("limits", {"call": 10.0})
        self.figures = kw.get("figures", False)
        self.graded: list[tuple[str, Path]] = []
        self.closed = 0

    def grade(self, path: Path, name: str) -> SubmissionResult:
        self.graded.append((name, path))
        size = sum(p.stat().st_size for p in ([path] if path.is_file() else path.rglob("*.py")))
        return result(name, path, score=float(size))

    def close(self) -> None:
        self.closed += 1


def result(name: str, path: Path | str, score: float = 1.0) -> SubmissionResult:
    return SubmissionResult(
        submission=name, path=str(path), assignment="a", score=score, max_score=99.0, checks=[]
    )


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    """No folder of this test is mounted in workers; the code digest is fixed; the notice
    may print again."""
    monkeypatch.setattr(batch, "worker_folders", lambda: (tmp_path / "mounted",))
    monkeypatch.setattr(batch, "code_digest", lambda: "code-1")
    batch.notice_cache_off.cache_clear()
    yield
    batch.notice_cache_off.cache_clear()


@pytest.fixture
def assignment(tmp_path) -> Path:
    folder = tmp_path / "assignment"
    folder.mkdir()
    (folder / "assignment.toml").write_text("")
    return folder


@pytest.fixture
def g(assignment) -> Grader:
    return Grader(assignment)


def sub(tmp_path: Path, name: str = "alice.py", text: str = "x = 1\n") -> Path:
    path = tmp_path / "class" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


# ------------------------------------------------------------------ shards
@pytest.mark.parametrize(("text", "want"), [("2/8", (2, 8)), ("1/1", (1, 1)), ("8/8", (8, 8))])
def test_a_shard_is_i_of_n(text, want):
    assert parse_shard(text) == want


@pytest.mark.parametrize("text", ["a/b", "2", "1/2/3", "", "1.5/3"])
def test_a_shard_that_is_not_i_of_n_says_the_form(text):
    with pytest.raises(GradekitError) as info:
        parse_shard(text)
    assert str(info.value) == f"--shard takes i/n, for example 2/8, not {text!r}"


@pytest.mark.parametrize("text", ["0/3", "4/3", "-1/3"])
def test_a_shard_out_of_range_says_so(text):
    with pytest.raises(GradekitError) as info:
        parse_shard(text)
    assert str(info.value) == f"--shard {text}: i must be between 1 and n"


def test_the_i_th_shard_is_every_n_th_submission_by_name_from_the_i_th():
    subs = [(n, Path(f"/c/{n}.py")) for n in ["e", "b", "a", "d", "c"]]
    assert shard(subs, 1, 2) == [
        ("a", Path("/c/a.py")),
        ("c", Path("/c/c.py")),
        ("e", Path("/c/e.py")),
    ]
    assert shard(subs, 2, 2) == [("b", Path("/c/b.py")), ("d", Path("/c/d.py"))]
    assert shard(subs, 3, 3) == [("c", Path("/c/c.py"))]
    assert shard(subs, 1, 1) == sorted(subs)
    by_path = [("b", Path("/c/1.py")), ("a", Path("/c/2.py")), ("c", Path("/c/0.py"))]
    assert shard(by_path, 1, 3) == [("a", Path("/c/2.py"))]  # by name, not by path


# ------------------------------------------------------------------ digests
def test_the_code_files_are_every_file_but_caches_sorted(tmp_path):
    for name in ["b.py", "a/z.py", "a/__pycache__/z.cpython.pyc", "__pycache__/x.py", "c.txt"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(name)
    (tmp_path / "empty").mkdir()
    got = list(batch._files(tmp_path))
    assert got == [tmp_path / "a" / "z.py", tmp_path / "b.py", tmp_path / "c.txt"]
    assert list(batch._files(tmp_path / "b.py")) == [tmp_path / "b.py"]


def test_a_digest_is_of_names_relative_to_the_root_and_contents(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    for root in (one, two):
        (root / "p").mkdir(parents=True)
        (root / "p" / "a.py").write_text("A")
        (root / "b.py").write_text("B")
    paths = lambda root: [root / "b.py", root / "p" / "a.py"]  # noqa: E731
    assert batch._digest(paths(one), one) == batch._digest(paths(two), two)
    (two / "b.py").write_text("b")
    assert batch._digest(paths(one), one) != batch._digest(paths(two), two)
    (two / "b.py").write_text("B")
    (two / "p" / "a.py").rename(two / "p" / "c.py")
    assert batch._digest(paths(one), one) != batch._digest([two / "b.py", two / "p" / "c.py"], two)
    (two / "p" / "c.py").rename(two / "p" / "a.py")
    (two / "b.py").write_text("other")
    same = lambda p: b"same"  # noqa: E731
    assert batch._digest(paths(one), one, same) == batch._digest(paths(two), two, same)
    assert batch._digest(paths(one), one, same) != batch._digest(paths(one), one)


def test_files_whose_bytes_join_alike_have_different_digests(tmp_path):
    """Content may hold NUL bytes: a.py = "X", b.py = "Y" is not a.py = "X\\0b.py\\0Y"."""
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    (one / "a.py").write_bytes(b"X")
    (one / "b.py").write_bytes(b"Y")
    (two / "a.py").write_bytes(b"X\0b.py\0Y")
    assert batch._digest([one / "a.py", one / "b.py"], one) != batch._digest([two / "a.py"], two)
    (two / "a.py").write_bytes(b"XY")
    (two / "b.py").write_bytes(b"")
    assert batch._digest([one / "a.py", one / "b.py"], one) != batch._digest(
        [two / "a.py", two / "b.py"], two
    )


def test_a_file_too_large_to_hash_is_never_read_past_the_limit(tmp_path, monkeypatch):
    path = sub(tmp_path, text="0123456789")
    monkeypatch.setattr(batch, "MAX_HASHED_BYTES", 10)
    assert batch._cached_read(path) == b"0123456789"
    monkeypatch.setattr(batch, "MAX_HASHED_BYTES", 9)
    with pytest.raises(OSError, match="larger than 9 bytes"):
        batch._cached_read(path)


# ------------------------------------------------------------------ where the cache may be
def test_the_cache_is_off_without_bubblewrap(tmp_path):
    for backend in ("rlimits", "none", ""):
        assert batch.off_reason(tmp_path / "cache", backend) == NO_BWRAP
    assert batch.off_reason(tmp_path / "cache", "bwrap") is None


def test_the_cache_is_off_inside_a_folder_workers_see(tmp_path, monkeypatch):
    mounted = tmp_path / "mounted"
    other = tmp_path / "other"
    monkeypatch.setattr(batch, "worker_folders", lambda: (other, mounted))
    (mounted / "deep").mkdir(parents=True)
    inside = mounted / "deep" / "cache"
    assert batch.off_reason(inside, "bwrap") == (
        f"{inside} lies inside {mounted}, which workers can read (use another --cache)"
    )
    (tmp_path / "link").symlink_to(mounted)
    linked = tmp_path / "link" / "cache"
    assert batch.off_reason(linked, "bwrap") == (
        f"{linked} lies inside {mounted}, which workers can read (use another --cache)"
    )
    assert batch.off_reason(tmp_path / "mounted-not" / "cache", "bwrap") is None


def test_a_cache_behind_a_loop_of_links_is_off(tmp_path):
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    assert (
        batch.off_reason(loop / "cache", "bwrap")
        == f"cannot find the real path of {loop / 'cache'}"
    )


def test_opening_the_cache_says_once_why_it_is_off(tmp_path, g, capsys):
    assert open_cache(None, g) is None and open_cache("", g) is None
    assert capsys.readouterr().err == ""
    rlimits = Grader(g.assignment.folder, backend="rlimits")
    assert open_cache(tmp_path / "cache", rlimits) is None
    assert open_cache(str(tmp_path / "cache"), rlimits) is None
    assert capsys.readouterr().err == (
        f"gradekit: the results cache is off: {NO_BWRAP}; every submission is graded\n"
    )
    cache = open_cache(str(tmp_path / "cache"), g)
    assert isinstance(cache, ResultCache) and cache.folder == tmp_path / "cache"
    assert capsys.readouterr().err == ""


def test_a_cache_that_is_off_does_not_open(tmp_path, g):
    with pytest.raises(CacheOff) as info:
        ResultCache(tmp_path / "cache", Grader(g.assignment.folder, backend="rlimits"))
    assert str(info.value) == NO_BWRAP
    with pytest.raises(CacheOff, match="which workers can read"):
        ResultCache(tmp_path / "mounted" / "cache", g)
    assert not (tmp_path / "cache").exists()


# ------------------------------------------------------------------ the key file
def key_file(tmp_path: Path, data: bytes = b"k" * KEY_BYTES, mode: int = 0o600) -> Path:
    file = tmp_path / KEY_FILE
    file.write_bytes(data)
    file.chmod(mode)
    return file


def test_no_key_file_is_no_key(tmp_path):
    assert batch._read_key(tmp_path / KEY_FILE) is None


@pytest.mark.parametrize("mode", [0o600, 0o400, 0o700])
def test_a_private_regular_file_of_32_bytes_is_the_key(tmp_path, mode):
    fds = open_fds()
    assert batch._read_key(key_file(tmp_path, b"k" * 32, mode)) == b"k" * 32
    assert open_fds() == fds


@pytest.mark.parametrize("mode", [0o640, 0o620, 0o610, 0o604, 0o602, 0o601, 0o644])
def test_a_key_others_may_touch_is_refused(tmp_path, mode):
    file = key_file(tmp_path, mode=mode)
    fds = open_fds()
    with pytest.raises(CacheOff) as info:
        batch._read_key(file)
    assert str(info.value) == f"{file} is not a key of yours that only you can read (delete it)"
    assert open_fds() == fds


def test_a_key_of_another_user_or_not_a_file_is_refused(tmp_path, monkeypatch):
    file = key_file(tmp_path)
    with monkeypatch.context() as m:
        m.setattr(os, "geteuid", lambda: os.stat(file).st_uid + 1)
        with pytest.raises(CacheOff, match="is not a key of yours that only you can read"):
            batch._read_key(file)
    folder = tmp_path / "folder"
    folder.mkdir(mode=0o700)
    fds = open_fds()
    with pytest.raises(CacheOff) as info:
        batch._read_key(folder)
    assert str(info.value) == f"{folder} is not a key of yours that only you can read (delete it)"
    assert open_fds() == fds


def test_a_link_as_key_is_refused_not_followed(tmp_path):
    real = key_file(tmp_path)
    link = tmp_path / "link"
    link.symlink_to(real)
    with pytest.raises(CacheOff) as info:
        batch._read_key(link)
    assert str(info.value) == f"cannot read its key {link} (Too many levels of symbolic links)"


@pytest.mark.parametrize("size", [0, 31, 33, 64])
def test_a_key_of_another_size_is_refused(tmp_path, size):
    file = key_file(tmp_path, b"k" * size)
    with pytest.raises(CacheOff) as info:
        batch._read_key(file)
    assert str(info.value) == f"{file} is not a cache key (delete it)"


def test_a_new_key_is_32_random_bytes_only_we_read_in_a_private_folder(tmp_path):
    file = tmp_path / "a" / "cache" / KEY_FILE
    batch._make_key(file)
    assert file.stat().st_mode & 0o777 == 0o600 and file.stat().st_size == KEY_BYTES
    assert file.parent.stat().st_mode & 0o777 == 0o700
    assert os.listdir(file.parent) == [KEY_FILE]  # no temporary file left
    first = file.read_bytes()
    other = tmp_path / "b" / KEY_FILE
    batch._make_key(other)
    assert other.read_bytes() != first
    batch._make_key(file)  # another shard was first: its key stays
    assert file.read_bytes() == first and os.listdir(file.parent) == [KEY_FILE]


def test_why_an_os_error_in_a_few_words():
    assert (
        batch._why(FileNotFoundError(2, "No such file or directory")) == "No such file or directory"
    )
    assert batch._why(OSError("no strerror")) == "OSError"
    assert batch._why(PermissionError()) == "PermissionError"


# ------------------------------------------------------------------ signed entries
def test_an_entry_is_the_hmac_of_name_and_body_a_newline_and_the_body():
    key = bytes(range(32))
    body = b'{"score": 1}\nsecond line'
    mac = hmac.new(key, b"abc\0" + body, hashlib.sha256).hexdigest().encode()
    assert seal(key, "abc", body) == mac + b"\n" + body
    assert unseal(key, "abc", mac + b"\n" + body) == body


def test_an_entry_verifies_only_under_its_key_name_and_body():
    key = bytes(range(32))
    data = seal(key, "abc", b"body\nmore")
    assert unseal(key, "abc", data) == b"body\nmore"
    assert unseal(bytes(32), "abc", data) is None
    assert unseal(key, "abd", data) is None
    assert unseal(key, "abc", data + b"!") is None
    assert unseal(key, "abc", data.replace(b"body", b"bodY")) is None
    assert unseal(key, "abc", b"0" + data[1:]) is None
    assert unseal(key, "abc", b"body\nmore") is None
    assert unseal(key, "abc", data.split(b"\n", 1)[1]) is None


def test_an_entry_is_read_only_from_a_regular_file_never_a_link(tmp_path):
    file = tmp_path / "entry.json"
    file.write_bytes(b"mac\nbody")
    assert batch._read_entry(file) == b"mac\nbody"
    assert batch._read_entry(tmp_path / "none.json") is None
    (tmp_path / "link.json").symlink_to(file)
    assert batch._read_entry(tmp_path / "link.json") is None
    (tmp_path / "dir.json").mkdir()
    fds = open_fds()
    assert batch._read_entry(tmp_path / "dir.json") is None
    assert batch._read_entry(file) == b"mac\nbody"
    assert open_fds() == fds


# ------------------------------------------------------------------ the cache
def entries(cache: ResultCache) -> list[Path]:
    found = cache.folder.iterdir() if cache.folder.exists() else []
    return sorted(p for p in found if p.name != KEY_FILE)


def test_an_unchanged_submission_is_read_back_under_its_new_name(tmp_path, g):
    cache = ResultCache(tmp_path / "cache", g)
    path = sub(tmp_path)
    assert cache.get("alice", path) is None and cache.hits == 0
    cache.put(path, result("alice", path, 3.0))
    copy = tmp_path / "elsewhere" / "alice.py"
    copy.parent.mkdir()
    shutil.copy(path, copy)
    got = cache.get("bob", copy)
    assert got == result("bob", copy, 3.0) and cache.hits == 1
    assert cache.get("alice", path) == result("alice", path, 3.0) and cache.hits == 2
    (file,) = entries(cache)
    assert file.parent == tmp_path / "cache"
    assert len(file.stem) == 32 and int(file.stem, 16) >= 0 and file.suffix == ".json"
    assert file.stat().st_mode & 0o777 == 0o600
    key = (tmp_path / "cache" / KEY_FILE).read_bytes()
    assert file.read_bytes() == seal(
        key, file.stem, result("alice", path, 3.0).model_dump_json().encode()
    )


def test_a_cache_opened_again_reads_what_was_stored(tmp_path, g, assignment):
    path = sub(tmp_path)
    ResultCache(tmp_path / "cache", g).put(path, result("alice", path))
    again = ResultCache(tmp_path / "cache", Grader(assignment))
    assert again.get("alice", path) == result("alice", path)


def test_the_folder_is_the_real_one(tmp_path, g):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    cache = ResultCache(tmp_path / "link" / "cache", g)
    assert cache.folder == tmp_path / "real" / "cache"


def test_a_changed_file_is_a_miss(tmp_path, g):
    cache = ResultCache(tmp_path / "cache", g)
    path = sub(tmp_path)
    cache.put(path, result("alice", path))
    path.write_text("x = 2\n")
    assert cache.get("alice", path) is None and cache.hits == 0
    renamed = sub(tmp_path, "alicia.py", "x = 1\n")
    assert cache.get("alicia", renamed) is None


@pytest.mark.parametrize(
    "change",
    [
        {"spec": '{"a": 2}'},
        {"secret": "another secret"},
        {"secret": None},
        {"limits": {"call": 11.0}},
        {"figures": True},
        {"folder": "moved"},
    ],
)
def test_each_part_of_the_context_keys_the_entry(tmp_path, assignment, change):
    path = sub(tmp_path)
    first = ResultCache(tmp_path / "cache", Grader(assignment))
    first.put(path, result("alice", path))
    folder = assignment
    if "folder" in change:
        folder = tmp_path / change.pop("folder")
        shutil.copytree(assignment, folder)
    other = ResultCache(tmp_path / "cache", Grader(folder, **change))
    assert other.get("alice", path) is None
    assert first.get("alice", path) is not None


def test_the_no_secret_and_the_empty_secret_are_apart(tmp_path, assignment):
    path = sub(tmp_path)
    ResultCache(tmp_path / "cache", Grader(assignment, secret=None)).put(path, result("a", path))
    assert ResultCache(tmp_path / "cache", Grader(assignment, secret="")).get("a", path) is None


def test_new_code_is_a_miss(tmp_path, g, monkeypatch):
    cache = ResultCache(tmp_path / "cache", g)
    path = sub(tmp_path)
    cache.put(path, result("alice", path))
    monkeypatch.setattr(batch, "code_digest", lambda: "code-2")
    assert ResultCache(tmp_path / "cache", g).get("alice", path) is None


def test_the_secret_and_its_hash_appear_in_no_cache_file(tmp_path, g):
    cache = ResultCache(tmp_path / "cache", g)
    path = sub(tmp_path)
    cache.put(path, result("alice", path))
    for file in (tmp_path / "cache").iterdir():
        for hidden in (SECRET, secret_digest(SECRET)):
            assert hidden not in file.name and hidden.encode() not in file.read_bytes()


def test_a_package_keeps_its_entry_when_moved_not_when_a_module_is_renamed(tmp_path, g):
    cache = ResultCache(tmp_path / "cache", g)
    pkg = tmp_path / "class" / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from .sub import m\n")
    (pkg / "sub" / "m.py").write_text("x = 1\n")
    cache.put(pkg, result("pkg", pkg))
    moved = tmp_path / "other" / "renamed"
    shutil.copytree(pkg, moved)
    assert cache.get("renamed", moved) == result("renamed", moved)
    (moved / "sub" / "m.py").rename(moved / "sub" / "n.py")
    assert cache.get("renamed", moved) is None


def test_a_refused_submission_is_neither_stored_nor_read(tmp_path, g):
    cache = ResultCache(tmp_path / "cache", g)
    path = sub(tmp_path)
    link = tmp_path / "class" / "link.py"
    link.symlink_to(path)
    cache.put(link, result("link", link))
    assert entries(cache) == []
    cache.put(path, result("alice", path))
    assert cache.get("link", link) is None


def test_a_submission_in_or_around_the_cache_is_never_cached(tmp_path, g):
    cache = ResultCache(tmp_path / "pkg" / "cache", g)
    cache.folder.mkdir(parents=True)
    (tmp_path / "pkg" / "__init__.py").write_text("x = 1\n")
    inside = cache.folder / "alice.py"
    inside.write_text("x = 1\n")
    for path in (tmp_path / "pkg", inside):
        cache.put(path, result("alice", path))
        assert entries(cache) == [inside] and cache.get("alice", path) is None
    beside = sub(tmp_path)
    cache.put(beside, result("alice", beside))
    assert cache.get("alice", beside) is not None


def test_a_file_too_large_to_hash_is_not_cached(tmp_path, g, monkeypatch):
    path = sub(tmp_path, text="0123456789")
    cache = ResultCache(tmp_path / "cache", g)
    monkeypatch.setattr(batch, "MAX_HASHED_BYTES", 9)
    cache.put(path, result("alice", path))
    assert entries(cache) == [] and cache.get("alice", path) is None
    monkeypatch.setattr(batch, "MAX_HASHED_BYTES", 10)
    cache.put(path, result("alice", path))
    assert cache.get("alice", path) == result("alice", path)


def test_the_key_is_made_on_the_first_store_and_kept(tmp_path, g):
    cache = ResultCache(tmp_path / "cache", g)
    path = sub(tmp_path)
    assert not (tmp_path / "cache").exists()
    cache.put(path, result("alice", path))
    key = (tmp_path / "cache" / KEY_FILE).read_bytes()
    other = sub(tmp_path, "bob.py", "y = 2\n")
    cache.put(other, result("bob", other))
    assert (tmp_path / "cache" / KEY_FILE).read_bytes() == key
    assert ResultCache(tmp_path / "cache", g).get("bob", other) == result("bob", other)


def test_an_existing_key_is_the_one_used(tmp_path, g):
    (tmp_path / "cache").mkdir()
    key = key_file(tmp_path / "cache", bytes(range(32)))
    cache = ResultCache(tmp_path / "cache", g)
    path = sub(tmp_path)
    cache.put(path, result("alice", path))
    (file,) = entries(cache)
    assert unseal(key.read_bytes(), file.stem, file.read_bytes()) is not None


def test_before_any_key_nothing_is_read(tmp_path, g):
    cache = ResultCache(tmp_path / "cache", g)
    path = sub(tmp_path)
    file = cache._path(path)
    assert file is not None
    file.parent.mkdir()
    file.write_bytes(b"anything\n" + result("alice", path).model_dump_json().encode())
    assert cache.get("alice", path) is None and cache.hits == 0


def test_a_key_gone_as_soon_as_made_stores_nothing(tmp_path, g, monkeypatch):
    monkeypatch.setattr(batch, "_make_key", lambda file: file.parent.mkdir(exist_ok=True))
    cache = ResultCache(tmp_path / "cache", g)
    path = sub(tmp_path)
    cache.put(path, result("alice", path))
    assert os.listdir(tmp_path / "cache") == []
    with pytest.raises(CacheOff) as info:
        cache._ensure_key()
    assert str(info.value) == f"{tmp_path / 'cache' / KEY_FILE} is gone"


@pytest.mark.parametrize(
    "forged",
    [
        lambda key, stem, body: body,
        lambda key, stem, body: seal(bytes(32), stem, body),
        lambda key, stem, body: seal(key, "0" * 32, body),
        lambda key, stem, body: seal(key, stem, b"not json"),
        lambda key, stem, body: seal(key, stem, b'{"score": 1}'),
    ],
)
def test_an_entry_that_does_not_verify_or_parse_is_a_miss_and_rewritten(tmp_path, g, forged):
    cache = ResultCache(tmp_path / "cache", g)
    path = sub(tmp_path)
    cache.put(path, result("alice", path, 1.0))
    (file,) = entries(cache)
    key = (tmp_path / "cache" / KEY_FILE).read_bytes()
    body = result("alice", path, 99.0).model_dump_json().encode()
    file.write_bytes(forged(key, file.stem, body))
    assert cache.get("alice", path) is None and cache.hits == 0
    (got,) = grade_all(g, [("alice", path)], cache=cache)
    assert g.graded == [("alice", path)] and got.score == 6.0
    assert cache.get("alice", path) == got


def test_a_failed_write_leaves_no_file_behind(tmp_path, g, monkeypatch):
    cache = ResultCache(tmp_path / "cache", g)
    path = sub(tmp_path)
    with monkeypatch.context() as m:
        m.setattr(os, "replace", lambda *args: (_ for _ in ()).throw(OSError(28, "No space")))
        cache.put(path, result("alice", path))
    assert os.listdir(tmp_path / "cache") == [KEY_FILE]
    with monkeypatch.context() as m:  # nor does a temporary file that cannot be removed
        m.setattr(os, "replace", lambda *args: (_ for _ in ()).throw(OSError(28, "No space")))
        m.setattr(Path, "unlink", lambda *a, **k: (_ for _ in ()).throw(PermissionError(13, "")))
        cache.put(path, result("alice", path))
    for stray in (tmp_path / "cache").glob(".*.tmp"):
        stray.unlink()
    cache.put(path, result("alice", path))
    assert cache.get("alice", path) == result("alice", path)


def test_a_stored_entry_replaces_the_old_one(tmp_path, g):
    cache = ResultCache(tmp_path / "cache", g)
    path = sub(tmp_path)
    cache.put(path, result("alice", path, 1.0))
    cache.put(path, result("alice", path, 2.0))
    assert len(entries(cache)) == 1 and cache.get("alice", path).score == 2.0


# ------------------------------------------------------------------ grading a class
class Broken:
    """A cache whose every operation fails."""

    hits = 0

    def get(self, name, path):
        raise RuntimeError("cannot read")

    def put(self, path, result):
        raise RuntimeError("cannot write")


def klass(tmp_path: Path, n: int = 4) -> list[tuple[str, str]]:
    return [(f"s{i}", str(sub(tmp_path, f"s{i}.py", "x" * (i + 1)))) for i in range(n)]


def test_a_class_is_graded_in_input_order_each_done_once(tmp_path, g):
    subs = list(reversed(klass(tmp_path)))
    done = []
    results = grade_all(g, subs, done=lambda r: done.append(r.submission))
    assert [(r.submission, r.score) for r in results] == [
        ("s3", 4),
        ("s2", 3),
        ("s1", 2),
        ("s0", 1),
    ]
    assert done == ["s3", "s2", "s1", "s0"]
    assert [(n, str(p)) for n, p in g.graded] == subs
    assert all(isinstance(p, Path) for _, p in g.graded)
    assert g.closed == 1


def test_cached_submissions_are_not_graded_again(tmp_path, g):
    subs = klass(tmp_path)
    cache = ResultCache(tmp_path / "cache", g)
    grade_all(g, subs[1:3], cache=cache)
    g.graded.clear()
    done = []
    results = grade_all(g, subs, cache=cache, done=lambda r: done.append(r.submission))
    assert [r.submission for r in results] == ["s0", "s1", "s2", "s3"]
    assert [r.score for r in results] == [1, 2, 3, 4]
    assert [n for n, _ in g.graded] == ["s0", "s3"]
    assert sorted(done) == ["s0", "s1", "s2", "s3"] and cache.hits == 2


def test_a_cache_that_fails_costs_only_the_reuse(tmp_path, g):
    results = grade_all(g, klass(tmp_path), cache=Broken())
    assert [r.score for r in results] == [1, 2, 3, 4] and len(g.graded) == 4


def test_the_grader_is_closed_even_when_grading_fails(tmp_path, g, monkeypatch):
    monkeypatch.setattr(g, "grade", lambda path, name: (_ for _ in ()).throw(RuntimeError("x")))
    with pytest.raises(RuntimeError):
        grade_all(g, klass(tmp_path))
    assert g.closed == 1


@pytest.fixture
def pool(monkeypatch):
    """The worker pool stubbed: it grades its share in reverse, in this process."""
    calls = []

    def grade_in_processes(grader, todo, jobs, fresh, finish):
        calls.append((grader, list(todo), jobs))
        for k in reversed(range(len(todo))):
            finish(k, fresh(*todo[k]))

    monkeypatch.setattr(batch, "grade_in_processes", grade_in_processes)
    return calls


def test_jobs_grade_what_the_cache_lacks_in_the_pool_results_in_input_order(tmp_path, g, pool):
    subs = klass(tmp_path, 5)
    cache = ResultCache(tmp_path / "cache", g)
    grade_all(g, [subs[1], subs[3]], cache=cache)
    g.graded.clear()
    done = []
    results = grade_all(g, subs, jobs=3, cache=cache, done=lambda r: done.append(r.submission))
    assert [r.submission for r in results] == ["s0", "s1", "s2", "s3", "s4"]
    assert [r.score for r in results] == [1, 2, 3, 4, 5]
    ((grader, todo, jobs),) = pool
    assert grader is g and jobs == 3
    assert todo == [(n, Path(p)) for n, p in (subs[0], subs[2], subs[4])]
    assert [n for n, _ in g.graded] == ["s4", "s2", "s0"]
    assert done == ["s1", "s3", "s4", "s2", "s0"]
    assert {e.name for e in entries(cache)} == {
        cache._path(Path(p)).name
        for _, p in subs  # the pool's gradings are stored
    }


def test_one_job_or_one_submission_to_grade_stays_out_of_the_pool(tmp_path, g, pool):
    subs = klass(tmp_path, 3)
    assert [r.score for r in grade_all(g, subs, jobs=1)] == [1, 2, 3]
    assert [r.score for r in grade_all(g, subs[:1], jobs=4)] == [1]
    cache = ResultCache(tmp_path / "cache", g)
    grade_all(g, subs[:2], cache=cache)
    assert [r.score for r in grade_all(g, subs, jobs=2, cache=cache)] == [1, 2, 3]
    assert pool == []
    assert [r.score for r in grade_all(g, subs, jobs=2)] == [1, 2, 3] and len(pool) == 1
    assert [r.score for r in grade_all(g, subs[:2], jobs=2)] == [1, 2] and len(pool) == 2
