"""An assignment's template as a notebook, for courses that live in Jupyter.

The template's module docstring becomes the title cell and its imports the first code
cell. Each component then gets a markdown cell (its class docstring and every method's:
the formula and the lecture's section), a code cell with its class and TODOs, and a
check cell (``gradekit.check("relu")``, tagged ``gradekit: skip``: it is not part of the
submission). The hook's cell and a cell that checks everything close the notebook.
"""

from __future__ import annotations

import ast
import re
from typing import Any

from ..notebook.convert import SKIP_TAG

SUBMISSION = "submission.ipynb"
HOOK = "gradekit_register"
_SECTION = re.compile(r"#\s*-{3,}\s*(\w.*)$")
"""A template's section comment (``# ------- layers``), which becomes a heading."""
REGISTRATION = "## Registration\n\nKeep this cell: it hands your classes to gradekit."
EVERYTHING = (
    "## Check everything\n\nThe public checks of every component, on the notebook as last"
    " saved: save it first."
)
METADATA = {
    "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
    "language_info": {"name": "python"},
}
"""The notebook's kernel: Jupyter opens it with Python 3 without asking."""


def registered(hook: ast.FunctionDef) -> dict[str, str]:
    """The components the template's hook registers, as ``{class name: "kind/name"}``.

    Read from ``registry.KIND["name"] = Class`` and from the loop form ``for name, cls in
    {"name": Class, ...}.items(): registry.KIND[name] = cls``; the source is never run.
    """
    found: dict[str, str] = {}
    for node in ast.walk(hook):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            kind, key = _registry_slot(node.targets[0])
            if kind and isinstance(key, ast.Constant) and isinstance(node.value, ast.Name):
                found[node.value.id] = f"{kind}/{key.value}"
        elif isinstance(node, ast.For) and isinstance(node.iter, ast.Call):
            table = getattr(node.iter.func, "value", None)
            kinds = [_registry_slot(t)[0] for s in node.body for t in getattr(s, "targets", [])]
            kind = next((k for k in kinds if k), None)
            if kind and isinstance(table, ast.Dict):
                for key, value in zip(table.keys, table.values, strict=True):
                    if isinstance(key, ast.Constant) and isinstance(value, ast.Name):
                        found[value.id] = f"{kind}/{key.value}"
    return found


def _registry_slot(target: ast.expr) -> tuple[str | None, ast.expr | None]:
    """``("activations", <key>)`` for a target ``registry.activations[key]``, else Nones."""
    if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Attribute):
        owner = target.value.value
        if isinstance(owner, ast.Name) and owner.id == "registry":
            return target.value.attr, target.slice
    return None, None


def describe(cls: ast.ClassDef, component: str | None) -> str:
    """A component's markdown cell: its heading, its docstring, each method's docstring."""
    heading = f"## {cls.name}" + (f" (`{component}`)" if component else "")
    parts = [heading, ast.get_docstring(cls) or ""]
    for node in cls.body:
        doc = ast.get_docstring(node) if isinstance(node, ast.FunctionDef) else None
        if doc:
            parts.append(f"**`{node.name}`**: " + " ".join(doc.split()))
    return "\n\n".join(p for p in parts if p)


def _check(name: str | None = None) -> Any:
    """A check cell, tagged so that grading leaves it out."""
    from nbformat.v4 import new_code_cell

    call = f'gradekit.check("{name}")' if name else "gradekit.check()"
    return new_code_cell(f"import gradekit\n\n{call}", metadata={"tags": [SKIP_TAG]})


def notebook_text(source: str, title: str) -> str:
    """The template ``source`` as the text of a notebook file (see ``template_notebook``)."""
    import nbformat

    return nbformat.writes(template_notebook(source, title))


def template_notebook(source: str, title: str) -> Any:
    """The template ``source`` (a module) as a notebook, titled ``title``."""
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    tree = ast.parse(source)
    lines = source.splitlines()
    hooks = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == HOOK]
    components = registered(hooks[0]) if hooks else {}
    intro = ast.get_docstring(tree)
    cells = [new_markdown_cell(f"# {title}\n\n{intro or ''}".strip())]
    plain = None  # the last cell, while it holds plain code (imports): the next joins it
    end = 0
    for node in tree.body[1 if intro else 0 :]:
        start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
        between, code = lines[end : start - 1], lines[start - 1 : node.end_lineno]
        end = node.end_lineno or node.lineno
        headings = [m[1] for line in between if (m := _SECTION.match(line.strip()))]
        if headings or isinstance(node, ast.ClassDef) or node in hooks:
            plain = None
        cells += [new_markdown_cell(f"## {h[:1].upper()}{h[1:]}") for h in headings]
        if isinstance(node, ast.ClassDef):
            component = components.get(node.name)
            cells += [new_markdown_cell(describe(node, component)), new_code_cell("\n".join(code))]
            cells += [_check(component.split("/")[1])] if component else []
        elif node in hooks:
            cells += [new_markdown_cell(REGISTRATION), new_code_cell("\n".join(code))]
        elif plain is not None:
            plain.source += "\n" + "\n".join([*between, *code])
        else:
            plain = new_code_cell("\n".join(code))
            cells.append(plain)
    cells += [new_markdown_cell(EVERYTHING), _check()]
    return new_notebook(cells=cells, metadata=METADATA)
