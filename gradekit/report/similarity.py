"""Pairs of submissions far more alike than the rest of the class, for a person to look at.

Fingerprints by winnowing (Schleimer, Wilkerson and Aiken, "Winnowing: local algorithms
for document fingerprinting", SIGMOD 2003), as MOSS and copydetect compute them. The
Python source is tokenized and normalised: comments, docstrings and layout are dropped,
every identifier becomes ``V`` and every string ``S``, keywords, operators and numbers
stay, so renaming variables or reflowing code changes nothing. Each run of ``K`` tokens
is hashed and, in every window of ``W`` consecutive hashes, the smallest is kept: any
match of at least ``K + W - 1`` tokens shares a fingerprint, and no match shorter than
``K`` does. Every k-gram of the assignment's starter template is removed first, so the
code every student was given does not count.

The similarity of two submissions is the fraction of the smaller one's fingerprints that
the other shares. A pair is reported when it lies far above the class's own distribution
(at least ``SPREAD`` robust standard deviations above the median pair) and reaches an
absolute ``FLOOR``, or when it shares ``COPY`` of its fingerprints whatever the class.
That is a reason for a person to read both, never a verdict: shared lecture code, a
study group or a common hint all make code alike.

Submissions are only read, as text: the ``.py`` file, or the ``.py`` files of a package
folder, regular files only, never through a link, never imported. A file that cannot be
read or decoded is skipped quietly.
"""

from __future__ import annotations

import hashlib
import io
import keyword
import statistics
import tokenize
from collections.abc import Iterable, Mapping
from itertools import combinations
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from ..results import GradeReport
from ..sandbox.intake import read_regular, submission_files

K = 12
"""Tokens per k-gram: the noise threshold (``V = V . V ( V , V )`` is 10 tokens)."""
W = 8
"""Hashes per window: every shared run of ``K + W - 1`` tokens is found."""
FLOOR = 0.6
"""No pair sharing less than this fraction of its fingerprints is reported."""
SPREAD = 4.0
"""A reported pair lies this many robust standard deviations above the class's median."""
COPY = 0.9
"""A pair sharing this fraction of its fingerprints is always reported: a small class, or
one whose pairs spread widely, must not hide a copy with comments and names changed."""
MIN_FINGERPRINTS = 10
"""A submission with fewer fingerprints of its own (beyond the template) is not compared."""
MAX_FILE_BYTES = 2_000_000
"""Larger files are not read (no submission's code is that long)."""

_DROPPED = frozenset(
    {
        tokenize.COMMENT,
        tokenize.NL,
        tokenize.NEWLINE,
        tokenize.INDENT,
        tokenize.DEDENT,
        tokenize.ENCODING,
        tokenize.ENDMARKER,
    }
)


class SimilarPair(BaseModel):
    """Two submissions and how much of the smaller one's code the other shares."""

    model_config = ConfigDict(extra="forbid")

    first: str
    second: str
    score: float
    """Shared fingerprints over the smaller submission's fingerprints, from 0 to 1."""
    shared: int


class Similarity(BaseModel):
    """The class's pairs that stand out, with the distribution they stand out from."""

    model_config = ConfigDict(extra="forbid")

    compared: int
    """Submissions with enough code of their own to compare."""
    template: bool
    """Whether a starter template was left out (else the code every student was handed
    counts too)."""
    not_compared: list[str]
    """Submissions left out: unreadable, or (almost) nothing beyond the template."""
    median: float
    """The median similarity of all compared pairs."""
    threshold: float
    """The similarity a pair had to reach to be reported."""
    pairs: list[SimilarPair]
    """The reported pairs, most similar first."""


def tokens(source: str) -> list[str]:
    """``source`` as normalised tokens: no comments, docstrings or layout; identifiers
    ``V``, strings ``S``; keywords, operators and numbers as written. Code after a
    tokenizing error is left out."""
    out: list[str] = []
    statement: list[tuple[int, str]] = []

    def flush() -> None:
        # A statement of strings alone is a docstring (or a string used as a comment).
        if any(kind != tokenize.STRING for kind, _ in statement):
            out.extend(text for _, text in statement)
        statement.clear()

    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
                flush()
            if tok.type in _DROPPED:
                continue
            if tok.type == tokenize.NAME and not keyword.iskeyword(tok.string):
                text = "V"
            elif tok.type == tokenize.STRING:
                text = "S"
            else:
                text = tok.string
            statement.append((tok.type, text))
    except (tokenize.TokenError, SyntaxError):
        pass
    flush()
    return out


def kgrams(toks: list[str], k: int = K) -> list[int]:
    """A 64-bit hash of every run of ``k`` tokens, in order (stable across processes)."""
    return [
        int.from_bytes(
            hashlib.blake2b("\x1f".join(toks[i : i + k]).encode(), digest_size=8).digest()
        )
        for i in range(len(toks) - k + 1)
    ]


def winnow(hashes: list[int], w: int = W) -> set[int]:
    """The minimum hash of every window of ``w`` consecutive hashes (all of them as one
    window when there are fewer)."""
    if not hashes:
        return set()
    size = min(w, len(hashes))
    return {min(hashes[i : i + size]) for i in range(len(hashes) - size + 1)}


def read_source(path: Path) -> str | None:
    """The Python text of a submission (its ``.py`` files, in order), or None when none
    can be read: regular files only, never through a link, undecodable bytes replaced."""
    try:
        files = [f for f in submission_files(path) if f.suffix == ".py"]
    except OSError:
        return None
    texts = []
    for file in files:
        try:
            texts.append(read_regular(file, MAX_FILE_BYTES).decode("utf-8", errors="replace"))
        except OSError:
            continue
    return "\n".join(texts) if texts else None


def template_hashes(starter: Path | None) -> set[int]:
    """Every k-gram of the starter template's ``.py`` files (none without a template)."""
    if starter is None or not starter.is_dir():
        return set()
    found: set[int] = set()
    for file in sorted(starter.rglob("*.py")):
        source = read_source(file)
        if source is not None:
            found.update(kgrams(tokens(source)))
    return found


def fingerprints(source: str, template: Iterable[int] = ()) -> set[int]:
    """The winnowed fingerprints of ``source`` that are no k-gram of the template."""
    return winnow(kgrams(tokens(source))) - set(template)


def score(a: set[int], b: set[int]) -> float:
    """Shared fingerprints over the smaller set's size (0 when either is empty)."""
    smaller = min(len(a), len(b))
    return len(a & b) / smaller if smaller else 0.0


def threshold(scores: list[float]) -> float:
    """The similarity a pair must reach to stand out: ``SPREAD`` robust standard
    deviations (1.4826 x the median absolute deviation) above the median, and ``FLOOR``.

    The median and its deviation barely move when a few pairs copied, so copies stand out
    however many of them there are, and a class where everyone writes alike flags nobody
    below ``COPY``, which is reported whatever the class.
    """
    if not scores:
        return FLOOR
    median = statistics.median(scores)
    spread = 1.4826 * statistics.median(abs(s - median) for s in scores)
    return min(max(FLOOR, median + SPREAD * spread), COPY)


def class_similarity(sources: Mapping[str, Path], starter: Path | None = None) -> Similarity:
    """The pairs of ``sources`` (name to file or package folder) that stand out, with the
    template in ``starter`` left out."""
    template = template_hashes(starter)
    prints: dict[str, set[int]] = {}
    for name, path in sources.items():
        try:
            source = read_source(path)
            found = fingerprints(source, template) if source is not None else set()
        except Exception:  # text no reader foresaw: that one submission is not compared
            found = set()
        if len(found) >= MIN_FINGERPRINTS:
            prints[name] = found
    scored = [(score(prints[a], prints[b]), a, b) for a, b in combinations(sorted(prints), 2)]
    bar = threshold([s for s, _, _ in scored])
    pairs = [
        SimilarPair(first=a, second=b, score=round(s, 4), shared=len(prints[a] & prints[b]))
        for s, a, b in sorted(scored, key=lambda t: (-t[0], t[1], t[2]))
        if s >= bar
    ]
    return Similarity(
        compared=len(prints),
        template=bool(template),
        not_compared=[name for name in sources if name not in prints],
        median=round(statistics.median(s for s, _, _ in scored), 4) if scored else 0.0,
        threshold=round(bar, 4),
        pairs=pairs,
    )


def report_similarity(report: GradeReport, starter: Path | None = None) -> Similarity:
    """:func:`class_similarity` of a grading run's submissions, read from their paths."""
    return class_similarity({s.submission: Path(s.path) for s in report.submissions}, starter)
