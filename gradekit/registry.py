"""The registry a plugin fills, and the catalog that merges every plugin with provenance."""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from .components import KINDS
from .errors import RegistrationError

Origin = Literal["reference", "plugin", "submission"]


@dataclass(frozen=True)
class Source:
    """Where a component came from: the reference, an installed plugin, or a submission."""

    origin: Origin
    name: str
    """The plugin's name, e.g. ``reference`` or an entry point's name."""
    location: str
    """A file, folder or module path a person can find it by."""

    def __str__(self) -> str:
        return self.origin if self.origin == "reference" else f"{self.origin} {self.location}"


@dataclass(frozen=True)
class Entry:
    """One registered component: its kind, its name, what builds it and where it came from."""

    kind: str
    name: str
    factory: Callable[..., Any]
    source: Source

    @property
    def summary(self) -> str:
        """The first line of the factory's docstring, or ``""``."""
        doc = inspect.getdoc(self.factory) or ""
        return doc.splitlines()[0] if doc else ""

    def missing_methods(self) -> list[str]:
        """The protocol methods a registered class lacks (a factory function is not checked)."""
        if not inspect.isclass(self.factory):
            return []
        return [n for n in KINDS[self.kind].methods if not callable(getattr(self.factory, n, None))]


class Section(Mapping[str, Callable[..., Any]]):
    """The names a plugin registered under one kind; assignment validates the value."""

    def __init__(self, kind: str, source: Source) -> None:
        self._kind = kind
        self._source = source
        self._items: dict[str, Callable[..., Any]] = {}

    def __setitem__(self, name: str, factory: Callable[..., Any]) -> None:
        where = f"registry.{self._kind}[{name!r}]"
        if not isinstance(name, str) or not name.strip():
            raise RegistrationError(f"registry.{self._kind}: a name must be a non-empty string")
        if name in self._items:
            raise RegistrationError(f"{where} is registered twice by the same plugin")
        if not callable(factory):
            raise RegistrationError(
                f"{where} must be a class or callable that builds the component,"
                f" got {type(factory).__name__} {factory!r:.60}"
            )
        self._items[name] = factory

    def __getitem__(self, name: str) -> Callable[..., Any]:
        return self._items[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)


class Registry:
    """What ``gradekit_register`` receives: one section per kind, e.g. ``registry.optimizers``."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self._sections = {kind: Section(kind, source) for kind in KINDS}

    def __getattr__(self, kind: str) -> Section:
        sections = self.__dict__.get("_sections", {})
        if kind in sections:
            return sections[kind]
        if kind.startswith("__"):
            raise AttributeError(kind)
        close = difflib.get_close_matches(kind, KINDS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise RegistrationError(
            f"unknown kind registry.{kind}{hint}; the kinds are: {', '.join(KINDS)}"
        )

    def entries(self) -> list[Entry]:
        """Everything registered, in kind order then registration order."""
        return [
            Entry(kind, name, factory, self.source)
            for kind, section in self._sections.items()
            for name, factory in section.items()
        ]


class Catalog:
    """Every plugin's entries merged; a later plugin overrides an earlier one's name."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], list[Entry]] = {}

    def add(self, registry: Registry) -> None:
        """Merge one plugin's registrations, keeping what they override as history."""
        for entry in registry.entries():
            self._entries.setdefault((entry.kind, entry.name), []).append(entry)

    def get(self, kind: str, name: str, origin: Origin | None = None) -> Entry | None:
        """The winning entry for ``kind``/``name``, or the latest from ``origin``."""
        history = self._entries.get((kind, name), [])
        matches = [e for e in history if origin is None or e.source.origin == origin]
        return matches[-1] if matches else None

    def names(self, kind: str, origin: Origin | None = None) -> list[str]:
        """The registered names of ``kind``, sorted, optionally only from ``origin``."""
        return sorted(
            name
            for (k, name), history in self._entries.items()
            if k == kind and any(origin is None or e.source.origin == origin for e in history)
        )

    def __iter__(self) -> Iterator[Entry]:
        """Every entry, winners and overridden ones, in kind order then by name."""
        order = {kind: i for i, kind in enumerate(KINDS)}
        for key in sorted(self._entries, key=lambda k: (order[k[0]], k[1])):
            yield from self._entries[key]
