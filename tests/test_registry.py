"""The device registry is THE one table: every kind's fake and adapters conform to the kind's
Protocol, configs validate, and no other module writes the list of kinds out again."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from devices import registry
from devices.config import BuildContext, field_docs

ROOT = Path(__file__).resolve().parent.parent


def missing_members(obj: object, protocol: type) -> list[str]:
    """Protocol members the object lacks, or has with other parameters."""
    problems = []
    for name, member in vars(protocol).items():
        if name.startswith("_") or not (callable(member) or isinstance(member, property)):
            continue
        if not hasattr(obj, name):
            problems.append(f"{name}: missing")
            continue
        if callable(member):
            want = list(inspect.signature(member).parameters)[1:]
            have = list(inspect.signature(getattr(obj, name)).parameters)
            if want != have:
                problems.append(f"{name}{tuple(have)} instead of {tuple(want)}")
    return problems


# The least an adapter's config needs (nothing is opened by building an adapter).
EXAMPLE_SETTINGS = {"sam_serial": {"port": "loop://"}, "escpos_network": {"host": "127.0.0.1"},
                    "escpos_usb": {"usb_vendor": 0x04B8, "usb_product": 0x0202},
                    "escpos_serial": {"port": "loop://"}, "cups": {"queue": "kiosk-a4"},
                    "rs485_8a80": {"port": "loop://"}, "rs485_kerong": {"port": "loop://"}}


@pytest.mark.parametrize("kind", registry.KINDS, ids=lambda k: k.name)
def test_every_fake_and_available_adapter_conforms_to_its_kind(kind, tmp_path) -> None:  # type: ignore[no-untyped-def]
    built = [kind.fake()]
    for adapter in kind.adapters:
        if adapter.build is not None:
            config = adapter.config.model_validate(EXAMPLE_SETTINGS.get(adapter.name, {}))
            built.append(adapter.build(config, BuildContext(tmp_path)))
    assert all(missing_members(b, kind.protocol) == [] for b in built), [
        (type(b).__name__, missing_members(b, kind.protocol)) for b in built]
    assert kind.simulator.available  # the demo can always stand one in


def test_the_conformance_check_sees_a_missing_method() -> None:
    class NoStop:
        def status(self) -> None: ...
        def read(self) -> None: ...
        def card_present(self) -> None: ...
        def self_test(self) -> None: ...

    assert missing_members(NoStop(), registry.kind("id_reader").protocol) == ["stop: missing"]


def test_every_adapter_config_documents_every_field() -> None:
    for kind in registry.KINDS:
        for adapter in kind.adapters:
            undocumented = [n for n, doc in field_docs(adapter.config).items() if not doc]
            assert undocumented == [], f"{kind.name}.{adapter.name}: {undocumented}"


def literal_kind_lists(tree: ast.AST) -> list[int]:
    """Lines of list/tuple/set/dict literals that spell out three or more kind names."""
    lines = []
    for node in ast.walk(tree):
        items = node.keys if isinstance(node, ast.Dict) else getattr(node, "elts", None)
        if isinstance(node, ast.List | ast.Tuple | ast.Set | ast.Dict) and items:
            named = {i.value for i in items if isinstance(i, ast.Constant)
                     and i.value in registry.KIND_NAMES}
            if len(named) >= 3:
                lines.append(node.lineno)
    return lines


def test_the_kinds_are_listed_only_in_the_registry() -> None:
    offenders = {}
    for package in ("kiosk", "devices", "screens", "provisioning", "offline_queue"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path == ROOT / "devices/registry.py":
                continue
            lines = literal_kind_lists(ast.parse(path.read_text(encoding="utf-8")))
            if lines:
                offenders[str(path.relative_to(ROOT))] = lines
    assert offenders == {}


def test_the_kinds_check_sees_a_list_of_kinds() -> None:
    tree = ast.parse('KINDS = ("id_reader", "printer", "locker")\nx = ["printer"]\n')
    assert literal_kind_lists(tree) == [1]
