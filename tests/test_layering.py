"""The dependency rules of ARCHITECTURE.md, checked on the source: imports flow one way, the
core never imports Kivy, and demo scaffolding never reaches the production path."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROJECT = ("kiosk", "backoffice", "devices", "offline_queue", "provisioning", "screens")

# package -> module prefixes it must not import
FORBIDDEN = {
    "kiosk": {"kivy", "screens", "provisioning"},
    "devices": {"kivy", "screens", "kiosk", "backoffice", "offline_queue", "provisioning"},
    "offline_queue": {"kivy", "screens", "kiosk", "backoffice", "devices", "provisioning"},
    "provisioning": {"kivy", "screens", "backoffice"},
    # The reference back office is another system: it shares no code with the terminal.
    "backoffice": {"kivy", "screens", "kiosk", "devices", "offline_queue", "provisioning"},
    "screens": {"backoffice", "provisioning"},
}
# Demo scaffolding (scenes, demo citizens, the embedded back office) is reached only from the
# command line: the CLI itself, and the screenshot commands that the UI plugs into it.
DEMO_ONLY = ("kiosk.demo", "backoffice")
MAY_IMPORT_DEMO = ("kiosk/cli/", "kiosk/demo/", "screens/screenshot.py", "screens/contact.py")


def imported_modules(path: Path) -> set[str]:
    """Every absolute module an import statement in the file names (dotted, in full)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return found


def names(module: str, prefixes: set[str] | tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_what_the_architecture_allows(package: str) -> None:
    offenders = {
        str(p.relative_to(ROOT)): sorted(m for m in imported_modules(p)
                                         if names(m, FORBIDDEN[package]))
        for p in sources(package)
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_production_code_never_imports_demo_scaffolding() -> None:
    offenders = {}
    for package in PROJECT:
        for p in sources(package):
            rel = p.relative_to(ROOT).as_posix()
            if rel.startswith(MAY_IMPORT_DEMO) or rel.startswith("backoffice/"):
                continue
            bad = sorted(m for m in imported_modules(p) if names(m, DEMO_ONLY))
            if bad:
                offenders[rel] = bad
    assert offenders == {}


def test_the_layering_check_can_see_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from kivy.uix.label import Label\n    return Label\n"
                   "from kiosk.demo.scenes import SCENES\n")
    found = imported_modules(bad)
    assert names("kivy.uix.label", FORBIDDEN["devices"]) and "kivy.uix.label" in found
    assert any(names(m, DEMO_ONLY) for m in found)
    assert not names("kiosk.demonstration", DEMO_ONLY)
