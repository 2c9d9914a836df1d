"""Bad assignment files get one clear error naming the file, the check and the field."""

from __future__ import annotations

import pytest

from gradekit.assignments import AssignmentError, load_assignment

GOOD_CHECK = 'type = "gradient"\ncomponent = "activations/relu"\n'
HEAD = 'name = "demo"\ntitle = "Demo"\n'

BAD = {
    "toml syntax": (HEAD + "[[checks]\n", r"not valid TOML"),
    "missing title": (
        'name = "demo"\n[[checks]]\nid = "a"\n' + GOOD_CHECK,
        r"field 'title': Field required",
    ),
    "unknown type": (
        HEAD + '[[checks]]\nid = "a"\ntype = "gradiant"\ncomponent = "activations/relu"\n',
        r"checks\[0\] \(a\) field 'type': .*unknown check type 'gradiant'",
    ),
    "unknown field": (
        HEAD + '[[checks]]\nid = "a"\npoint = 3\n' + GOOD_CHECK,
        r"checks\[0\] \(a\) field 'point': Extra inputs are not permitted",
    ),
    "negative points": (
        HEAD + '[[checks]]\nid = "a"\npoints = -1\n' + GOOD_CHECK,
        r"checks\[0\] \(a\) field 'points': Input should be greater than or equal to 0",
    ),
    "bad visibility": (
        HEAD + '[[checks]]\nid = "a"\nvisibility = "secret"\n' + GOOD_CHECK,
        r"field 'visibility'",
    ),
    "kind mismatch": (
        HEAD + '[[checks]]\nid = "a"\ntype = "update"\ncomponent = "activations/relu"\n',
        r"a update check applies to optimizers, not activations",
    ),
    "bad option": (
        HEAD + '[[checks]]\nid = "a"\noptions = { directoins = 2 }\n' + GOOD_CHECK,
        r"checks\[0\] \(a\): field 'options.directoins': Extra inputs are not permitted",
    ),
    "bad option type": (
        HEAD + '[[checks]]\nid = "a"\noptions = { batch = "many" }\n' + GOOD_CHECK,
        r"field 'options.batch': Input should be a valid integer",
    ),
    "duplicate id": (
        HEAD + '[[checks]]\nid = "a"\n' + GOOD_CHECK + '[[checks]]\nid = "a"\n' + GOOD_CHECK,
        r"check id 'a' is used twice",
    ),
    "no checks": (HEAD + "checks = []\n", r"field 'checks'"),
    "bad limit": (
        HEAD + "limits = { memory_mb = 10 }\n[[checks]]\n" + GOOD_CHECK,
        r"field 'limits.memory_mb': Input should be greater than or equal to 256",
    ),
    "unknown limit": (
        HEAD + "limits = { memroy_mb = 1000 }\n[[checks]]\n" + GOOD_CHECK,
        r"field 'limits.memroy_mb': Extra inputs are not permitted",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_spec_names_file_check_and_field(tmp_path, case):
    text, pattern = BAD[case]
    spec = tmp_path / "assignment.toml"
    spec.write_text(text)
    with pytest.raises(AssignmentError, match=pattern) as info:
        load_assignment(tmp_path)
    assert str(info.value).startswith(str(spec))
    assert "\n" not in str(info.value)


def test_unknown_bundled_name_lists_the_bundled_ones():
    with pytest.raises(
        AssignmentError,
        match=r"no bundled assignment named 'backpropp'; did you mean 'backprop'; bundled: .*",
    ):
        load_assignment("backpropp")


def test_components_expand_into_one_check_each(tmp_path):
    (tmp_path / "assignment.toml").write_text(
        HEAD
        + '[[checks]]\ntype = "values"\ncomponents = ["activations/relu", "activations/tanh"]\n'
    )
    spec = load_assignment(tmp_path).spec
    assert [c.id for c in spec.checks] == ["relu.values", "tanh.values"]
    assert spec.seed_of(spec.checks[0]) != spec.seed_of(spec.checks[1])
