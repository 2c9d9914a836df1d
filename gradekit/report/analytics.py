"""What a class did, check by check: the numbers an instructor reads before the next lecture.

Pure functions from a :class:`~gradekit.results.GradeReport` to :class:`ClassAnalytics`:
per check the pass rate, the mean score and a histogram of scores; the misconceptions
named across the class, most common first, with the submissions that show each. A
submission that did not load ran no check: it is counted apart, never as a failure of
every check. The pairs of unusually similar submissions come from :mod:`.similarity`
(which reads files) and are only carried here.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from ..results import GradeReport, SubmissionResult
from .similarity import Similarity

BINS = 10
"""Score histograms have this many equal bins from 0 to the check's points (full marks
fall in the last)."""


class CheckStats(BaseModel):
    """One check across the submissions that loaded."""

    model_config = ConfigDict(extra="forbid")

    id: str
    title: str
    visibility: str
    max_score: float
    submissions: int
    """Submissions that loaded and ran this check."""
    passed: int
    pass_rate: float
    """``passed / submissions`` (0 when no submission ran the check)."""
    mean_score: float
    histogram: list[int]
    """Counts of scores in ``BINS`` equal bins of ``[0, max_score]``."""


class MisconceptionStats(BaseModel):
    """One misconception named somewhere in the class."""

    model_config = ConfigDict(extra="forbid")

    text: str
    count: int
    """How many submissions show it (in one check or several)."""
    submissions: list[str]
    checks: list[str]
    """The checks where it was named."""


class ClassAnalytics(BaseModel):
    """The class at a glance: per check, per misconception, and similar pairs."""

    model_config = ConfigDict(extra="forbid")

    assignment: str
    submissions: int
    not_loaded: list[str]
    """Submissions that did not load: they ran no check and are left out of the stats."""
    checks: list[CheckStats]
    misconceptions: list[MisconceptionStats]
    """Most common first, then alphabetically."""
    similarity: Similarity | None = None


def histogram(scores: list[float], max_score: float, bins: int = BINS) -> list[int]:
    """Counts of ``scores`` in ``bins`` equal bins of ``[0, max_score]``; full marks (and
    anything above) in the last bin, anything below 0 in the first."""
    counts = [0] * bins
    for score in scores:
        fraction = score / max_score if max_score > 0 else 1.0
        counts[min(max(int(fraction * bins), 0), bins - 1)] += 1
    return counts


def check_stats(loaded: list[SubmissionResult]) -> list[CheckStats]:
    """Every check that some loaded submission ran, in the order the checks first appear."""
    runs: dict[str, list] = {}
    for result in loaded:
        for check in result.checks:
            runs.setdefault(check.name, []).append(check)
    stats = []
    for name, checks in runs.items():
        first = checks[0]
        scores = [c.score for c in checks]
        passed = sum(c.status == "passed" for c in checks)
        stats.append(
            CheckStats(
                id=name,
                title=first.title,
                visibility=first.visibility,
                max_score=first.max_score,
                submissions=len(checks),
                passed=passed,
                pass_rate=passed / len(checks),
                mean_score=sum(scores) / len(scores),
                histogram=histogram(scores, first.max_score),
            )
        )
    return stats


def misconception_stats(loaded: list[SubmissionResult]) -> list[MisconceptionStats]:
    """Each misconception with the submissions and checks where it was named, most
    common first: a submission counts once however many checks name it."""
    seen: dict[str, tuple[dict[str, None], dict[str, None]]] = {}
    for result in loaded:
        for check in result.checks:
            if check.misconception:
                subs, checks = seen.setdefault(check.misconception, ({}, {}))
                subs[result.submission] = None
                checks[check.name] = None
    stats = [
        MisconceptionStats(
            text=text, count=len(subs), submissions=sorted(subs), checks=list(checks)
        )
        for text, (subs, checks) in seen.items()
    ]
    return sorted(stats, key=lambda m: (-m.count, m.text))


def class_analytics(report: GradeReport, similarity: Similarity | None = None) -> ClassAnalytics:
    """The class's analytics; ``similarity`` (from :mod:`.similarity`) is carried along."""
    loaded = [s for s in report.submissions if not s.load_error]
    return ClassAnalytics(
        assignment=report.assignment,
        submissions=len(report.submissions),
        not_loaded=[s.submission for s in report.submissions if s.load_error],
        checks=check_stats(loaded),
        misconceptions=misconception_stats(loaded),
        similarity=similarity,
    )
