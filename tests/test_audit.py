"""``gradekit audit``: every bundled assignment catches every catalogue mutant of its
components; a spec made blind on purpose is caught out (exit 1), with its ungraded
component and its hidden check that repeats a public one; so is a spec on which the
reference loses points in the sandbox; the JSON holds what the terminal shows.

Each assignment is audited once: a bundled one in its own test, the blind one in a
module fixture that the tests of its findings share.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path

import pytest
from rich.console import Console

from gradekit.assignments import CheckSpec, bundled_assignments, load_assignment
from gradekit.audit import AuditReport, hidden_repeats
from gradekit.cli import main
from gradekit.commands.audit import print_audit
from gradekit_reference.mutants import all_mutants

BACKPROP = Path(__file__).parents[1] / "assignments" / "backprop"
REPEAT = """
[[checks]]
id = "tanh.gradient-again"
type = "gradient"
component = "activations/tanh"
visibility = "hidden"
seed = 7
"""
TOO_SHORT = """
schema_version = 1
name = "too-short"
title = "A time budget no worker meets"
limits = { submission = 0.000001 }
[[checks]]
id = "relu.gradient"
type = "gradient"
component = "activations/relu"
[[checks]]
id = "relu.values"
type = "values"
component = "activations/relu"
"""


@pytest.fixture(autouse=True)
def wide(monkeypatch):
    """A wide terminal: rich does not fold the tables' cells."""
    monkeypatch.setenv("COLUMNS", "200")


def _audit(capsys, folder: Path | str, json_file: Path) -> tuple[int, str, dict]:
    code = main(["audit", str(folder), "--json", str(json_file)])
    return code, capsys.readouterr().out, json.loads(json_file.read_text())


def _rows(out: str) -> dict[str, list[str]]:
    """The tables' rows by their first cell."""
    rows = {}
    for line in out.splitlines():
        cells = [c.strip() for c in line.split("│")[1:-1]]
        if cells:
            rows[cells[0]] = cells[1:]
    return rows


def _mutants_of(components: set[str]) -> set[str]:
    return {m.name for m in all_mutants() if f"{m.kind}/{m.target}" in components}


@pytest.mark.parametrize("name", bundled_assignments())
def test_a_bundled_assignment_catches_every_mutant_of_its_components(capsys, tmp_path, name):
    code, out, data = _audit(capsys, name, tmp_path / "audit.json")
    assert code == 0, out
    mutants = {m["name"]: m for c in data["components"] for m in c["mutants"]}
    assert set(mutants) == _mutants_of(set(load_assignment(name).spec.components))
    assert data["blind_spots"] == [] and all(m["caught"] for m in mutants.values())
    assert not [n for n, m in mutants.items() if m["named"] == "wrong"]
    assert data["reference"]["lost_on"] == [] and data["reference"]["load_error"] is None
    assert data["ungraded"] == [] and data["starter_problem"] == ""
    assert data["hidden_repeats"] == []
    assert {e["name"] for e in data["examples"]} == {"buggy", "correct"}
    checks = [c for comp in data["components"] for c in comp["checks"]]
    assert len(checks) == len(load_assignment(name).spec.checks)
    assert all(c["seconds"] > 0 for c in checks)
    # the terminal shows the same: each mutant's row, and the summary
    rows = _rows(out)
    for component in data["components"]:
        prefix = component["component"].split("/")[1] + "."
        for m in component["mutants"]:
            by = ", ".join(c.removeprefix(prefix) for c in m["caught_by"])
            named = {"right": "yes", "none": "no"}[m["named"]]
            assert rows[m["name"]] == [by, f"{m['kept']:.0%}", named]
    n = len(mutants)
    assert f"{name}: {n} of {n} mutants caught" in out and "0 blind spots" in out


@pytest.fixture(scope="module")
def blind_run(tmp_path_factory) -> tuple[int, str, dict]:
    """backprop without ReLU's gradient checks or any check of Swish, and with a hidden
    check that repeats tanh's public gradient check: audited once, with --json."""
    root = tmp_path_factory.mktemp("blind")
    folder = root / "backprop"
    shutil.copytree(BACKPROP, folder)
    spec = folder / "assignment.toml"
    blocks = spec.read_text().split("[[checks]]")
    blocks = [
        b.replace('"activations/relu", ', "") if 'type = "gradient"' in b else b for b in blocks
    ]
    text = "[[checks]]".join(blocks).replace('"activations/swish",', "")
    assert "activations/swish" not in text and text.count("activations/relu") == 1
    spec.write_text(text + REPEAT)
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(out):
        mp.setenv("COLUMNS", "200")
        code = main(["audit", str(folder), "--json", str(root / "audit.json")])
    return code, out.getvalue(), json.loads((root / "audit.json").read_text())


def test_a_blind_spec_fails_and_names_the_mutants_it_misses(blind_run):
    code, out, data = blind_run
    relu = _mutants_of({"activations/relu"})
    assert code == 1
    assert "relu_kink_one" in data["blind_spots"] and set(data["blind_spots"]) <= relu
    assert _rows(out)["relu_kink_one"][0] == "nothing: a blind spot"
    assert f"Blind spots: {', '.join(data['blind_spots'])}." in out
    assert "backprop: " in out and f"{len(data['blind_spots'])} blind spots" in out


def test_a_component_of_the_starter_that_no_check_grades_is_listed(blind_run):
    _, out, data = blind_run
    swish = sorted(_mutants_of({"activations/swish"}))
    assert data["ungraded"] == [{"component": "activations/swish", "mutants": swish}]
    assert f"graded by no check: activations/swish ({', '.join(swish)})." in out


def test_a_hidden_copy_of_a_public_check_is_a_repeat(blind_run):
    _, out, data = blind_run
    assert data["hidden_repeats"] == [{"hidden": "tanh.gradient-again", "public": "tanh.gradient"}]
    assert "only repeat a public one: tanh.gradient-again repeats tanh.gradient." in out


def test_the_json_reads_back_and_prints_within_80_columns(blind_run):
    report = AuditReport.model_validate(blind_run[2])
    console = Console(width=80, record=True)
    print_audit(report, console)
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "relu_kink_one" in text and "a blind spot" in text


def test_a_check_the_reference_fails_in_the_sandbox_fails_the_audit(capsys, tmp_path):
    """A time budget too short for any worker: the reference loses the points of the
    checks after the first (which may just make it). The folder has no starter, so no
    ungraded component is looked for."""
    (tmp_path / "assignment.toml").write_text(TOO_SHORT)
    code, out, data = _audit(capsys, tmp_path, tmp_path / "audit.json")
    assert code == 1 and data["blind_spots"] == []
    assert "relu.values" in data["reference"]["lost_on"]
    assert f"The reference loses points on {', '.join(data['reference']['lost_on'])}." in out
    assert data["starter_problem"] == "no starter/submission.py" and data["examples"] == []
    assert "graded by no check: not looked for (no starter/submission.py)" in out


def test_repeats_are_the_same_check_but_for_the_seed():
    def spec(**fields) -> CheckSpec:
        base = {"id": "g", "type": "gradient", "component": "activations/tanh"}
        return CheckSpec(**{**base, **fields})

    public = spec(id="p", options={"batch": 7})
    same = spec(id="h1", visibility="hidden", seed=3, points=5, options={"batch": 7})
    at_default = spec(id="h2", visibility="hidden", options={"batch": 7, "samples": 3})
    other = spec(id="h3", visibility="hidden", options={"batch": 8})
    found = hidden_repeats([public, same, at_default, other])
    assert [(r.hidden, r.public) for r in found] == [("h1", "p"), ("h2", "p")]


def test_a_bad_assignment_is_one_line(capsys):
    assert main(["audit", "backprob"]) == 2
    err = capsys.readouterr().err
    assert "did you mean 'backprop'" in err and err.count("\n") == 1
