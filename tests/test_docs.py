"""Every hook, protocol and reference component is documented (as datasette checks its hooks)."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

from gradekit import hookspecs
from gradekit.checks import check_kinds
from gradekit.components import KINDS
from gradekit_reference import COMPONENTS

DOCS = Path(__file__).parents[1] / "docs"
CONTRACT = (DOCS / "contract.md").read_text()
ALL_DOCS = "\n".join(p.read_text() for p in sorted(DOCS.glob("*.md")))
HOOKS = [
    name
    for name, fn in vars(hookspecs).items()
    if inspect.isfunction(fn) and hasattr(fn, f"{hookspecs.PROJECT}_spec")
]


def test_there_are_hooks():
    assert set(HOOKS) == {"gradekit_register", "gradekit_check_kinds"}


@pytest.mark.parametrize("hook", HOOKS)
def test_hookspec_is_documented(hook):
    doc = inspect.getdoc(getattr(hookspecs, hook)) or ""
    assert len(doc.split()) >= 30, f"{hook}'s docstring is the contract: say what it does"
    assert f"`{hook}(" in ALL_DOCS, f"no page in docs/ documents {hook}"


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_is_documented(kind):
    protocol = KINDS[kind].protocol
    assert inspect.getdoc(protocol), f"{protocol.__name__} has no docstring"
    methods = KINDS[kind].methods
    assert methods, f"{protocol.__name__} defines no method"
    for name in methods:
        assert inspect.getdoc(getattr(protocol, name)), f"{protocol.__name__}.{name} undocumented"
    assert re.search(rf"^### .*`{kind}`", CONTRACT, re.M), f"docs/contract.md lacks `{kind}`"


REFERENCE = [(kind, name) for kind, table in COMPONENTS.items() for name in table]


@pytest.mark.parametrize(("kind", "name"), REFERENCE)
def test_every_reference_component_is_documented(kind, name):
    factory = COMPONENTS[kind][name]
    assert f"`{name}`" in CONTRACT, f"docs/contract.md does not list {kind} `{name}`"
    assert f"{factory.__name__}(" in CONTRACT, (
        f"docs/contract.md lacks {factory.__name__}'s signature"
    )
    doc = inspect.getdoc(factory) or ""
    assert len(doc.split()) >= 8, f"{factory.__name__} needs a docstring with its formula"
    for method, fn in inspect.getmembers(factory, inspect.isfunction):
        if not method.startswith("_") or method == "__call__":
            assert inspect.getdoc(fn), f"{factory.__name__}.{method} has no docstring"


@pytest.mark.parametrize(("kind", "name"), REFERENCE)
def test_contract_signature_matches_the_reference(kind, name):
    factory = COMPONENTS[kind][name]
    documented = re.search(rf"\| `{factory.__name__}\(([^)]*)\)` \|", CONTRACT).group(1)
    call = ast.parse(f"f({documented})", mode="eval").body
    names = [a.id for a in call.args] + [k.arg for k in call.keywords]
    defaults = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
    params = inspect.signature(factory).parameters.values()
    assert names == [p.name for p in params]
    assert defaults == {p.name: p.default for p in params if p.default is not p.empty}


GRADING = (DOCS / "grading.md").read_text()


@pytest.mark.parametrize("name", sorted(check_kinds()))
def test_every_check_kind_is_documented(name):
    kind = check_kinds()[name]
    assert f"| `{name}` |" in GRADING, f"docs/grading.md has no row for the {name} check"
    assert kind.summary, f"the {name} check has no one-line summary"
    assert inspect.getdoc(type(kind).options), f"the {name} check's options are undocumented"
