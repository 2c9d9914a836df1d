"""The student kit: its public checks as data judge exactly as the grader does, and it
holds no hidden check, no seed of one, no base seed and no secret."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from gradekit.assignments import bundled_assignments, load_assignment
from gradekit.cli import main
from gradekit.grading import Grader
from gradekit.kit import data
from gradekit.kit.build import CHECKS_FOLDER, ENGINE_FOLDER, write_kit
from gradekit.kit.public import load_grader
from gradekit.sandbox.plan import Unsupported

ROOT = Path(__file__).parents[2]


def kit(name: str, kits: dict[str, Path]) -> Path:
    return kits[name]


@pytest.mark.parametrize("name", bundled_assignments())
def test_kit_verdicts_equal_the_graders_check_by_check(name, kits):
    """The bundled correct and buggy examples get, on every public check, the very result
    (status, score, message, cases, misconception) the grader gives them."""
    folder = kit(name, kits)
    assignment = load_assignment(name)
    grader, student = Grader(assignment), load_grader(folder / CHECKS_FOLDER)
    public = [c.id for c in assignment.spec.checks if c.visibility == "public"]
    assert [c.spec.id for c in student.checks] == public
    for example in assignment.examples():
        want = {c.name: c for c in grader.grade(example).checks}
        got = student.grade(example)
        assert [c.name for c in got.checks] == public
        for check in got.checks:
            assert check.model_dump() == want[check.name].model_dump(), (example.name, check.name)
    buggy = next(e for e in assignment.examples() if e.stem == "buggy")
    assert any(c.misconception for c in student.grade(buggy).checks), "no mutant was stored"


@pytest.mark.parametrize("name", bundled_assignments())
def test_a_kit_holds_no_hidden_check_and_no_seed_of_one(name, kits):
    folder = kit(name, kits)
    assignment = load_assignment(name)
    hidden = [c for c in assignment.spec.checks if c.visibility == "hidden"]
    assert hidden, "every bundled assignment has hidden checks"
    text = "\n".join(p.read_text() for p in folder.rglob("*") if p.suffix in (".json", ".md"))
    for check in hidden:
        assert check.id not in text, check.id
        seed = assignment.spec.seed_of(check)
        if check.seed is None:  # a derived seed is a 32-bit number: it must be nowhere
            assert not re.search(rf"\b{seed}\b", text), (check.id, seed)
    body = json.loads((folder / CHECKS_FOLDER / data.CHECKS).read_text())
    assert '"seed"' not in json.dumps(_header(body)), "the base seed derives hidden seeds"
    assert not (folder / "assignment.toml").exists()
    assert not list(folder.rglob("*.pkl")) and not list(folder.rglob("*.pickle"))


def _header(body: dict) -> dict:
    """The kit's assignment header, from the stored JSON (its first ``$dict`` pair)."""
    pairs = dict((k, v) for k, v in body["$dict"])
    return pairs["assignment"]


def test_the_engine_wheel_holds_no_answer(kits):
    """No reference, no mutant, no bundled assignment, none of the instructor's modules."""
    (wheel,) = (kit("backprop", kits) / ENGINE_FOLDER).glob("gradekit-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n == "gradekit/pytest_plugin.py" for n in names)
    assert any(n == "gradekit/kit/public.py" for n in names)
    for left_out in ("gradekit_reference/", "gradekit_assignments/", "gradekit/batch.py"):
        assert not any(n.startswith(left_out) for n in names), left_out
    tops = {n.split("/")[0] for n in names}
    assert tops == {"gradekit", wheel.name.split("-py3")[0] + ".dist-info"}, tops
    other = (kit("optimization", kits) / ENGINE_FOLDER / wheel.name).read_bytes()
    assert other == wheel.read_bytes(), "every kit carries the same engine"


def test_the_secret_never_goes_into_a_kit(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADEKIT_SECRET", "course-secret-8d1f3a")
    folder = tmp_path / "k"
    archive = write_kit(load_assignment("training"), folder)
    for path in [*folder.rglob("*"), archive]:
        if path.is_file():
            assert b"course-secret-8d1f3a" not in path.read_bytes(), path


def test_the_kit_command_writes_a_folder_and_a_zip_and_never_overwrites(tmp_path, capsys):
    target = tmp_path / "kit"
    assert main(["kit", "training", "-o", str(target)]) == 0
    out = capsys.readouterr().out
    assert "hidden checks" in out and str(target) in out
    assert (target / "README.md").is_file() and (target / "submission.py").is_file()
    names = zipfile.ZipFile(tmp_path / "kit.zip").namelist()
    assert "kit/README.md" in names and "kit/public-checks/checks.json" in names
    assert main(["kit", "training", "-o", str(target)]) == 2
    assert "already exists" in capsys.readouterr().err


def test_the_readmes_first_code_block_is_the_whole_set_up(kits):
    readme = (kit("backprop", kits) / "README.md").read_text()
    block = readme.split("```bash\n", 1)[1].split("```", 1)[0].strip().splitlines()
    assert block[0].startswith("python3 -m venv .venv && .venv/bin/pip install engine/gradekit-")
    assert block[1] == ".venv/bin/pytest"


def test_init_help_points_to_the_kit():
    done = subprocess.run(
        [sys.executable, "-m", "gradekit.cli", "init", "--help"], capture_output=True, text=True
    )
    assert "gradekit kit" in done.stdout


@pytest.mark.parametrize(
    ("value"),
    [
        {"a": np.arange(3.0), "b": [1, (2, 3.5)], (1, "x"): None},
        [float("nan"), float("inf"), -float("inf"), np.float32(2.5), np.int64(3)],
        Unsupported("Foo"),
        "text",
    ],
)
def test_the_codec_round_trips_plain_values(value):
    arrays: dict = {}
    back = data.decode(json.loads(json.dumps(data.encode(value, arrays))), arrays)
    assert repr(back) == repr(value) or _same(back, value)


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b)
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and np.isnan(a):
        return np.isnan(b)
    return a == b


@pytest.mark.parametrize(
    "record",
    [
        {"$data": "os:system", "fields": {}},
        {"$data": "gradekit.grading:Grader", "fields": {}},
        {"$data": "gradekit.checks.base:Case", "fields": {"__class__": 1}},
        {"$what": 1},
    ],
)
def test_loading_builds_only_gradekits_own_dataclasses(record):
    with pytest.raises((ValueError, AttributeError)):
        data.decode(record, {})


def test_a_damaged_kit_is_one_line(tmp_path):
    folder = tmp_path / CHECKS_FOLDER
    folder.mkdir()
    (folder / data.CHECKS).write_text("{not json")
    with pytest.raises(data.KitError, match="not valid JSON"):
        data.load(folder)
    (folder / data.CHECKS).write_text(json.dumps({"$data": "os:system", "fields": {}}))
    np.savez(folder / data.ARRAYS)
    with pytest.raises(data.KitError, match="not a kit's data"):
        data.load(folder)
