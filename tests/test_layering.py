"""The dependency rules of ARCHITECTURE.md, checked on the source: imports flow one way and
the core never imports Kivy."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "kiosk": {"kivy", "screens", "provisioning"},
    "devices": {"kivy", "screens", "kiosk", "offline_queue", "provisioning"},
    "offline_queue": {"kivy", "screens", "kiosk", "devices", "provisioning"},
    "provisioning": {"kivy", "screens"},
}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_what_the_architecture_allows(package: str) -> None:
    offenders = {
        str(p.relative_to(ROOT)): sorted(imported_roots(p) & FORBIDDEN[package])
        for p in (ROOT / package).rglob("*.py")
        if imported_roots(p) & FORBIDDEN[package]
    }
    assert offenders == {}


def test_the_layering_check_can_see_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from kivy.uix.label import Label\n    return Label\n")
    assert "kivy" in imported_roots(bad)
