"""The severity cap of ``credit.cap_severe``, pinned: which checks it scales, by how much,
where the cap starts, how scores are rounded and what every capped check says."""

from __future__ import annotations

from gradekit.credit import SEVERE_CAP, cap_severe, credit
from gradekit.results import CaseResult, CheckResult


def check(
    name: str,
    component: str,
    score: float,
    *,
    max_score: float = 1.0,
    visibility: str = "public",
    severe: str | None = None,
    message: str = "",
) -> CheckResult:
    """A check's result; ``severe`` names a failed case that makes it fail its purpose."""
    cases = [CaseResult(name="ok", passed=True)]
    if severe:
        cases.append(CaseResult(name=severe, passed=False, severe=True))
    return CheckResult(
        name=name,
        title=name,
        component=component,
        type="values",
        status="failed" if severe else "passed",
        score=score,
        max_score=max_score,
        message=message,
        visibility=visibility,
        cases=cases,
    )


def scores(results: list[CheckResult]) -> list[float]:
    return [r.score for r in results]


def test_the_cap_is_half_of_the_points():
    assert SEVERE_CAP == 0.5
    out = cap_severe([check("a", "relu", 0.9, severe="nan")])
    assert out[0].score == 0.5


def test_a_component_at_exactly_the_cap_keeps_its_score_and_says_nothing():
    """The cap applies above half the points; at half the check is left as it was."""
    at_cap = [check("a", "relu", 0.5, severe="nan"), check("b", "relu", 0.5)]
    out = cap_severe(at_cap)
    assert scores(out) == [0.5, 0.5]
    assert [r.message for r in out] == ["", ""]
    just_above = cap_severe([check("a", "relu", 0.5, severe="nan"), check("b", "relu", 0.51)])
    assert 1.0 - 2e-6 <= sum(scores(just_above)) <= 2 * SEVERE_CAP
    assert all("credit capped" in r.message for r in just_above)


def test_only_the_failing_component_is_capped_whatever_comes_first():
    """Components are capped one by one: one without a severe case, or one under the cap,
    before another changes nothing for the other."""
    results = [
        check("clean", "tanh", 1.0),
        check("under", "relu", 0.2, severe="nan"),
        check("over", "sigmoid", 1.0, severe="saturates"),
        check("over2", "sigmoid", 1.0),
    ]
    out = cap_severe(results)
    assert scores(out)[:2] == [1.0, 0.2]
    assert scores(out)[2:] == [0.5, 0.5]
    assert [r.message for r in out[:2]] == ["", ""]


def test_public_and_hidden_checks_are_capped_separately():
    """Hidden checks under the cap keep their score while the public ones are scaled."""
    results = [
        check("pub", "relu", 1.0, severe="nan"),
        check("pub2", "relu", 1.0),
        check("hid", "relu", 0.25, visibility="hidden"),
    ]
    out = cap_severe(results)
    assert scores(out) == [0.5, 0.5, 0.25]
    assert all("credit capped" in r.message for r in out)


def test_capped_scores_are_rounded_down_to_a_millionth():
    """Three checks at 1 of 1 capped to 1.5 in all: 0.5 each; shares never above the cap."""
    out = cap_severe([check(n, "relu", 1.0, severe="nan" if n == "a" else None) for n in "abc"])
    assert scores(out) == [0.5, 0.5, 0.5]
    thirds = cap_severe(
        [check("a", "relu", 1.0, severe="nan"), check("b", "relu", 0.7, max_score=2.0)]
    )
    assert scores(thirds) == [0.882352, 0.617647]  # 1.5/1.7 and 0.7 * 1.5/1.7, rounded down
    assert sum(scores(thirds)) <= 1.5


def test_the_message_names_the_component_and_its_first_severe_case():
    results = [
        check("first", "relu", 1.0, severe="nan on large inputs", message="dx wrong"),
        check("second", "relu", 1.0, severe="inf at zero"),
    ]
    out = cap_severe(results)
    why = "credit capped at 50% of relu's points: first fails its purpose (nan on large inputs)"
    assert out[0].message == f"dx wrong; {why}"
    assert out[1].message == why


def test_a_component_of_one_check_is_capped():
    (out,) = cap_severe([check("only", "relu", 0.8, severe="nan")])
    assert out.score == 0.5
    assert out.message.startswith("credit capped at 50% of relu's points: only fails")


def test_no_weight_at_all_earns_nothing():
    from gradekit.checks import Case

    assert credit([Case("a", True, weight=0.0), Case("b", False, weight=0.0)]) == 0.0
