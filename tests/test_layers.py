"""The layers hold: the core never imports the jobs, the admin or the twins; production code never imports
the twins. Read from the source (every import statement, also inside functions), so a lazy import counts."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# package -> the top-level packages it must never import
FORBIDDEN = {
    "bridge": {"jobs", "admin_ui", "sandbox", "tests", "flask", "rq"},
    "jobs": {"admin_ui", "sandbox", "tests"},
    "admin_ui": {"sandbox", "tests"},
}


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
            # `from bridge import importer` imports bridge.importer too
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def _offences(folder: str, forbidden: tuple[str, ...] | set[str]) -> list[str]:
    """Every import below `folder` of a module in `forbidden` or inside one of them (migrations aside)."""
    offences = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for line, module in _imports(path):
            if any(module == f or module.startswith(f + ".") for f in forbidden):
                offences.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    return offences


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_nothing_above_it(package):
    offences = _offences(package, FORBIDDEN[package])
    assert not offences, "\n".join(offences)


# Inside the core: sub-package -> the core modules it must never import. The API clients speak transport and
# their service's vocabulary; storage keeps records. Neither knows how an order is imported.
FORBIDDEN_IN_CORE = {
    "bridge/magento": ("bridge.importer",),
    "bridge/amazon": ("bridge.importer",),
    "bridge/storage": ("bridge.importer",),
}


@pytest.mark.parametrize("folder", sorted(FORBIDDEN_IN_CORE))
def test_clients_and_storage_import_nothing_from_the_importer(folder):
    offences = _offences(folder, FORBIDDEN_IN_CORE[folder])
    assert not offences, "\n".join(offences)


def test_the_check_sees_lazy_imports(tmp_path):
    sample = tmp_path / "m.py"
    sample.write_text("def f():\n    from sandbox.server import ServerThread\n")
    assert (2, "sandbox.server") in _imports(sample)


def test_the_check_sees_a_subpackage_imported_by_name(tmp_path):
    sample = tmp_path / "m.py"
    sample.write_text("from bridge import importer\n")
    assert (1, "bridge.importer") in _imports(sample)
