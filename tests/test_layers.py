"""The domain imports no view, and migrations import nothing of the package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WEB_PACKAGES = ("portal.submissions", "portal.review", "portal.publishing")


def _modules_loaded_by(code: str) -> list[str]:
    """Run `code` in a fresh interpreter; return the portal modules it loaded."""
    probe = code + "\nimport sys\nprint(' '.join(m for m in sys.modules if m.startswith('portal')))"
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return done.stdout.split()


DOMAIN = [
    "portal.operations",
    "portal.workflow",
    "portal.models",
    "portal.search",
    "portal.caching",
    "portal.links",
    "portal.personal_data",
    "portal.accounts",
    "portal.questionnaire",
    "portal.notifications.emails",
    "portal.notifications.delivery",
    "portal.cli",  # the mail worker's entry: `flask mail deliver --loop`
]


def test_the_domain_loads_no_view():
    # One interpreter for all: a module that pulled in a view alone would do so here too.
    loaded = _modules_loaded_by("\n".join(f"import {module}" for module in DOMAIN))
    assert set(DOMAIN) <= set(loaded)
    assert [m for m in loaded if m.endswith(".views") or m.startswith(WEB_PACKAGES)] == []


def test_no_migration_imports_the_package():
    paths = sorted((ROOT / "migrations" / "versions").glob("0*.py"))
    assert len(paths) >= 11
    code = "import importlib.util\n" + "".join(
        f"spec = importlib.util.spec_from_file_location('m{i}', {str(path)!r})\n"
        "spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
        for i, path in enumerate(paths)
    )
    assert _modules_loaded_by(code) == []
