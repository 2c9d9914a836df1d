"""Assignments as data: a TOML spec validated by pydantic, with errors that name the field.

An assignment folder holds ``assignment.toml`` (the checks, points, tolerances,
visibility and seeds), a starter template, and public example submissions.
"""

from __future__ import annotations

import difflib
import hashlib
import hmac
import importlib.util
import os
import tomllib
from functools import cached_property
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .checks import Options, check_kinds
from .components import KINDS
from .errors import GradekitError

SPEC_FILE = "assignment.toml"
BUNDLED = "gradekit_assignments"


class AssignmentError(GradekitError):
    """A spec file that cannot be used; the message names the file, the field and why."""


class CheckSpec(BaseModel):
    """One check of an assignment: what it runs on, with what, for how many points."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")
    type: str
    component: str = Field(pattern=r"^[a-z_]+/[A-Za-z0-9_]+$")
    """``kind/name``, e.g. ``activations/relu``."""
    kwargs: dict[str, Any] = {}
    """Constructor arguments of the component (its hyperparameters)."""
    points: float = Field(default=1.0, ge=0)
    visibility: Literal["public", "hidden"] = "public"
    seed: int | None = None
    timeout: float | None = Field(default=None, gt=0)
    title: str = ""
    options: dict[str, Any] = {}

    @property
    def kind(self) -> str:
        return self.component.split("/")[0]

    @property
    def name(self) -> str:
        return self.component.split("/")[1]

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in check_kinds():
            raise ValueError(f"unknown check type {value!r}; known: {', '.join(check_kinds())}")
        return value

    @model_validator(mode="after")
    def _fits(self) -> CheckSpec:
        if self.kind not in KINDS:
            raise ValueError(f"unknown kind {self.kind!r} in component; kinds: {', '.join(KINDS)}")
        check = check_kinds()[self.type]
        if self.kind not in check.kinds:
            raise ValueError(
                f"a {self.type} check applies to {', '.join(check.kinds)}, not {self.kind}"
            )
        return self

    @cached_property
    def parsed_options(self) -> Options:
        """The options validated by the check type's own model."""
        return check_kinds()[self.type].options(**self.options)


class LimitsSpec(BaseModel):
    """Limits on a worker, overriding gradekit's defaults (see ``sandbox.runner.Limits``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    startup: float | None = Field(default=None, gt=0)
    submission: float | None = Field(default=None, gt=0)
    memory_mb: int | None = Field(default=None, ge=256)
    cpu_seconds: int | None = Field(default=None, gt=0)
    file_mb: int | None = Field(default=None, gt=0)
    open_files: int | None = Field(default=None, ge=16)
    processes: int | None = Field(default=None, ge=8)
    output_kb: int | None = Field(default=None, gt=0)


class AssignmentSpec(BaseModel):
    """A whole assignment: its name, a base seed, default limits, and its checks."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1] = 1
    name: str = Field(pattern=r"^[a-z][a-z0-9_\-]*$")
    title: str
    description: str = ""
    seed: int = 0
    timeout: float = Field(default=30.0, gt=0)
    """Seconds for one check's calls, unless the check sets its own."""
    limits: LimitsSpec = LimitsSpec()
    checks: list[CheckSpec] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _expand(cls, data: Any) -> Any:
        """A check may list ``components = [...]``: one check each, ids ``<name>.<id>``."""
        if not isinstance(data, dict) or not isinstance(data.get("checks"), list):
            return data
        checks = []
        for check in data["checks"]:
            if isinstance(check, dict) and "components" in check:
                rest = {k: v for k, v in check.items() if k != "components"}
                for component in check["components"]:
                    name = str(component).split("/")[-1]
                    suffix = rest.get("id", rest.get("type", "check"))
                    checks.append({**rest, "component": component, "id": f"{name}.{suffix}"})
            else:
                checks.append(check)
        return {**data, "checks": checks}

    @model_validator(mode="after")
    def _unique_ids(self) -> AssignmentSpec:
        seen: set[str] = set()
        for check in self.checks:
            if check.id in seen:
                raise ValueError(f"check id {check.id!r} is used twice")
            seen.add(check.id)
        return self

    def seed_of(self, check: CheckSpec, secret: str | None = None) -> int:
        """The check's seed: its own, or one derived from the assignment's seed and its id.

        A hidden check's seed is salted with the course ``secret`` when there is one, so
        its inputs cannot be computed from the public spec; public checks keep theirs.
        """
        if check.seed is not None:
            seed = check.seed
        else:
            digest = hashlib.sha256(f"{self.seed}:{check.id}".encode()).digest()
            seed = int.from_bytes(digest[:4], "little")
        if secret is None or check.visibility != "hidden":
            return seed
        return salted(seed, secret)

    @property
    def components(self) -> list[str]:
        """The components a submission must register, ``kind/name``, sorted."""
        return sorted({c.component for c in self.checks})


def salted(seed: int, secret: str) -> int:
    """``seed`` salted with ``secret``: HMAC-SHA256, 32 bits like a derived seed."""
    digest = hmac.new(secret.encode(), str(seed).encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:4], "little")


class Assignment:
    """A loaded assignment: its spec and its folder (starter, examples)."""

    def __init__(self, spec: AssignmentSpec, folder: Path, source: str = "") -> None:
        self.spec = spec
        self.folder = folder
        self.source = source or str(folder)
        """Where it was loaded from, for output: "the bundled NAME" or the spec file's path."""

    @property
    def name(self) -> str:
        return self.spec.name

    def with_checks(self, checks: list[CheckSpec]) -> Assignment:
        """The same assignment with other checks (validated again), e.g. a variant's."""
        spec = self.spec.model_copy(update={"checks": checks}).model_dump()
        return Assignment(AssignmentSpec.model_validate(spec), self.folder, self.source)

    def examples(self) -> list[Path]:
        """The public example submissions, sorted."""
        folder = self.folder / "examples"
        return sorted(p for p in folder.iterdir() if p.suffix == ".py") if folder.is_dir() else []


def _format(error: ValidationError, data: Any) -> str:
    problems = []
    for e in error.errors():
        loc = list(e["loc"])
        where = ""
        if len(loc) >= 2 and loc[0] == "checks" and isinstance(loc[1], int):
            checks = data.get("checks", []) if isinstance(data, dict) else []
            cid = (
                checks[loc[1]].get("id")
                if loc[1] < len(checks) and isinstance(checks[loc[1]], dict)
                else None
            )
            where = f"checks[{loc[1]}]" + (f" ({cid})" if cid else "")
            loc = loc[2:]
        field = ".".join(str(p) for p in loc)
        label = " ".join(x for x in (where, f"field {field!r}" if field else "") if x)
        problems.append(f"{label or 'spec'}: {e['msg']}")
    return "; ".join(problems)


def bundled_assignments() -> list[str]:
    """The names of the assignments that ship with gradekit, sorted (none in a student's
    engine, from a kit)."""
    if importlib.util.find_spec(BUNDLED) is None:
        return []
    root = Path(str(files(BUNDLED)))
    return sorted(p.name for p in root.iterdir() if (p / SPEC_FILE).is_file())


def is_path(name_or_path: str | Path) -> bool:
    """Whether an assignment argument names a path rather than a bundled assignment: a
    ``Path``, or text with a separator or ending in ``.toml``. A folder ``./backprop``
    (a kit, a class's submissions) then never shadows the bundled ``backprop``."""
    if isinstance(name_or_path, Path):
        return True
    separators = {os.sep, "/"} | ({os.altsep} if os.altsep else set())
    return any(s in name_or_path for s in separators) or name_or_path.endswith(".toml")


def load_assignment(name_or_path: str | Path) -> Assignment:
    """Load a bundled assignment by name, or an assignment folder or spec file by path
    (see ``is_path``); ``Assignment.source`` says which."""
    if is_path(name_or_path):
        path, source = Path(name_or_path), ""
    else:
        name = str(name_or_path)
        names = bundled_assignments()
        if name not in names:
            parts = [
                f"no bundled assignment named {name!r}",
                f"bundled: {', '.join(names) or 'none in this install'}",
            ]
            close = difflib.get_close_matches(name, names, n=1)
            if close:
                parts.insert(1, f"did you mean {close[0]!r}")
            if Path(name).exists():
                parts.append(f"for the folder {name}, write ./{name}")
            raise AssignmentError("; ".join(parts))
        path, source = Path(str(files(BUNDLED))) / name, f"the bundled {name}"
    spec_file = path / SPEC_FILE if path.is_dir() else path
    if not spec_file.is_file():
        raise AssignmentError(f"{spec_file}: no such assignment file")
    try:
        data = tomllib.loads(spec_file.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise AssignmentError(f"{spec_file}: not valid TOML: {exc}") from None
    try:
        spec = AssignmentSpec.model_validate(data)
        for i, check in enumerate(spec.checks):
            try:
                check.parsed_options  # noqa: B018  (validates now, not mid-grading)
            except ValidationError as exc:
                raise AssignmentError(
                    f"{spec_file}: checks[{i}] ({check.id}): "
                    + _format(exc, {}).replace("spec: ", "").replace("field '", "field 'options.")
                ) from None
    except ValidationError as exc:
        raise AssignmentError(f"{spec_file}: {_format(exc, data)}") from None
    return Assignment(spec, spec_file.parent, source or str(spec_file))
