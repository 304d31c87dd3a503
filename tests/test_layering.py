"""Apps depend one way: scorecards → feedback → journeys → core. Read from the source
(every import statement, including those inside functions), so a new import that breaks
the rule fails here, whatever the tests exercise."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ["cxplatform", "journeys", "feedback", "scorecards"]  # each may import the left
# Project wiring, not the core's domain: the URLconf mounts every app's urls and API.
WIRING = {"cxplatform/urls.py"}


def imports_of(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            # "from feedback import tasks" names the module in the alias
            found.extend((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)
    return found


def sources(app: str) -> list[Path]:
    return [p for p in sorted((ROOT / app).rglob("*.py")) if "migrations" not in p.parts]


@pytest.mark.parametrize("app", LAYERS)
def test_an_app_imports_only_the_apps_below_it(app):
    above = LAYERS[LAYERS.index(app) + 1 :]
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in sources(app)
        if str(path.relative_to(ROOT)) not in WIRING
        for line, name in imports_of(path)
        if name.split(".")[0] in above
    ]
    assert wrong == []


def test_no_services_module_imports_a_tasks_module():
    """Tasks import services; services start tasks by name (cxplatform.queue.enqueue)."""
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for app in LAYERS
        for path in sources(app)
        if "services" in path.parts or path.stem == "services"
        for line, name in imports_of(path)
        if ".tasks" in f".{name}" or name.endswith(".tasks")
    ]
    assert wrong == []


def test_no_app_imports_modules_by_computed_name():
    """No ``importlib`` / ``__import__`` (an ImportError swallowed hides a broken app):
    contributions between apps go through cxplatform.extensions."""
    wrong = [
        f"{path.relative_to(ROOT)}"
        for app in LAYERS
        for path in sources(app)
        if "importlib" in path.read_text() or "__import__(" in path.read_text()
    ]
    assert wrong == []
