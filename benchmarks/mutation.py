"""Mutation testing (mutmut) of the grader's trust- and verdict-critical modules, each against
the tests that exercise it; writes the score per module to docs/mutation.md."""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "mutants"
REPORT = ROOT / "docs" / "mutation.md"
BIN = Path(sys.executable).parent

TARGETS = Path(__file__).resolve().parent / "mutation_targets"
"""One TOML file per area: its ``[[module]]`` tables (path, tests) and its ``[equivalent]``
mutants (mutmut's name = why they behave exactly as the original)."""


def targets() -> tuple[dict[str, list[str]], dict[str, list[str]], dict[str, str]]:
    """Each mutated module with the test files run against its mutants, the mutants chosen
    in it (mutmut's names, ``*`` patterns; none: all), and the mutants left out of the score
    as equivalent, from every file of ``TARGETS``."""
    modules: dict[str, list[str]] = {}
    chosen: dict[str, list[str]] = {}
    equivalent: dict[str, str] = {}
    for path in sorted(TARGETS.glob("*.toml")):
        table = tomllib.loads(path.read_text())
        modules |= {m["path"]: m["tests"] for m in table.get("module", [])}
        chosen |= {m["path"]: m.get("mutants", []) for m in table.get("module", [])}
        equivalent |= table.get("equivalent", {})
    return modules, chosen, equivalent


MODULES, CHOSEN, EQUIVALENT = targets()

KILLED = {"killed", "timeout"}
LISTED = 40
"""Mutants not killed shown per module in the report, with their change."""
COPIED = ["reference", "assignments", "docs", "benchmarks", "README.md"]
"""What the tests read besides the package and tests/ (mutmut copies those)."""
PACKAGES = {"gradekit_reference": "reference", "gradekit_assignments": "assignments"}
"""The installed packages of the project's folders: copied beside ``gradekit``, so that the
tests import them from the same snapshot."""
PRELOAD = [
    *("numpy", "pydantic", "pluggy", "rich", "pytest", "xdist", "hypothesis"),
    *("gradekit.grading", "gradekit.report.files", "gradekit.checks.gradient"),
    *("gradekit.checks.values", "gradekit.checks.penalties", "gradekit.checks.updates"),
    *("gradekit.pytest_plugin", "platformdirs.pytest_plugin", "_hypothesis_pytestplugin"),
    *("xdist.plugin", "xdist.looponfail"),
]
"""Imported once by mutmut's fork server (the mutant is chosen per call), with the pytest
plugins that installed packages declare (pytest imports them at each start); the tests
are imported per mutant, so no grader one mutant's tests cached reaches another."""
PYTEST = ["-n", "0", "-p", "no:cacheprovider", "-p", "pins_first"]
PYTEST += ["--assert=plain", "-p", "no:unraisableexception"]
"""pytest's arguments for each mutant: one process, the pins first; no assertion
rewriting (a failed assert kills a mutant all the same) and no forced garbage collection
at exit, which cost more than most tests (0.26 s to 0.06 s a start, measured)."""


ORDER = '''"""Run the pinning tests first, so that a mutant they kill stops at once (-x)."""


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: "tests/pins/" not in item.nodeid)
'''
"""A pytest plugin for the mutants' runs (mutmut hands pytest a set of tests, unordered)."""


def slug(module: str) -> str:
    return module.removeprefix("gradekit/").removesuffix(".py").replace("/", ".")


def config(module: str, tests: list[str]) -> str:
    """The ``[tool.mutmut]`` table for one module."""
    table = {
        "source_paths": ["gradekit", *PACKAGES],
        "only_mutate": [module],
        "also_copy": COPIED,
        "pytest_add_cli_args": PYTEST,
        "pytest_add_cli_args_test_selection": tests,
        "process_isolation": "forkserver",
        "forkserver_warmup": "import",
        "preload_modules_file": "preload.txt",
        "use_git_change_detection": False,
    }
    return "\n[tool.mutmut]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in table.items())


def stage(module: str, tests: list[str], commit: str | None) -> Path:
    """A fresh folder for ``module``: the project (links to the working tree, or the files
    of ``commit``), the working tree's tests, and a pyproject with the config."""
    folder = WORK / slug(module)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    if commit:
        archive = subprocess.run(
            ["git", "archive", commit, "gradekit", *COPIED], cwd=ROOT, capture_output=True
        )
        if archive.returncode:
            sys.exit(archive.stderr.decode())
        subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    else:
        for name in ["gradekit", *COPIED]:
            (folder / name).symlink_to(ROOT / name)
    for package, source in PACKAGES.items():
        (folder / package).symlink_to(folder / source)
    (folder / "tests").symlink_to(ROOT / "tests")
    pyproject = (ROOT / "pyproject.toml").read_text()
    (folder / "pyproject.toml").write_text(pyproject + config(module, tests))
    (folder / "preload.txt").write_text("\n".join(PRELOAD) + "\n")
    (folder / "plugins").mkdir()
    (folder / "plugins" / "pins_first.py").write_text(ORDER)
    return folder


def statuses(folder: Path, module: str) -> dict[str, str]:
    """Each mutant's status, from mutmut's record of the run."""
    from mutmut.stats import status_by_exit_code

    meta = json.loads((folder / "mutants" / f"{module}.meta").read_text())
    patterns = CHOSEN[module] or ["*"]
    return {
        k: status_by_exit_code[v]
        for k, v in meta["exit_code_by_key"].items()
        if any(fnmatch.fnmatchcase(k, p) for p in patterns)
    }


def diff(folder: Path, module: str, name: str) -> str:
    """The lines a mutant changes, as ``mutmut show`` shows them (read here, not by one
    mutmut process per mutant: hundreds of them made the report take minutes)."""
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    with contextlib.chdir(folder):
        shown = get_diff_for_mutant(name, path=module)
    return "\n".join(
        line
        for line in shown.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    )


def run(module: str, children: int, commit: str | None) -> None:
    """Mutate ``module`` and run its tests on every mutant; keep how long it took."""
    tests = MODULES[module]
    missing = [t for t in tests if not (ROOT / t).exists()]
    if missing:
        sys.exit(f"{module}: no test file {', '.join(missing)}")
    folder = stage(module, tests, commit)
    started, start = datetime.now(UTC), time.monotonic()
    path = os.pathsep.join(filter(None, [str(folder / "plugins"), os.environ.get("PYTHONPATH")]))
    # a mutant's run ends in os._exit, before its tests remove their folders: they go here
    scratch = Path(tempfile.mkdtemp(prefix=f"gradekit-mutation-{slug(module)}-"))
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "PYTHONPATH": path, "TMPDIR": str(scratch)}
    command = ["nice", "-n", "19", str(BIN / "mutmut"), "run", "--max-children", str(children)]
    command += CHOSEN[module]
    load, cpu = os.getloadavg()[0], _children_cpu()
    try:
        done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if done.returncode != 0:
        sys.exit(f"mutmut failed on {module}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    run = {
        "started": f"{started:%Y-%m-%d %H:%M}",
        "seconds": time.monotonic() - start,
        "cpu_seconds": _children_cpu() - cpu,
        "load": [round(load, 1), round(os.getloadavg()[0], 1)],
        "children": children,
        "commit": git("rev-parse", "--short", commit) if commit else "working tree",
        "tests": tests,
    }
    (folder / "run.json").write_text(json.dumps(run))


def _children_cpu() -> float:
    """CPU seconds (user and system) of every child process waited for so far: mutmut and
    its forks. Unlike the wall time, it does not grow with the machine's load."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()


def summary(module: str) -> dict | None:
    """A module's last run: counts, equivalent and other surviving mutants (None: no run)."""
    folder = WORK / slug(module)
    if not (folder / "run.json").exists():
        return None
    found = statuses(folder, module)
    counts = {s: sum(1 for v in found.values() if v == s) for s in set(found.values())}
    equivalent = {k: why for k, why in EQUIVALENT.items() if found.get(k) == "survived"}
    left = sorted(k for k, v in found.items() if v not in KILLED and k not in equivalent)
    killed = sum(1 for v in found.values() if v in KILLED)
    judged = len(found) - len(equivalent)
    return {
        **json.loads((folder / "run.json").read_text()),
        "module": module,
        "blob": git("hash-object", str(folder / module))[:10],
        "total": len(found),
        "killed": killed,
        "counts": counts,
        "equivalent": {k: (why, diff(folder, module, k)) for k, why in equivalent.items()},
        "left": {k: (found[k], diff(folder, module, k)) for k in left[:LISTED]},
        "unlisted": len(left[LISTED:]),
        "stale": sorted(k for k in EQUIVALENT if k.startswith(dotted(module)) and k not in found),
        "score": killed / judged if judged else 1.0,
    }


def dotted(module: str) -> str:
    return module.removesuffix(".py").replace("/", ".") + "."


def fenced(change: str) -> list[str]:
    """A mutant's change as a diff block inside a list item."""
    return ["", "  ```diff", *(f"  {x}" for x in change.splitlines()), "  ```", ""]


def markdown(results: list[dict]) -> str:
    """The report: score per module, then equivalent and surviving mutants."""
    lines = [
        "# Mutation testing",
        "",
        "`.venv/bin/python benchmarks/mutation.py [--modules ...]` (mutmut; not run in CI).",
        "The modules, the tests run against each one's mutants, the mutants chosen and the",
        "equivalent ones (with why) are listed in `benchmarks/mutation_targets/*.toml`. Runs",
        "go under `nice -n 19`. The score is killed (timeouts included) over all mutants but",
        "the equivalent ones; mutants of lines no selected test reaches (no tests) count",
        "against it. Each mutant runs the tests that reach its function, in one process, the",
        "pins first, stopping at the first failure. Time is the run's wall time, with the",
        "1-minute load average at its start and end; CPU is that of mutmut and its forks,",
        "which the load does not inflate.",
        "",
        "| module (git blob) | run (UTC) | mutants | killed | survived | no tests | equivalent "
        "| score | time | load | CPU |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        c = r["counts"]
        survived = c.get("survived", 0) - len(r["equivalent"])
        load = "-".join(map(str, r["load"])) if "load" in r else "?"
        cpu = f"{r['cpu_seconds'] / 60:.1f} min" if "cpu_seconds" in r else "?"
        lines.append(
            f"| `{r['module']}` ({r['blob']}) | {r['started']} | {r['total']} | {r['killed']} "
            f"| {survived} "
            f"| {c.get('no tests', 0)} | {len(r['equivalent'])} | {r['score']:.1%} "
            f"| {r['seconds'] / 60:.1f} min | {load} | {cpu} |"
        )
    total = sum(r["seconds"] for r in results) / 60
    children = sorted({r["children"] for r in results})
    lines += [
        "",
        f"All modules together: {total:.0f} min with {'/'.join(map(str, children))} mutmut "
        "children. A module's git blob names the version of the file that was mutated.",
    ]
    timed = [r["cpu_seconds"] for r in results if "cpu_seconds" in r]
    if timed:
        lines[-1] += (
            f" CPU, for the {len(timed)} of {len(results)} modules whose run recorded it: "
            f"{sum(timed) / 60:.0f} min, {sum(timed) / 120:.0f} min of 2 busy cores."
        )
    lines += ["", "## Tests per module", ""]
    for r in results:
        lines.append(f"- `{r['module']}`: " + ", ".join(f"`{t}`" for t in r["tests"]))
        if CHOSEN[r["module"]]:
            lines[-1] += "; mutants " + ", ".join(f"`{p}`" for p in CHOSEN[r["module"]])
    lines += ["", "## Equivalent mutants", ""]
    for r in results:
        for name, (why, change) in r["equivalent"].items():
            lines += [f"- `{name}`: {why}", *fenced(change)]
    if not any(r["equivalent"] for r in results):
        lines.append("None.")
    lines += ["", "## Mutants not killed", ""]
    for r in results:
        for name, (status, change) in r["left"].items():
            lines += [f"- `{name}` ({status})", *fenced(change)]
        if r["unlisted"]:
            lines += [f"- and {r['unlisted']} more of `{r['module']}` (`mutmut results` in its"]
            lines[-1] += f" folder, mutants/{slug(r['module'])}/, lists them)"
            lines.append("")
    if not any(r["left"] for r in results):
        lines.append("None.")
    stale = [k for r in results for k in r["stale"]]
    if stale:
        lines += ["", "Listed as equivalent but not generated any more: " + ", ".join(stale)]
    return "\n".join(lines).rstrip() + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modules", nargs="+", help="modules (or their short names) to run")
    parser.add_argument("--children", type=int, default=2, help="mutmut's parallel children")
    parser.add_argument(
        "--commit", help="mutate the package of this commit (the tests stay the working tree's)"
    )
    parser.add_argument(
        "--report-only", action="store_true", help="rewrite the report from the last runs"
    )
    parser.add_argument("--report", type=Path, default=REPORT, help="the markdown to write")
    args = parser.parse_args()
    chosen = list(MODULES)
    if args.modules:
        chosen = [m for m in MODULES if {m, slug(m), Path(m).stem} & set(args.modules)]
        if len(chosen) != len(args.modules):
            sys.exit(f"unknown module among {args.modules}; known: {[slug(m) for m in MODULES]}")
    for module in chosen if not args.report_only else []:
        run(module, args.children, args.commit)
        r = summary(module)
        print(
            f"{module}: {r['killed']}/{r['total']} killed, {len(r['equivalent'])} equivalent, "
            f"{len(r['left'])} left, score {r['score']:.1%}, {r['seconds']:.0f} s",
            flush=True,
        )
    results = [r for r in map(summary, MODULES) if r is not None]
    report = markdown(results)
    unrun = [m for m in MODULES if m not in {r["module"] for r in results}]
    if unrun:
        names = ", ".join(f"`{m}`" for m in unrun)
        report = report.replace(
            "\n## Tests per module", f"\nNo run yet: {names}.\n\n## Tests per module"
        )
    args.report.write_text(report)
    print(f"wrote {args.report} ({len(results)} modules)")


if __name__ == "__main__":
    main()
