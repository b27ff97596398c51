"""The domain imports no view, and migrations import nothing of the package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WEB_PACKAGES = ("portal.submissions", "portal.review", "portal.publishing")


def _modules_loaded_by(code: str) -> list[str]:
    """Run `code` in a fresh interpreter; return the portal modules it loaded."""
    probe = code + "\nimport sys\nprint(' '.join(m for m in sys.modules if m.startswith('portal')))"
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return done.stdout.split()


@pytest.mark.parametrize(
    "module",
    [
        "portal.operations",
        "portal.workflow",
        "portal.models",
        "portal.search",
        "portal.caching",
        "portal.links",
        "portal.personal_data",
        "portal.accounts",
        "portal.notifications.emails",
        "portal.notifications.delivery",
        "portal.cli",  # the mail worker's entry: `flask mail deliver --loop`
    ],
)
def test_the_domain_loads_no_view(module):
    loaded = _modules_loaded_by(f"import {module}")
    assert module in loaded
    assert [m for m in loaded if m.endswith(".views") or m.startswith(WEB_PACKAGES)] == []


@pytest.mark.parametrize(
    "path", sorted((ROOT / "migrations" / "versions").glob("0*.py")), ids=lambda p: p.stem
)
def test_a_migration_imports_nothing_from_the_package(path):
    code = (
        "import importlib.util\n"
        f"spec = importlib.util.spec_from_file_location('migration', {str(path)!r})\n"
        "spec.loader.exec_module(importlib.util.module_from_spec(spec))"
    )
    assert _modules_loaded_by(code) == []
