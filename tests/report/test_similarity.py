"""Winnowed fingerprints: a renamed, recommented copy scores high, unrelated code low, the
starter template does not count, and submissions are only ever read as text."""

from __future__ import annotations

import os

import pytest

from gradekit.report.similarity import (
    COPY,
    FLOOR,
    class_similarity,
    fingerprints,
    kgrams,
    read_source,
    report_similarity,
    score,
    template_hashes,
    threshold,
    tokens,
    winnow,
)
from gradekit.results import GradeReport, SubmissionResult

TEMPLATE = '''"""Backpropagation: your layers."""

import numpy as np

import gradekit


class Linear:
    """Affine layer in row form."""

    def __init__(self, din, dout, weight_init=None, rng=None):
        self.rng = rng if rng is not None else np.random.default_rng()
        W = self.rng.standard_normal((din, dout)) / np.sqrt(din)
        self.params = {"W": W, "b": np.zeros(dout)}
        self.grads = {}


@gradekit.hookimpl
def gradekit_register(registry):
    registry.layers["linear"] = Linear
    registry.activations["relu"] = ReLU
    registry.activations["sigmoid"] = Sigmoid
'''

MINE = """
class ReLU:
    def forward(self, x, *, training=True):
        self.mask = x > 0
        return np.where(self.mask, x, 0.0)

    def backward(self, dout):
        # only where the input was positive
        return dout * self.mask


class Sigmoid:
    def forward(self, x, *, training=True):
        self.out = 1.0 / (1.0 + np.exp(-x))
        return self.out

    def backward(self, dout):
        return dout * self.out * (1.0 - self.out)


def softmax(z):
    shifted = z - z.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)
"""

RENAMED = '''
class ReLU:
    """My ReLU."""

    def forward(self, inp, *, training=True):
        self.keep = inp > 0   # remember the positive inputs
        return np.where(self.keep,
                        inp, 0.0)

    def backward(self, upstream):
        return upstream * self.keep


class Sigmoid:
    def forward(self, v, *, training=True):
        """The logistic function."""
        self.s = 1.0 / (1.0 + np.exp(-v))
        return self.s

    def backward(self, g):
        return g * self.s * (1.0 - self.s)


def softmax(scores):
    moved = scores - scores.max(axis=1, keepdims=True)
    ex = np.exp(moved)
    return ex / ex.sum(axis=1, keepdims=True)
'''

OTHER = """
class ReLU:
    def forward(self, x, *, training=True):
        self.x = x.copy()
        out = x.copy()
        out[out < 0] = 0
        return out

    def backward(self, dout):
        dx = dout.copy()
        dx[self.x <= 0] = 0
        return dx


class Sigmoid:
    def forward(self, x, *, training=True):
        pos = x >= 0
        z = np.zeros_like(x)
        z[pos] = np.exp(-x[pos])
        z[~pos] = np.exp(x[~pos])
        top = np.ones_like(x)
        top[~pos] = z[~pos]
        self.y = top / (1 + z)
        return self.y

    def backward(self, dout):
        y = self.y
        local = y - y ** 2
        return local * dout
"""


def _write(folder, name: str, text: str):
    path = folder / f"{name}.py"
    path.write_text(text)
    return path


def test_tokens_drop_comments_docstrings_layout_and_names():
    a = tokens('def f(x):\n    """Doc."""\n    # note\n    return x + 1  # one\n')
    b = tokens("def   g(  y ):\n\n    return (y\n            + 1)\n")
    assert a == ["def", "V", "(", "V", ")", ":", "return", "V", "+", "1"]
    assert b == ["def", "V", "(", "V", ")", ":", "return", "(", "V", "+", "1", ")"]
    assert tokens('x = "text"\n') == ["V", "=", "S"]


def test_a_broken_file_keeps_the_code_before_the_error():
    assert tokens("x = 1\ny = (2,\n")[:3] == ["V", "=", "1"]


def test_winnowing_keeps_the_minimum_of_every_window():
    assert winnow([5, 3, 9, 7, 1, 8], w=3) == {3, 1}
    assert winnow([4, 2], w=3) == {2}
    assert winnow([], w=3) == set()
    assert kgrams(list("abcd"), k=2) == kgrams(list("xabcd"), k=2)[1:]  # stable hashes


def test_a_renamed_recommented_copy_scores_high_and_unrelated_code_low():
    template = template_hashes(None)
    mine = fingerprints(TEMPLATE + MINE, template)
    assert score(mine, fingerprints(TEMPLATE + RENAMED, template)) == 1.0
    assert score(mine, fingerprints(TEMPLATE + OTHER, template)) < 0.5


def test_the_template_does_not_count(tmp_path):
    starter = tmp_path / "starter"
    starter.mkdir()
    _write(starter, "submission", TEMPLATE)
    template = template_hashes(starter)
    assert template
    # With the template, the starter's code alone makes these two look alike.
    with_template = score(fingerprints(TEMPLATE + MINE), fingerprints(TEMPLATE + OTHER))
    without = score(
        fingerprints(TEMPLATE + MINE, template), fingerprints(TEMPLATE + OTHER, template)
    )
    assert without < with_template and without < 0.2
    assert not fingerprints(TEMPLATE, template)  # nothing of a student's own


def test_the_class_reports_only_the_pair_far_above_the_rest(tmp_path):
    starter = tmp_path / "starter"
    starter.mkdir()
    _write(starter, "submission", TEMPLATE)
    subs = tmp_path / "class"
    subs.mkdir()
    paths = {
        "ann": _write(subs, "ann", TEMPLATE + MINE),
        "ben": _write(subs, "ben", TEMPLATE + RENAMED),
        "cat": _write(subs, "cat", TEMPLATE + OTHER),
        "dan": _write(subs, "dan", TEMPLATE),  # the template untouched: nothing to compare
    }
    found = class_similarity(paths, starter)
    assert found.template and found.compared == 3 and found.not_compared == ["dan"]
    assert [(p.first, p.second) for p in found.pairs] == [("ann", "ben")]
    assert found.pairs[0].score == 1.0 and found.pairs[0].shared > 10
    assert found.median < found.threshold <= 1.0


def test_threshold_is_robust_and_has_a_floor():
    assert threshold([0.1, 0.12, 0.11, 0.13, 0.1, 0.95, 0.97]) < 0.95
    assert threshold([0.3, 0.35, 0.4, 0.45]) >= 0.6  # alike everywhere: nobody stands out
    assert threshold([]) == 0.6


def test_a_package_folder_is_read_as_its_python_files(tmp_path):
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("from .layers import *\n")
    (package / "sub" / "layers.py").write_text(MINE)
    (package / "notes.txt").write_text("not code")
    text = read_source(package)
    assert "softmax" in text and "not code" not in text


def test_unreadable_files_and_links_are_skipped_quietly(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text(MINE)
    (package / "link.py").symlink_to(tmp_path / "elsewhere.py")
    (tmp_path / "elsewhere.py").write_text("SECRET = 1\n")
    secret = package / "locked.py"
    secret.write_text("LOCKED = 1\n")
    secret.chmod(0)
    try:
        text = read_source(package)
    finally:
        secret.chmod(0o600)
    assert "SECRET" not in text
    if os.geteuid() != 0:  # root reads anything
        assert "LOCKED" not in text
    assert read_source(tmp_path / "missing.py") is None
    (tmp_path / "binary.py").write_bytes(b"\xff\xfe\x00 = 1\n")
    assert read_source(tmp_path / "binary.py") is not None  # decoded with replacements


def test_submissions_are_read_never_imported(tmp_path):
    marker = tmp_path / "imported"
    code = f"open({str(marker)!r}, 'w').write('x')\nraise SystemExit(3)\n" + MINE
    path = _write(tmp_path, "sneaky", code)
    result = SubmissionResult(
        submission="sneaky", path=str(path), assignment="a", score=0, max_score=0, checks=[]
    )
    report = GradeReport(gradekit_version="t", assignment="a", submissions=[result])
    found = report_similarity(report)
    assert found.compared == 1 and found.pairs == [] and not found.template
    assert not marker.exists()


@pytest.mark.parametrize("source", ["", "x = 1\n", "\x00\x00", "def f(:\n  pass\n"])
def test_degenerate_sources_give_no_fingerprints_and_no_error(source):
    assert len(fingerprints(source)) < 10


def test_a_copy_is_reported_however_widely_the_class_spreads():
    """Derived examples make many pairs alike; the spread then lifts the bar past 100%,
    and a renamed copy must still show."""
    scores = [1.0, 0.96, 0.96, 0.9, 0.5, 0.4, 0.3, 0.2, 0.1]
    assert threshold(scores) == COPY
    assert threshold([0.3, 0.31, 0.29, 0.3]) == FLOOR


def test_a_submission_no_reader_foresaw_is_left_out_and_the_class_goes_on(tmp_path, monkeypatch):
    from gradekit.report import similarity

    paths = {
        "ann": _write(tmp_path, "ann", TEMPLATE + MINE),
        "ben": _write(tmp_path, "ben", TEMPLATE + RENAMED),
        "eve": _write(tmp_path, "eve", TEMPLATE + OTHER),
    }
    real = similarity.fingerprints

    def fragile(source, template=()):
        if OTHER.strip() in source:
            raise RecursionError("a reader's surprise")
        return real(source, template)

    monkeypatch.setattr(similarity, "fingerprints", fragile)
    found = class_similarity(paths)
    assert found.not_compared == ["eve"] and found.compared == 2
    assert [(p.first, p.second) for p in found.pairs] == [("ann", "ben")]
