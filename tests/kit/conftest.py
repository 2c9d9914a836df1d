"""Kits of the bundled assignments, built once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from gradekit.assignments import bundled_assignments, load_assignment
from gradekit.kit.build import write_kit


@pytest.fixture(scope="session")
def kits(tmp_path_factory) -> dict[str, Path]:
    """Every bundled assignment's kit folder, by assignment name."""
    root = tmp_path_factory.mktemp("kits")
    folders = {}
    for name in bundled_assignments():
        folders[name] = root / f"{name}-kit"
        write_kit(load_assignment(name), folders[name])
    return folders
