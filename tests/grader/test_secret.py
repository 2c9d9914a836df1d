"""The course secret: it salts hidden checks' seeds, so answers memorised for the public
seeds earn nothing; public checks keep their seeds; the cache keeps secrets apart; the
command line reads the secret from a file or the environment and says when there is none.

The attack is built as a student would: the hidden checks' plans, whose seeds the public
spec gives, run at home on a correct implementation wrapped in a recorder, and a package
submission replays the recorded answers by a hash of each call.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gradekit.assignments import AssignmentSpec, load_assignment
from gradekit.batch import ResultCache
from gradekit.cli import main
from gradekit.grading import Grader, PreparedCheck, reference_factories
from gradekit.results import SubmissionResult
from gradekit.sandbox.backends import bwrap_works
from gradekit.sandbox.runner import LocalSession
from gradekit.secret import NOTICE, SECRET_ENV, course_secret, secret_digest

from .conftest import BUNDLED

SECRET = "correct horse battery staple 8f3a"
OTHER = "a different course secret 1c9e"


@pytest.fixture(autouse=True)
def _no_secret_in_env(monkeypatch):
    """Each test starts without a secret in the environment, whatever the shell has."""
    monkeypatch.delenv(SECRET_ENV, raising=False)


# ------------------------------------------------------------------ the seeds
HIDDEN_SPECS = [
    n for n in BUNDLED if any(c.visibility == "hidden" for c in load_assignment(n).spec.checks)
]


@pytest.mark.parametrize("name", HIDDEN_SPECS)
def test_a_secret_salts_hidden_seeds_and_leaves_public_ones(name):
    spec = load_assignment(name).spec
    hidden = [c for c in spec.checks if c.visibility == "hidden"]
    public = [c for c in spec.checks if c.visibility == "public"]
    assert hidden and public
    for check in public:
        assert spec.seed_of(check, SECRET) == spec.seed_of(check), check.id
    for check in hidden:
        plain, salted = spec.seed_of(check), spec.seed_of(check, SECRET)
        assert salted != plain, check.id
        assert spec.seed_of(check, OTHER) not in (plain, salted), check.id
        assert 0 <= salted < 2**32
    # checks that share a seed (an explicit one) share the salted one, and no others
    pairs = {(spec.seed_of(c), spec.seed_of(c, SECRET)) for c in hidden}
    assert len({p for p, _ in pairs}) == len({s for _, s in pairs}) == len(pairs)


def test_an_explicit_hidden_seed_is_salted_too():
    spec = AssignmentSpec.model_validate(
        {
            "name": "two",
            "title": "Two checks",
            "checks": [
                {"id": "a", "type": "values", "component": "activations/relu", "seed": 7},
                {
                    "id": "b",
                    "type": "values",
                    "component": "activations/relu",
                    "seed": 7,
                    "visibility": "hidden",
                },
            ],
        }
    )
    public, hidden = spec.checks
    assert spec.seed_of(public, SECRET) == spec.seed_of(hidden) == 7
    assert spec.seed_of(hidden, SECRET) not in (7, spec.seed_of(hidden, OTHER))


def _inputs(check: PreparedCheck) -> bytes:
    """Every input array of a check's plan, as bytes: what the worker is sent."""
    return b"".join(check.plan.arrays[k].tobytes() for k in sorted(check.plan.arrays))


def test_the_grader_plans_hidden_checks_from_the_salted_seeds():
    assignment = load_assignment("backprop")
    plain, salted = Grader(assignment), Grader(assignment, secret=SECRET)
    assert salted.secret == SECRET and plain.secret is None
    for a, b in zip(plain.checks, salted.checks, strict=True):
        assert b.target.seed == assignment.spec.seed_of(b.spec, SECRET)
        if a.spec.visibility == "public":
            assert _inputs(a) == _inputs(b), a.spec.id
        else:
            assert _inputs(a) != _inputs(b), a.spec.id


# ------------------------------------------------------------------ the replay attack
ANSWER_KEY = '''
def answer_key(name, method, args, kwargs, params):
    """A hash of one call: component, method, argument arrays and parameters, as bytes."""
    h = hashlib.sha256(f"{name}.{method}".encode())
    items = [*enumerate(args), *sorted(kwargs.items())]
    items += [(f"param {k}", params[k]) for k in sorted(params)]
    for label, value in items:
        a = np.ascontiguousarray(value)
        h.update(f"{label}:{a.dtype}:{a.shape}:".encode() + a.tobytes())
    return h.hexdigest()
'''

REPLAY = '''
"""Answers recorded at home from a correct implementation, replayed by each call's key."""

import functools
import hashlib
import json
from pathlib import Path

import numpy as np

import gradekit

HERE = Path(__file__).parent
ANSWERS = dict(np.load(HERE / "answers.npz", allow_pickle=False))
COMPONENTS = json.loads((HERE / "components.json").read_text())
{answer_key}

class Replay:
    """Looks the answer up; zeros of a plausible shape when the call was never seen."""

    def __init__(self, name, **kwargs):
        self.name = name
        self.dout = kwargs.get("dout")
        self.params = {{}}
        self.grads = {{}}
        self.x = None

    def _answer(self, method, args, kwargs):
        key = answer_key(self.name, method, args, kwargs, self.params)
        if key + ".result" not in ANSWERS:
            return None
        prefix = key + ".grads."
        self.grads = {{k[len(prefix):]: v for k, v in ANSWERS.items() if k.startswith(prefix)}}
        return ANSWERS[key + ".result"].copy()

    def forward(self, x, *, training=True):
        self.x = np.asarray(x, dtype=np.float64)
        found = self._answer("forward", (x,), {{"training": training}})
        if found is not None:
            return found
        width = self.dout if self.dout is not None else self.x.shape[-1]
        return np.zeros((*self.x.shape[:-1], width))

    def backward(self, dout):
        found = self._answer("backward", (dout,), {{}})
        if found is not None:
            return found
        self.grads = {{k: np.zeros_like(v) for k, v in self.params.items()}}
        return np.zeros_like(self.x)


@gradekit.hookimpl
def gradekit_register(registry):
    for kind, name in COMPONENTS:
        getattr(registry, kind)[name] = functools.partial(Replay, name)
'''


def _answer_key():
    """The very function the replay submission uses, so both sides hash alike."""
    scope: dict[str, Any] = {"hashlib": hashlib, "np": np}
    exec(ANSWER_KEY, scope)
    return scope["answer_key"]


class Recorder:
    """A reference component that records, per call, its result and grads by the call's key."""

    def __init__(self, name: str, factory: Any, table: dict, **kwargs: Any) -> None:
        self._name, self._table, self._key = name, table, _answer_key()
        self._inner = factory(**kwargs)

    @property
    def params(self) -> dict:
        """The reference's own dict, so the plan's ``set_param`` reaches it."""
        return self._inner.params

    @property
    def grads(self) -> dict:
        """The reference's gradients after its last call."""
        return self._inner.grads

    def _call(self, method: str, args: tuple, kwargs: dict) -> Any:
        """Call the reference; keep its result and grads under the call's key."""
        key = self._key(self._name, method, args, kwargs, self._inner.params)
        result = getattr(self._inner, method)(*args, **kwargs)
        self._table[f"{key}.result"] = np.array(result)
        for k, v in self._inner.grads.items():
            self._table[f"{key}.grads.{k}"] = np.array(v)
        return result

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The reference's forward, recorded."""
        return self._call("forward", args, kwargs)

    def backward(self, *args: Any, **kwargs: Any) -> Any:
        """The reference's backward, recorded."""
        return self._call("backward", args, kwargs)


def hidden_of(grader: Grader) -> list[PreparedCheck]:
    """The grader's hidden checks, with their plans."""
    return [c for c in grader.checks if c.spec.visibility == "hidden"]


@pytest.fixture(scope="module")
def replay(tmp_path_factory) -> Path:
    """A package submission that replays the reference's answers to the public-seed hidden
    checks of backprop (their plans computed from the shipped spec alone)."""
    public = Grader(load_assignment("backprop"))
    factories = reference_factories()
    table: dict[str, np.ndarray] = {}
    components = []
    for check in hidden_of(public):
        kind, name = check.target.kind, check.target.name
        recorder = functools.partial(Recorder, name, factories[(kind, name)], table)
        outcome = LocalSession({(kind, name): recorder}).run(check.plan)
        assert outcome.failure is None, outcome.failure
        components.append([kind, name])
    folder = tmp_path_factory.mktemp("class") / "replay"
    folder.mkdir()
    np.savez(folder / "answers.npz", **table)
    (folder / "components.json").write_text(json.dumps(sorted(set(map(tuple, components)))))
    (folder / "__init__.py").write_text(REPLAY.format(answer_key=ANSWER_KEY))
    return folder


def hidden_scores(result: SubmissionResult) -> dict[str, tuple[float, float]]:
    """Each hidden check's (score, max_score)."""
    return {c.name: (c.score, c.max_score) for c in result.checks if c.visibility == "hidden"}


def test_replayed_answers_pass_public_seeds_and_earn_nothing_under_a_secret(replay):
    assignment = load_assignment("backprop")
    open_ = hidden_scores(Grader(assignment).grade(replay))
    salted = hidden_scores(Grader(assignment, secret=SECRET).grade(replay))
    assert len(open_) == 4 and open_.keys() == salted.keys()
    earned = sum(s for s, _ in open_.values())
    assert earned >= 0.9 * sum(m for _, m in open_.values()), open_
    assert all(s > 0 for s, _ in open_.values()), open_
    assert all(s == 0 for s, _ in salted.values()), salted


def test_a_correct_submission_still_passes_salted_hidden_checks():
    correct = load_assignment("backprop").folder / "examples" / "correct.py"
    result = Grader(load_assignment("backprop"), secret=SECRET).grade(correct)
    assert result.score == result.max_score
    assert all(s == m for s, m in hidden_scores(result).values())


# ------------------------------------------------------------------ the cache
@pytest.mark.skipif(
    not bwrap_works(),
    reason="the results cache opens only under bubblewrap, which does not work here",
)
def test_the_cache_never_reuses_a_result_graded_under_another_secret(tmp_path):
    assignment = load_assignment("backprop")
    sub = tmp_path / "alice.py"
    sub.write_text("x = 1\n")
    result = SubmissionResult(
        submission="alice", path=str(sub), assignment="backprop", score=1, max_score=2, checks=[]
    )
    folder = tmp_path / "cache"
    ResultCache(folder, Grader(assignment, secret=SECRET)).put(sub, result)
    assert ResultCache(folder, Grader(assignment, secret=SECRET)).get("alice", sub) == result
    assert ResultCache(folder, Grader(assignment, secret=OTHER)).get("alice", sub) is None
    assert ResultCache(folder, Grader(assignment)).get("alice", sub) is None
    ResultCache(folder, Grader(assignment)).put(sub, result)
    files = list(folder.glob("*.json"))  # and the cache's own key
    assert len(files) == 2
    for secret in (SECRET, secret_digest(SECRET)):
        assert not any(secret in f.name or secret in f.read_text() for f in files)


# ------------------------------------------------------------------ reading the secret
def test_the_file_wins_over_the_environment_and_both_are_stripped(tmp_path, monkeypatch):
    assert course_secret(None) is None
    monkeypatch.setenv(SECRET_ENV, f"  {OTHER}\n")
    assert course_secret(None) == OTHER
    file = tmp_path / "secret"
    file.write_text(f"\n{SECRET}  \n")
    assert course_secret(file) == SECRET
    monkeypatch.setenv(SECRET_ENV, "  ")
    assert course_secret(None) is None


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    """Run the command line in this process: exit code, stdout, stderr."""
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("problem", ["missing", "empty", "blank", "folder", "binary"])
def test_an_unusable_secret_file_is_one_line_and_exit_2(tmp_path, capsys, problem):
    file = tmp_path / "secret"
    if problem == "empty":
        file.write_text("")
    elif problem == "blank":
        file.write_text("  \n\n")
    elif problem == "folder":
        file.mkdir()
    elif problem == "binary":
        file.write_bytes(b"\xff\xfe\x00secret")
    code, out, err = _run(capsys, "grade", "-a", "backprop", "--secret-file", str(file))
    assert code == 2
    assert err.startswith(f"gradekit: error: {file}: ")
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in out + err and "Grading" not in out


def _grade_replay(
    capsys, replay: Path, tmp_path: Path, *extra: str
) -> tuple[dict[str, float], str, str, str]:
    """Grade the replay with ``gradekit grade``: hidden scores, stdout, stderr, the JSON."""
    out_json = tmp_path / "r.json"
    argv = ["grade", str(replay), "-a", "backprop", "--json", str(out_json), "--no-cache"]
    code, out, err = _run(capsys, *argv, *extra)
    assert code == 0, err
    report = json.loads(out_json.read_text())
    (result,) = report["submissions"]
    scores = {c["name"]: c["score"] for c in result["checks"] if c["visibility"] == "hidden"}
    return scores, out, err, out_json.read_text()


def test_the_command_line_says_once_without_a_secret(replay, tmp_path, capsys):
    scores, out, err, _ = _grade_replay(capsys, replay, tmp_path)
    assert err.count(NOTICE) == 1 and NOTICE not in out
    assert all(s > 0 for s in scores.values()), scores


@pytest.mark.parametrize("source", ["env", "file"])
def test_the_command_line_grades_with_the_secret(replay, tmp_path, capsys, monkeypatch, source):
    if source == "env":
        monkeypatch.setenv(SECRET_ENV, SECRET)
        extra: tuple[str, ...] = ()
    else:
        (tmp_path / "secret").write_text(SECRET + "\n")
        extra = ("--secret-file", str(tmp_path / "secret"))
    scores, out, err, written = _grade_replay(capsys, replay, tmp_path, *extra)
    assert scores and all(s == 0 for s in scores.values()), scores
    assert NOTICE not in err
    everything = out + err + written
    assert SECRET not in everything and secret_digest(SECRET) not in everything


def test_the_bundled_examples_run_says_it_once(monkeypatch, capsys):
    graded = []
    monkeypatch.setattr("gradekit.cli._grade_one", lambda *a: graded.append(a[2:]))
    code, _, err = _run(capsys, "grade")
    assert code == 0 and len(graded) == len(BUNDLED)
    assert err.count(NOTICE) == 1 and len(err.strip().splitlines()) == 1
    assert all(secret is None for _, _, secret in graded)
    monkeypatch.setenv(SECRET_ENV, SECRET)
    graded.clear()
    code, _, err = _run(capsys, "grade")
    assert code == 0 and NOTICE not in err
    assert [secret for _, _, secret in graded] == [SECRET] * len(BUNDLED)


def test_no_notice_for_an_assignment_without_hidden_checks(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "open"
    folder.mkdir()
    (folder / "assignment.toml").write_text(
        'name = "open"\ntitle = "Open"\n[[checks]]\nid = "relu.values"\ntype = "values"\n'
        'component = "activations/relu"\n'
    )
    monkeypatch.setattr("gradekit.cli._grade_one", lambda *a: None)
    code, _, err = _run(capsys, "grade", "-a", str(folder))
    assert code == 0 and NOTICE not in err
