"""``gradekit experiment hparam-search``: the best setting, the coarse-to-fine round, the
plot, a submission's optimizer in the sandbox, and one-line errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gradekit.cli import main

ROOT = Path(__file__).parents[2]
BUGGY = ROOT / "assignments" / "optimization" / "examples" / "buggy.py"
FAST = ("--trials", "4", "--steps", "30")


@pytest.fixture(autouse=True)
def wide(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["experiment", "hparam-search", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_prints_the_best_setting_and_narrows_in_the_fine_round(capsys, tmp_path):
    plot = tmp_path / "search.png"
    code, out, _ = _run(capsys, *FAST, "--plot", str(plot))
    assert code == 0
    best = re.search(r"best: sgd with lr=([0-9.e+-]+): validation loss ([0-9.e+-]+)", out)
    assert best, out
    low, high = map(float, re.search(r"searched lr in \[([^,]+), ([^\]]+)\]", out).groups())
    assert 1e-4 <= low < high <= 10.0 and high / low < 1e5  # narrower than the 5 decades
    assert plot.read_bytes().startswith(b"\x89PNG")


def test_a_smaller_learning_rate_range_gives_a_worse_best_loss(capsys):
    _, out, _ = _run(capsys, *FAST, "--rounds", "1", "--low", "1e-4", "--high", "1e-3")
    small = float(re.search(r"validation loss ([0-9.]+)", out.split("best:")[1]).group(1))
    _, out, _ = _run(capsys, *FAST, "--rounds", "1", "--low", "0.3", "--high", "3")
    good = float(re.search(r"validation loss ([0-9.]+)", out.split("best:")[1]).group(1))
    assert good < small


def test_a_submissions_optimizer_runs_in_the_sandbox(capsys):
    """The buggy momentum climbs: no learning rate beats the untrained loss (about 1.05)."""
    code, out, _ = _run(capsys, *FAST, "--rounds", "1", "--optimizer", "momentum",
                        "--high", "1", "--submission", str(BUGGY))  # fmt: skip
    assert code == 0 and "(buggy)" in out
    best = re.search(r"best: momentum with mu=0.9, lr=[^:]+: validation loss ([0-9.]+)", out)
    assert best and float(best.group(1)) > 1.0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--low", "1", "--high", "0.1"), "0 < low < high"),
        (("--rounds", "3"), "--rounds 1 or 2"),
        (("--optimizer", "lion"), "lion"),
    ],
)
def test_bad_options_are_one_line_errors(capsys, argv, message):
    code, _, err = _run(capsys, *FAST, *argv)
    assert code == 2 and message in err and "Traceback" not in err
