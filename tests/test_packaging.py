"""Packaging and import hygiene: the right packages are imported, light imports stay light, no cycles."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("interactions", "generators", "estimators", "reports")


@pytest.mark.parametrize("name", PACKAGES)
def test_packages_resolve_into_this_repository(name):
    # generators, estimators and reports are also unrelated distributions on PyPI
    module = __import__(name)
    assert Path(module.__file__).resolve().is_relative_to(ROOT / name)


def _imported_top_level(package: str) -> set[str]:
    names: set[str] = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module)
    return names


@pytest.mark.parametrize("package", ["generators", "estimators", "reports"])
def test_dependency_direction(package):
    """generators, estimators and reports use only the project-free modules of interactions."""
    imported = _imported_top_level(package)
    others = {p for p in PACKAGES if p not in (package, "interactions")}
    assert not {m for m in imported if m.split(".")[0] in others}, f"{package} imports a sibling package"
    shared = {
        "interactions.types",
        "interactions.registry",
        "interactions.gaussian_info",
        "interactions.atomic",
    }
    project = {m for m in imported if m.split(".")[0] == "interactions"}
    assert project <= shared, f"{package} imports {sorted(project - shared)} from interactions"


def test_light_imports_do_not_load_torch():
    code = (
        "import sys, interactions, generators, estimators, reports\n"
        "generators.make('xor').sample(8, seed=0)\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
