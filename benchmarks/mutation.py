"""Mutation testing (mutmut) of the grader's trust- and verdict-critical modules, each against
the tests that exercise it; writes the score per module to docs/mutation.md."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "mutants"
REPORT = ROOT / "docs" / "mutation.md"
BIN = Path(sys.executable).parent

MODULES: dict[str, list[str]] = {
    "gradekit/checks/compare.py": [
        "tests/pins/test_compare_pins.py",
        "tests/grader/test_dtypes.py",
    ],
    "gradekit/checks/base.py": ["tests/pins/test_base_pins.py", "tests/grader/test_kinks.py"],
    "gradekit/checks/inputs.py": ["tests/pins/test_inputs_pins.py", "tests/grader/test_kinks.py"],
    "gradekit/numerics.py": [
        "tests/pins/test_numerics_pins.py",
        "tests/reference/test_activations.py",
        "tests/reference/test_layers.py",
    ],
    "gradekit/credit.py": [
        "tests/pins/test_credit_pins.py",
        "tests/grader/test_credit.py",
        "tests/grader/test_severity.py",
    ],
    "gradekit/grading.py": ["tests/pins/test_grading_pins.py", "tests/grader/test_dtypes.py"],
    "gradekit/checks/values.py": [
        "tests/pins/test_values_pins.py",
        "tests/grader/test_dtypes.py",
    ],
    "gradekit/checks/penalties.py": ["tests/pins/test_penalties_pins.py"],
    "gradekit/checks/updates.py": ["tests/pins/test_updates_pins.py"],
    "gradekit/checks/gradient.py": [
        "tests/pins/test_gradient_pins.py",
        "tests/grader/test_kinks.py",
    ],
    "gradekit/report/files.py": [
        "tests/pins/test_files_pins.py",
        "tests/report/test_safe_outputs.py",
    ],
}
"""Each mutated module, and the test files run against its mutants."""

PENALTY = "gradekit.checks.penalties.xǁPenaltyCheckǁ"
UPDATE = "gradekit.checks.updates.xǁUpdateǁ"
SCHEDULE = "gradekit.checks.updates.xǁScheduleValuesǁ"
"""mutmut's names of methods: the module, the class between ǁ, then the method."""

EQUIVALENT: dict[str, str] = {
    "gradekit.checks.compare.x_nonfinite_where_finite__mutmut_5": (
        "a Python int or float becomes an int64 or float64 array either way, and isfinite "
        "judges both alike"
    ),
    "gradekit.checks.compare.x_nonfinite_where_finite__mutmut_7": (
        "as _5: without a dtype, a Python number still becomes a real array"
    ),
    "gradekit.checks.compare.x_nonfinite_where_finite__mutmut_11": (
        "a dtype's kind is one character, and X is no numpy kind: 'XXfiuXX' holds the same kinds"
    ),
    "gradekit.checks.compare.x__dtype_first__mutmut_16": (
        "the message of _close holds one '; ' (case names and sources hold none), so every "
        "split of it at '; ' keeps the same second part"
    ),
    "gradekit.checks.compare.x__dtype_first__mutmut_17": "as _16 (rsplit)",
    "gradekit.checks.compare.x__dtype_first__mutmut_19": "as _16 (at most two splits)",
    "gradekit.checks.compare.x_nonfinite_where_finite__mutmut_16": (
        "expected values are real numbers or arrays, and isfinite judges int and float alike"
    ),
    "gradekit.checks.compare.x_nonfinite_where_finite__mutmut_18": "as _16 (no dtype given)",
    "gradekit.checks.compare.x__close__mutmut_3": (
        "expected values are real arrays: every operation on them here (abs, max, the "
        "difference, float of an entry) gives the same float64 values from an int array"
    ),
    "gradekit.checks.compare.x__close__mutmut_5": "as _close _3 (no dtype given)",
    "gradekit.checks.inputs.x_loss_inputs__mutmut_5": (
        "every kind but labels and signs gets real targets: the default's text is never read"
    ),
    "gradekit.checks.inputs.x_loss_inputs__mutmut_7": "as _5 (default None)",
    "gradekit.checks.inputs.x_loss_inputs__mutmut_8": "as _5 (default 'XXrealXX')",
    "gradekit.checks.inputs.x_loss_inputs__mutmut_9": "as _5 (default 'REAL')",
    "gradekit.checks.inputs.x_loss_inputs__mutmut_44": "t is -1 or +1, so scale / t == scale * t",
    "gradekit.checks.inputs.x_loss_inputs__mutmut_45": (
        "the margin is a standard normal pushed off 0, symmetric about 0: 1 - margin is a draw "
        "of the same law as 1 + margin, as far from the kink (the expected values come from "
        "the reference on the same inputs)"
    ),
    "gradekit.checks.compare.x_array_problem__mutmut_4": "as nonfinite_where_finite _11",
    "gradekit.checks.compare.x__close__mutmut_95": (
        "astype(None) converts to numpy's default dtype, which is float64"
    ),
    "gradekit.checks.compare.x__close__mutmut_102": (
        "with no expected entry there is nothing to compare: the ratio is empty and the case "
        "passes whatever the scale"
    ),
    "gradekit.numerics.x_relative_error__mutmut_4": (
        "the other operand is float64, so numpy computes in float64 anyway, and converting "
        "an int or float32 value to float64 is exact"
    ),
    "gradekit.numerics.x_relative_error__mutmut_6": "as relative_error _4",
    "gradekit.numerics.x_relative_error__mutmut_9": "as relative_error _4 (the expected side)",
    "gradekit.numerics.x_relative_error__mutmut_11": "as relative_error _4 (the expected side)",
    "gradekit.numerics.x_directional_derivative__mutmut_4": (
        "an empty x has an empty direction, whose max raises either way: the scale of an "
        "empty x is never used"
    ),
    "gradekit.numerics.x_directional_derivative__mutmut_8": "as directional_derivative _4",
    f"{PENALTY}plan__mutmut_19": "numpy reads any negative size in reshape as 'the rest'",
    f"{PENALTY}plan__mutmut_23": "replace=None is falsy: numpy draws without replacement, as False",
    f"{PENALTY}plan__mutmut_96": "as plan _23 (the sampled entries)",
    f"{PENALTY}_value__mutmut_29": (
        "the reference's penalty is a float: np.array of it is float64 with or without dtype"
    ),
    f"{PENALTY}_value__mutmut_31": "as _value _29",
    f"{PENALTY}_grad__mutmut_19": "the reference's gradient is a float64 array already",
    f"{PENALTY}_grad__mutmut_21": "as _grad _19",
    f"{PENALTY}_grad__mutmut_46": (
        "where w = 0 the reference's gradient is 0, and isclose to 0 with atol=0 holds only "
        "for 0, whatever rtol"
    ),
    f"{PENALTY}_numeric__mutmut_19": (
        "the initial message is shown only if no probe's error exceeds 0 and 0 exceeds the "
        "tolerance, which it never does"
    ),
    f"{UPDATE}plan__mutmut_57": (
        "the noise is a standard normal, symmetric about 0: minus it is a draw of the same law "
        "(the expected weights come from the reference on the same gradients)"
    ),
    f"{UPDATE}judge__mutmut_6": (
        "want_before is read at step 1 only once a step failed with the weights unchanged: then "
        "the reference's differ from w0 (else the step would pass), so 'not still' holds for "
        "any value of it"
    ),
    f"{UPDATE}judge__mutmut_7": "as judge _6",
    f"{UPDATE}judge__mutmut_8": "as judge _6",
    f"{UPDATE}_purity__mutmut_7": "step0 is never saved: its key adds no record",
    f"{UPDATE}_purity__mutmut_11": "as _purity _7 (step6)",
    f"{UPDATE}_purity__mutmut_13": (
        "purity is judged only when every watched call ran, and each left its .mutated record: "
        "the default is never used"
    ),
    f"{UPDATE}_purity__mutmut_15": "as _purity _13",
    f"{SCHEDULE}judge__mutmut_24": (
        "the name given to close appears only in its message, which the schedule check replaces"
    ),
    f"{SCHEDULE}judge__mutmut_32": "as judge _24",
    f"{SCHEDULE}judge__mutmut_33": "as judge _24",
    f"{SCHEDULE}judge__mutmut_35": (
        "the rates are Python numbers or nan: the array is float64, or int64 when every rate "
        "is an int, which close and the comparison read as the same values"
    ),
    f"{SCHEDULE}judge__mutmut_37": "as judge _35",
    f"{SCHEDULE}judge__mutmut_42": "as judge _35",
    f"{SCHEDULE}judge__mutmut_44": "as judge _35",
    f"{SCHEDULE}judge__mutmut_46": "errstate only decides whether numpy warns about nan",
    "gradekit.credit.x_cap_severe__mutmut_19": (
        "visibility is public or hidden: '!=' caps the hidden group in the public pass and the "
        "public one in the hidden pass, with the same factors"
    ),
    "gradekit.credit.x_credit__mutmut_4": (
        "weights are non-negative, so a total of 0 means every weight is 0 and the passed "
        "weight is 0 too: 0/1 and 0/2 are both 0"
    ),
}
"""Mutants that behave exactly as the original (mutmut's name: why), left out of the score."""

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
]
"""Imported once by mutmut's fork server (the mutant is chosen per call); the tests are
imported per mutant, so no grader one mutant's tests cached reaches another."""


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
        "pytest_add_cli_args": ["-n", "0", "-p", "no:cacheprovider", "-p", "pins_first"],
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
    return {k: status_by_exit_code[v] for k, v in meta["exit_code_by_key"].items()}


def diff(folder: Path, name: str) -> str:
    """The lines a mutant changes, as mutmut shows them."""
    shown = subprocess.run(
        [str(BIN / "mutmut"), "show", name], cwd=folder, capture_output=True, text=True
    ).stdout
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
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "PYTHONPATH": path}
    command = ["nice", "-n", "19", str(BIN / "mutmut"), "run", "--max-children", str(children)]
    done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"mutmut failed on {module}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    run = {
        "started": f"{started:%Y-%m-%d %H:%M}",
        "seconds": time.monotonic() - start,
        "children": children,
        "commit": git("rev-parse", "--short", commit) if commit else "working tree",
        "tests": tests,
    }
    (folder / "run.json").write_text(json.dumps(run))


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
        "equivalent": {k: (why, diff(folder, k)) for k, why in equivalent.items()},
        "left": {k: (found[k], diff(folder, k)) for k in left[:LISTED]},
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
        "Each module's mutants run against the test files listed below, on 2 cores shared",
        "with other work, under `nice -n 19`. The score is killed (timeouts included) over all",
        "mutants but the equivalent ones; mutants of lines no selected test reaches (no tests)",
        "count against it.",
        "",
        "| module (git blob) | run (UTC) | mutants | killed | survived | no tests | equivalent "
        "| score | time |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        c = r["counts"]
        survived = c.get("survived", 0) - len(r["equivalent"])
        lines.append(
            f"| `{r['module']}` ({r['blob']}) | {r['started']} | {r['total']} | {r['killed']} "
            f"| {survived} "
            f"| {c.get('no tests', 0)} | {len(r['equivalent'])} | {r['score']:.1%} "
            f"| {r['seconds'] / 60:.1f} min |"
        )
    total = sum(r["seconds"] for r in results) / 60
    children = sorted({r["children"] for r in results})
    lines += [
        "",
        f"All modules together: {total:.0f} min with {'/'.join(map(str, children))} mutmut "
        "children. A module's git blob names the version of the file that was mutated.",
    ]
    lines += ["", "## Tests per module", ""]
    lines += [f"- `{r['module']}`: " + ", ".join(f"`{t}`" for t in r["tests"]) for r in results]
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
    args.report.write_text(markdown(results))
    print(f"wrote {args.report} ({len(results)} modules)")


if __name__ == "__main__":
    main()
