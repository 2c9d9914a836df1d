"""What every benchmark section uses: timing, markdown tables, generated classes."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gradekit.assignments import load_assignment

ROOT = Path(__file__).resolve().parents[1]
SUBMISSIONS = ROOT / "tests" / "submissions"


def timed(run: Callable[[], Any]) -> tuple[float, Any]:
    """Wall seconds of one call, and what it returned."""
    start = time.perf_counter()
    out = run()
    return time.perf_counter() - start, out


def best(run: Callable[[], Any], repeats: int) -> float:
    return min(timed(run)[0] for _ in range(repeats))


def table(header: list[str], rows: list[list[Any]]) -> None:
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|")
    for row in rows:
        print("| " + " | ".join(str(c) for c in row) + " |")
    print()


HOSTILE = ("exit_at_import", "liar", "loop_in_method")


def make_class(folder: Path, size: int, assignment_name: str) -> dict[str, int]:
    """``size`` distinct submission files: correct ones (the example and independent
    alternatives), buggy ones, and about 2% hostile ones (backprop only)."""
    examples = load_assignment(assignment_name).folder / "examples"
    correct = [examples / "correct.py", *sorted((SUBMISSIONS / "correct").glob("alt_*.py"))]
    buggy = [examples / "buggy.py"]
    hostile = [SUBMISSIONS / "hostile" / f"{h}.py" for h in HOSTILE]
    mix: dict[str, int] = defaultdict(int)
    for i in range(size):
        if assignment_name == "backprop" and i % 50 == 49:
            source, label = hostile[(i // 50) % len(hostile)], "hostile"
        elif i % 2:
            source, label = buggy[i % len(buggy)], "buggy"
        else:
            source, label = correct[(i // 2) % len(correct)], "correct"
        mix[label] += 1
        (folder / f"student{i:04d}.py").write_text(source.read_text() + f"\n# student {i}\n")
    return dict(mix)
